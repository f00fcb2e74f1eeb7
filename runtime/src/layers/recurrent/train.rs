//! The training path of the recurrent layers: backpropagation through time over the loop of
//! [`super::run`], with Keras's masks, `go_backwards`, `zero_output_for_mask`, `dropout` and
//! `recurrent_dropout`, and the final states `return_state` returns.
//!
//! The forward pass keeps, per sample and per time step, the gates' pre-activations and
//! activations, the recurrent product's operand and a few cell-specific vectors (an
//! [`RnnCache`]); the inference path, which fuses the gates and keeps only the state, is not
//! touched. Products run over the batch: the input projections of all of a sample's steps are
//! one matrix product, each step's recurrent products one product over up to [`LOCKSTEP`]
//! samples (forward `U·h`, backward `Uᵀ·∂z`), and the weight gradients one product per sample
//! over its steps.
//!
//! Masked steps (Keras's mask `false` at the step's original time index) leave the state alone
//! and output the previous output, or zeros with `zero_output_for_mask`: the gradient of the
//! state passes them unchanged, and their records are zero, so they add nothing to the weight
//! gradients.
//!
//! Dropout (Keras's `DropoutRNNCell`): the masks are drawn once per call and sample from the
//! trainer's generator and kept for every step; a kept value is multiplied by
//! `1 / f32(1 − rate)`, as Keras's mask `dropout(ones)` holds. SimpleRNN has one input and one
//! recurrent mask; LSTM and GRU one input mask shared by the gates while `recurrent_dropout` is
//! 0 (Keras's implementation 2), and one per gate, for the input and the state, otherwise
//! (implementation 1). The carry and state updates use the state without its mask.

use super::{Aligned, ReturnMode, CHUNK, LOCKSTEP};
use crate::kernels::{gemm, gemv};
use crate::train::products::{gemm_nt, gemm_tn, transpose_into};
use crate::train::{floats, floats_mut, Plain, Rng, TrainCtx};
use crate::Tensor;
use core::mem::MaybeUninit;

/// Floats of the transposed recurrent kernel [`backward`] keeps with the SIMD kernels (64 KiB of
/// stack, enough for an LSTM of 64 units; a larger kernel takes `gemm_tn`). None where there
/// are no SIMD kernels (a microcontroller).
#[cfg(simd_kernels)]
const TRANSPOSED: usize = 16384;
#[cfg(not(simd_kernels))]
const TRANSPOSED: usize = 0;

/// What one sample's training pass through a recurrent layer keeps for backward: `T` steps of a
/// cell with gate blocks `Gx` (`[[f32; UNITS]; G]`), input dropout masks `Mi` and recurrent
/// dropout masks `Mr`. Every per-step record is indexed by **time** (not processing order).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RnnCache<Gx, Mi, Mr, const UNITS: usize, const T: usize> {
    /// The gates' pre-activations; after backward, their gradients (input side).
    pub(crate) pre: [Gx; T],
    /// The gates' activations.
    pub(crate) post: [Gx; T],
    /// The operand of the step's recurrent product: the state before the step (times the
    /// recurrent dropout mask when one mask serves every gate).
    pub(crate) h_in: [[f32; UNITS]; T],
    /// Cell-specific vectors (LSTM: `c_{t−1}`, `c_t`, `act(c_t)`; GRU: `h_{t−1}` and the
    /// candidate's recurrent term and gradient).
    pub(crate) aux: [[[f32; UNITS]; 3]; T],
    /// The final state `h`, `c`.
    pub(crate) last: [[f32; UNITS]; 2],
    /// `∂loss/∂` the final state (`return_state`), added by the trainer before backward.
    pub(crate) dlast: [[f32; UNITS]; 2],
    /// The input dropout multipliers, per gate.
    pub(crate) in_mask: Mi,
    /// The recurrent dropout multipliers, per gate.
    pub(crate) rec_mask: Mr,
}

// SAFETY: `#[repr(C)]` over plain fields whose sizes are multiples of 4 and alignments at most
// 4: no padding, every bit pattern valid.
unsafe impl<Gx: Plain, Mi: Plain, Mr: Plain, const U: usize, const T: usize> Plain
    for RnnCache<Gx, Mi, Mr, U, T>
{
}

/// What the time loop needs from a cell to train it. `state` is `[h, c]` (`c` unused but by
/// LSTM).
pub(crate) trait TrainCell<const IN: usize, const U: usize> {
    /// One step's gate blocks, `[[f32; U]; G]` (SimpleRNN `[f32; U]`).
    type Gx: Plain;
    /// The input dropout multipliers, one block of `IN` per gate.
    type Mi: Plain;
    /// The recurrent dropout multipliers, one block of `U` per gate.
    type Mr: Plain;
    /// Gate blocks.
    const G: usize;

    /// Whether the input and the state are dropped (rates as the cell applies them).
    fn dropout_rates(&self) -> (f32, f32);
    /// Whether each gate has its own dropout masks (LSTM and GRU with recurrent dropout).
    fn per_gate(&self) -> bool;
    /// The kernel, column-major `G·U × IN`.
    fn kernel(&self) -> &[f32];
    /// The recurrent kernel, column-major `G·U × U`.
    fn recurrent(&self) -> &[f32];
    /// The bias added to the input projections (SimpleRNN, GRU's input row), if any (LSTM adds
    /// its bias in [`TrainCell::step`], as Keras does).
    fn input_bias(&self) -> Option<&[f32]>;
    /// How many gates' recurrent products are `R_g·h_in` before the gates (G, or 2 for GRU
    /// without `reset_after`, whose candidate product waits for the reset gate).
    fn product_gates(&self) -> usize;
    /// Keras `go_backwards`.
    fn go_backwards(&self) -> bool;
    /// Keras `zero_output_for_mask`.
    fn zero_output_for_mask(&self) -> bool;

    /// The rest of a forward step: `pre` holds the input projection (plus the input bias) and
    /// becomes the gates' pre-activations; `z` holds the recurrent products of the first
    /// [`product_gates`](TrainCell::product_gates) gates; the state advances; `post` and `aux`
    /// are filled.
    fn step(
        &self,
        pre: &mut Self::Gx,
        z: &Self::Gx,
        state: &mut [[f32; U]; 2],
        post: &mut Self::Gx,
        aux: &mut [[f32; U]; 3],
        rec_mask: &Self::Mr,
    );

    /// A step backwards: `carry` holds `∂h_t` and `∂c_t` and becomes the parts of `∂h_{t−1}`,
    /// `∂c_{t−1}` that do not pass through the recurrent products of the first
    /// [`product_gates`](TrainCell::product_gates) gates (the loop adds those from `drec`);
    /// `pre` becomes the gradients of the pre-activations (input side), `drec` those of the
    /// recurrent products.
    #[allow(clippy::too_many_arguments)]
    fn step_backward(
        &self,
        pre: &mut Self::Gx,
        post: &Self::Gx,
        aux: &mut [[f32; U]; 3],
        h_in: &[f32; U],
        carry: &mut [[f32; U]; 2],
        drec: &mut Self::Gx,
        rec_mask: &Self::Mr,
    );

    /// Adds one sample's recurrent-kernel gradient (and recurrent bias, GRU) into `grads`.
    fn recurrent_grads<const T: usize>(
        &self,
        cache: &RnnCache<Self::Gx, Self::Mi, Self::Mr, U, T>,
        rec: &mut [f32],
        bias: &mut [f32],
    );

    /// The gradient buffers of `grads`: kernel, recurrent kernel, bias (empty without bias; GRU
    /// with `reset_after`: both rows, the input row first).
    fn grad_parts(grads: &mut Self) -> (&mut [f32], &mut [f32], &mut [f32]);
}

/// Keras's multiplier of a kept value: `ones / keep_prob` in f32.
fn scale(rate: f32) -> f32 {
    1.0 / ((1.0 - f64::from(rate)) as f32)
}

/// Fills `values` with a dropout mask: `scale(rate)` with probability `1 − rate`, else 0.
fn draw(rng: &mut Rng, rate: f32, values: &mut [f32]) {
    if rate >= 1.0 {
        values.fill(0.0);
        return;
    }
    let (keep, kept) = (1.0 - rate, scale(rate));
    for v in values {
        *v = if rng.uniform() < keep { kept } else { 0.0 };
    }
}

/// `c[j·ldc + i] += a[i]·b[j]`: a rank-one update of the `a.len()` rows of a column-major block.
pub(crate) fn outer(c: &mut [f32], ldc: usize, a: &[f32], b: &[f32]) {
    for (j, &w) in b.iter().enumerate() {
        if w == 0.0 {
            continue;
        }
        for (c, &x) in c[j * ldc..j * ldc + a.len()].iter_mut().zip(a) {
            *c += x * w;
        }
    }
}

/// `y[j] += Σᵢ a[j·lda + i]·x[i]` over `x.len()` rows: a product with a block of rows of a
/// column-major matrix, transposed.
pub(crate) fn dot_t(a: &[f32], lda: usize, x: &[f32], y: &mut [f32]) {
    for (j, y) in y.iter_mut().enumerate() {
        let col = &a[j * lda..j * lda + x.len()];
        *y += col.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
    }
}

/// The gate block `g` (of `U` values) of a `G·U` slice.
fn block(values: &[f32], g: usize, u: usize) -> &[f32] {
    &values[g * u..(g + 1) * u]
}

/// The mask of gate `g` in a per-gate mask block (or the one shared mask, block 0).
fn gate_mask(masks: &[f32], g: usize, len: usize, per_gate: bool) -> &[f32] {
    let g = if per_gate { g } else { 0 };
    &masks[g * len..(g + 1) * len]
}

/// Whether step `t` of sample `s` runs (its mask, `T` entries per sample).
fn live<const T: usize>(masks: Option<&[bool]>, s: usize, t: usize) -> bool {
    masks.is_none_or(|m| m[s * T + t])
}

/// The training forward pass over a batch (`masks`: `T` per sample, or none).
pub(crate) fn forward<C, R, const IN: usize, const U: usize, const T: usize>(
    cell: &C,
    xs: &[Tensor<IN, T>],
    masks: Option<&[bool]>,
    ys: &mut [R::Output<U, T>],
    caches: &mut [RnnCache<C::Gx, C::Mi, C::Mr, U, T>],
    ctx: &mut TrainCtx,
) where
    C: TrainCell<IN, U>,
    R: ReturnMode,
{
    assert!(xs.len() == ys.len() && xs.len() == caches.len());
    let gu = C::G * U;
    let (rate_in, rate_rec) = cell.dropout_rates();
    let per_gate = cell.per_gate();
    let gates_in = if per_gate { C::G } else { 1 };
    // Masks per layer call: every sample's input masks, then every recurrent mask.
    for cache in caches.iter_mut() {
        let m = floats_mut(core::slice::from_mut(&mut cache.in_mask));
        m.fill(1.0);
        if rate_in > 0.0 {
            draw(&mut ctx.rng, rate_in, &mut m[..gates_in * IN]);
        }
    }
    for cache in caches.iter_mut() {
        let m = floats_mut(core::slice::from_mut(&mut cache.rec_mask));
        m.fill(1.0);
        if rate_rec > 0.0 {
            draw(&mut ctx.rng, rate_rec, &mut m[..gates_in * U]);
        }
    }
    // The input projections of every step, sample by sample.
    for (x, cache) in xs.iter().zip(caches.iter_mut()) {
        project::<C, IN, U, T>(cell, x, rate_in > 0.0, per_gate, cache);
    }
    let recurrent = cell.recurrent();
    let batched = !per_gate && cell.product_gates() == C::G;
    let shared_rec = rate_rec > 0.0 && !per_gate;
    let mut h = Aligned([[0.0f32; U]; LOCKSTEP]);
    let mut zs = [zeroed::<C::Gx>(); LOCKSTEP];
    for (g0, (caches, ys)) in caches
        .chunks_mut(LOCKSTEP)
        .zip(ys.chunks_mut(LOCKSTEP))
        .enumerate()
    {
        let s = caches.len();
        let mut states = [[[0.0f32; U]; 2]; LOCKSTEP];
        for i in 0..T {
            let t = if cell.go_backwards() { T - 1 - i } else { i };
            for k in 0..s {
                let hk = &mut h[k];
                hk.copy_from_slice(&states[k][0]);
                if shared_rec {
                    let m = floats(core::slice::from_ref(&caches[k].rec_mask));
                    for (v, m) in hk.iter_mut().zip(m) {
                        *v *= m;
                    }
                }
            }
            if batched {
                gemm(
                    gu,
                    U,
                    s,
                    recurrent,
                    &h.as_flattened()[..s * U],
                    &mut floats_mut(&mut zs[..s])[..s * gu],
                    false,
                );
            } else {
                for k in 0..s {
                    let z = floats_mut(core::slice::from_mut(&mut zs[k]));
                    z.fill(0.0);
                    let m = floats(core::slice::from_ref(&caches[k].rec_mask));
                    let mut hm = [0.0f32; U];
                    for g in 0..cell.product_gates() {
                        let mask = gate_mask(m, g, U, per_gate);
                        for ((v, &x), &m) in hm.iter_mut().zip(&states[k][0]).zip(mask) {
                            *v = x * m;
                        }
                        gemv(
                            U,
                            U,
                            &recurrent[g * U..],
                            gu,
                            &hm,
                            &mut z[g * U..(g + 1) * U],
                        );
                    }
                }
            }
            for k in 0..s {
                let cache = &mut caches[k];
                let on = live::<T>(masks, g0 * LOCKSTEP + k, t);
                if on {
                    cache.h_in[t] = h[k];
                    cell.step(
                        &mut cache.pre[t],
                        &zs[k],
                        &mut states[k],
                        &mut cache.post[t],
                        &mut cache.aux[t],
                        &cache.rec_mask,
                    );
                } else {
                    cache.pre[t] = zeroed();
                    cache.post[t] = zeroed();
                    cache.h_in[t] = [0.0; U];
                    cache.aux[t] = [[0.0; U]; 3];
                }
                if let Some(slot) = R::slot::<U, T>(&mut ys[k], i) {
                    if on || !cell.zero_output_for_mask() {
                        slot.copy_from_slice(&states[k][0]);
                    } else {
                        slot.fill(0.0);
                    }
                }
            }
        }
        for (cache, state) in caches.iter_mut().zip(&states) {
            cache.last = *state;
            cache.dlast = [[0.0; U]; 2];
        }
    }
}

/// A zero value of a plain type.
fn zeroed<P: Plain>() -> P {
    // SAFETY: every bit pattern of a `Plain` type is valid, all-zero included.
    unsafe { core::mem::zeroed() }
}

/// One sample's input projections `W·(x_t ⊙ m) (+ bias)` for every step, into `cache.pre`.
fn project<C, const IN: usize, const U: usize, const T: usize>(
    cell: &C,
    x: &Tensor<IN, T>,
    dropped: bool,
    per_gate: bool,
    cache: &mut RnnCache<C::Gx, C::Mi, C::Mr, U, T>,
) where
    C: TrainCell<IN, U>,
{
    let gu = C::G * U;
    let kernel = cell.kernel();
    let masks = floats(core::slice::from_ref(&cache.in_mask));
    let pre = floats_mut(&mut cache.pre[..]);
    let x = x.as_slice();
    if !dropped {
        gemm(gu, IN, T, kernel, x, pre, false);
    } else if !per_gate {
        let mask = &masks[..IN];
        let mut xm = [[0.0f32; IN]; CHUNK];
        let mut t = 0;
        while t < T {
            let n = CHUNK.min(T - t);
            for (j, row) in xm[..n].iter_mut().enumerate() {
                for ((v, &x), &m) in row.iter_mut().zip(&x[(t + j) * IN..]).zip(mask) {
                    *v = x * m;
                }
            }
            gemm(
                gu,
                IN,
                n,
                kernel,
                xm[..n].as_flattened(),
                &mut pre[t * gu..(t + n) * gu],
                false,
            );
            t += n;
        }
    } else {
        pre.fill(0.0);
        let mut xm = [0.0f32; IN];
        for t in 0..T {
            for g in 0..C::G {
                let mask = gate_mask(masks, g, IN, true);
                for ((v, &x), &m) in xm.iter_mut().zip(&x[t * IN..]).zip(mask) {
                    *v = x * m;
                }
                let out = &mut pre[t * gu + g * U..t * gu + (g + 1) * U];
                gemv(U, IN, &kernel[g * U..], gu, &xm, out);
            }
        }
    }
    if let Some(bias) = cell.input_bias() {
        for column in pre.chunks_exact_mut(gu) {
            for (v, b) in column.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }
}

/// The training backward pass over a batch: adds `∂loss/∂x` into `dxs` and the weights'
/// gradients into `grads`, each when given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward<C, R, const IN: usize, const U: usize, const T: usize>(
    cell: &C,
    xs: &[Tensor<IN, T>],
    masks: Option<&[bool]>,
    caches: &mut [RnnCache<C::Gx, C::Mi, C::Mr, U, T>],
    dys: &[R::Output<U, T>],
    mut dxs: Option<&mut [Tensor<IN, T>]>,
    mut grads: Option<&mut C>,
) where
    C: TrainCell<IN, U>,
    R: ReturnMode,
{
    assert!(xs.len() == dys.len() && xs.len() == caches.len());
    let gu = C::G * U;
    let (rate_in, rate_rec) = cell.dropout_rates();
    let per_gate = cell.per_gate();
    let batched = !per_gate && cell.product_gates() == C::G;
    let shared_rec = rate_rec > 0.0 && !per_gate;
    let recurrent = cell.recurrent();
    // With the SIMD kernels, the recurrent kernel (`G·U × U`) transposed once per batch, so that
    // each step's `∂h = Uᵀ·∂z` over the lockstep group is a plain product rather than
    // `gemm_tn`'s transposition of `∂z` and of the result at every step.
    let mut transposed = [MaybeUninit::<f32>::uninit(); TRANSPOSED];
    let recurrent_t = (batched && gu * U <= TRANSPOSED && crate::kernels::simd())
        .then(|| transpose_into(gu, U, recurrent, &mut transposed));
    let mut drec = [zeroed::<C::Gx>(); LOCKSTEP];
    let mut dh = Aligned([[0.0f32; U]; LOCKSTEP]);
    for (g0, (caches, dys)) in caches
        .chunks_mut(LOCKSTEP)
        .zip(dys.chunks(LOCKSTEP))
        .enumerate()
    {
        let s = caches.len();
        let mut carry = [[[0.0f32; U]; 2]; LOCKSTEP];
        for (c, cache) in carry.iter_mut().zip(caches.iter()) {
            *c = cache.dlast;
        }
        for i in (0..T).rev() {
            let t = if cell.go_backwards() { T - 1 - i } else { i };
            for k in 0..s {
                let on = live::<T>(masks, g0 * LOCKSTEP + k, t);
                if let Some(dy) = R::slot_ref::<U, T>(&dys[k], i) {
                    if on || !cell.zero_output_for_mask() {
                        for (c, d) in carry[k][0].iter_mut().zip(dy) {
                            *c += d;
                        }
                    }
                }
                let cache = &mut caches[k];
                if on {
                    cell.step_backward(
                        &mut cache.pre[t],
                        &cache.post[t],
                        &mut cache.aux[t],
                        &cache.h_in[t],
                        &mut carry[k],
                        &mut drec[k],
                        &cache.rec_mask,
                    );
                } else {
                    drec[k] = zeroed();
                }
            }
            if batched {
                let back = &mut dh.as_flattened_mut()[..s * U];
                let d = &floats(&drec[..s])[..s * gu];
                match recurrent_t {
                    Some(rt) => gemm(U, gu, s, rt, d, back, false),
                    None => {
                        back.fill(0.0);
                        gemm_tn(U, gu, s, recurrent, d, back);
                    }
                }
                for k in 0..s {
                    let m = floats(core::slice::from_ref(&caches[k].rec_mask));
                    for (j, (c, d)) in carry[k][0].iter_mut().zip(&dh[k]).enumerate() {
                        *c += if shared_rec { d * m[j] } else { *d };
                    }
                }
            } else {
                for k in 0..s {
                    if !live::<T>(masks, g0 * LOCKSTEP + k, t) {
                        continue;
                    }
                    let m = floats(core::slice::from_ref(&caches[k].rec_mask));
                    let d = floats(core::slice::from_ref(&drec[k]));
                    for g in 0..cell.product_gates() {
                        let mut back = [0.0f32; U];
                        dot_t(&recurrent[g * U..], gu, block(d, g, U), &mut back);
                        let mask = gate_mask(m, g, U, per_gate);
                        for ((c, b), m) in carry[k][0].iter_mut().zip(&back).zip(mask) {
                            *c += b * m;
                        }
                    }
                }
            }
        }
    }
    // The weights' and the input's gradients, one sample at a time over all its steps.
    for (n, (x, cache)) in xs.iter().zip(caches.iter()).enumerate() {
        let pre = floats(&cache.pre[..]);
        let m = floats(core::slice::from_ref(&cache.in_mask));
        let x = x.as_slice();
        if let Some(g) = grads.as_deref_mut() {
            let (kernel, rec, bias) = C::grad_parts(g);
            if rate_in <= 0.0 {
                gemm_nt(gu, T, IN, pre, x, kernel);
            } else {
                for t in 0..T {
                    let p = &pre[t * gu..(t + 1) * gu];
                    for gate in 0..C::G {
                        let mask = gate_mask(m, gate, IN, per_gate);
                        let mut xm = [0.0f32; IN];
                        for ((v, &x), &m) in xm.iter_mut().zip(&x[t * IN..]).zip(mask) {
                            *v = x * m;
                        }
                        outer(&mut kernel[gate * U..], gu, block(p, gate, U), &xm);
                    }
                }
            }
            // The bias of the input side (GRU: its first row) sums the gates' gradients.
            if !bias.is_empty() {
                for column in pre.chunks_exact(gu) {
                    for (b, d) in bias[..gu].iter_mut().zip(column) {
                        *b += d;
                    }
                }
            }
            cell.recurrent_grads(cache, rec, bias);
        }
        if let Some(dxs) = dxs.as_deref_mut() {
            let dx = dxs[n].as_mut_slice();
            if rate_in <= 0.0 {
                gemm_tn(IN, gu, T, cell.kernel(), pre, dx);
            } else {
                let kernel = cell.kernel();
                for t in 0..T {
                    let p = &pre[t * gu..(t + 1) * gu];
                    for gate in 0..C::G {
                        let mut back = [0.0f32; IN];
                        dot_t(&kernel[gate * U..], gu, block(p, gate, U), &mut back);
                        let mask = gate_mask(m, gate, IN, per_gate);
                        for ((d, b), m) in dx[t * IN..(t + 1) * IN].iter_mut().zip(&back).zip(mask)
                        {
                            *d += b * m;
                        }
                    }
                }
            }
        }
    }
}

/// Adds `Σ_t drec_g(t) ⊗ operand_g(t)` into the rows of gate `g` of a recurrent-kernel gradient
/// (`G·U × U`, column-major), for the gates `gates`, where the operand is the step's
/// `h_in` (times gate `g`'s recurrent mask when the masks are per gate).
pub(crate) fn recurrent_products<Gx: Plain, Mi, Mr: Plain, const U: usize, const T: usize>(
    cache: &RnnCache<Gx, Mi, Mr, U, T>,
    gates: core::ops::Range<usize>,
    gu: usize,
    per_gate: bool,
    drec: impl Fn(usize, usize) -> [f32; U],
    rec: &mut [f32],
) {
    let m = floats(core::slice::from_ref(&cache.rec_mask));
    for t in 0..T {
        let h = &cache.h_in[t];
        for g in gates.clone() {
            let d = drec(t, g);
            if per_gate {
                let mask = gate_mask(m, g, U, true);
                let mut hm = [0.0f32; U];
                for ((v, &x), &m) in hm.iter_mut().zip(h).zip(mask) {
                    *v = x * m;
                }
                outer(&mut rec[g * U..], gu, &d, &hm);
            } else {
                outer(&mut rec[g * U..], gu, &d, h);
            }
        }
    }
}

/// `rec += pre · h_inᵀ` over every step: the recurrent-kernel gradient when every gate's
/// recurrent gradient is its input-side one and the operand is `h_in` (SimpleRNN, LSTM without
/// per-gate masks).
pub(crate) fn recurrent_product_all<Gx: Plain, Mi, Mr, const U: usize, const T: usize>(
    cache: &RnnCache<Gx, Mi, Mr, U, T>,
    gu: usize,
    rec: &mut [f32],
) {
    gemm_nt(
        gu,
        T,
        U,
        floats(&cache.pre[..]),
        cache.h_in.as_flattened(),
        rec,
    );
}

/// Implements [`Train`](crate::train::Train), [`MaskedTrain`](crate::train::MaskedTrain) and
/// [`TrainStates`](crate::train::TrainStates) for a recurrent layer over this module's loop: the
/// layer's type, its gate blocks, input and recurrent dropout masks, and its state count.
macro_rules! train_impls {
    ($name:ident, $gx:ty, $mi:ty, $mr:ty, $states:literal) => {
        impl<
                const IN: usize,
                const UNITS: usize,
                const T: usize,
                R: ReturnMode,
                const BIAS: bool,
            > crate::train::Train<Tensor<IN, T>> for $name<IN, UNITS, R, BIAS>
        {
            type Cache = RnnCache<$gx, $mi, $mr, UNITS, T>;

            fn forward_train(
                &self,
                x: &Tensor<IN, T>,
                y: &mut Self::Output,
                cache: &mut Self::Cache,
                ctx: &mut crate::train::TrainCtx,
            ) {
                crate::train::Train::forward_train_batch(
                    self,
                    core::slice::from_ref(x),
                    core::slice::from_mut(y),
                    core::slice::from_mut(cache),
                    ctx,
                );
            }

            fn backward(
                &self,
                x: &Tensor<IN, T>,
                y: &Self::Output,
                cache: &mut Self::Cache,
                dy: &Self::Output,
                dx: Option<&mut Tensor<IN, T>>,
                grads: Option<&mut Self>,
            ) {
                crate::train::Train::backward_batch(
                    self,
                    core::slice::from_ref(x),
                    core::slice::from_ref(y),
                    core::slice::from_mut(cache),
                    core::slice::from_ref(dy),
                    dx.map(core::slice::from_mut),
                    grads,
                );
            }

            fn forward_train_batch(
                &self,
                xs: &[Tensor<IN, T>],
                ys: &mut [Self::Output],
                caches: &mut [Self::Cache],
                ctx: &mut crate::train::TrainCtx,
            ) {
                super::train::forward::<Self, R, IN, UNITS, T>(self, xs, None, ys, caches, ctx);
            }

            fn backward_batch(
                &self,
                xs: &[Tensor<IN, T>],
                _ys: &[Self::Output],
                caches: &mut [Self::Cache],
                dys: &[Self::Output],
                dxs: Option<&mut [Tensor<IN, T>]>,
                grads: Option<&mut Self>,
            ) {
                super::train::backward::<Self, R, IN, UNITS, T>(
                    self, xs, None, caches, dys, dxs, grads,
                );
            }
        }

        /// Masked steps carry the output and state over; their gradient passes straight through.
        impl<
                const IN: usize,
                const UNITS: usize,
                const T: usize,
                R: ReturnMode,
                const BIAS: bool,
            > crate::train::MaskedTrain<Tensor<IN, T>> for $name<IN, UNITS, R, BIAS>
        {
            type MaskedCache = RnnCache<$gx, $mi, $mr, UNITS, T>;

            fn forward_train_masked(
                &self,
                xs: &[Tensor<IN, T>],
                masks: &[bool],
                ys: &mut [Self::Output],
                caches: &mut [Self::MaskedCache],
                ctx: &mut crate::train::TrainCtx,
            ) {
                assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
                super::train::forward::<Self, R, IN, UNITS, T>(
                    self,
                    xs,
                    Some(masks),
                    ys,
                    caches,
                    ctx,
                );
            }

            fn backward_masked(
                &self,
                xs: &[Tensor<IN, T>],
                masks: &[bool],
                _ys: &[Self::Output],
                caches: &mut [Self::MaskedCache],
                dys: &[Self::Output],
                dxs: Option<&mut [Tensor<IN, T>]>,
                grads: Option<&mut Self>,
            ) {
                assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
                super::train::backward::<Self, R, IN, UNITS, T>(
                    self,
                    xs,
                    Some(masks),
                    caches,
                    dys,
                    dxs,
                    grads,
                );
            }
        }

        /// The final states: `h`, then `c` for LSTM (Keras's `return_state` order).
        impl<
                const IN: usize,
                const UNITS: usize,
                const T: usize,
                R: ReturnMode,
                const BIAS: bool,
            > crate::train::TrainStates<Tensor<IN, T>> for $name<IN, UNITS, R, BIAS>
        {
            fn state(cache: &Self::Cache, i: usize) -> &[f32] {
                assert!(i < $states, "no state {i}");
                &cache.last[i]
            }

            fn state_grad(cache: &mut Self::Cache, i: usize) -> &mut [f32] {
                assert!(i < $states, "no state {i}");
                &mut cache.dlast[i]
            }
        }
    };
}
pub(crate) use train_impls;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::check::{fill, gradients};
    use crate::train::{MaskedTrain, Train, TrainStates};
    use crate::{Activation, Gru, Lstm, ReturnLast, ReturnSequences, SimpleRnn, Weights};

    /// `Σ w·y + Σ v·states` through the masked training pass, in f64 sums.
    fn loss<L, const IN: usize, const T: usize>(
        layer: &L,
        x: &Tensor<IN, T>,
        mask: &[bool; T],
        w: &[f32],
        v: &[f32],
        states: usize,
    ) -> f64
    where
        L: MaskedTrain<Tensor<IN, T>, MaskedCache = <L as Train<Tensor<IN, T>>>::Cache>
            + TrainStates<Tensor<IN, T>>,
        L::Output: Plain,
    {
        let mut y: L::Output = zeroed();
        let mut cache: L::MaskedCache = zeroed();
        layer.forward_train_masked(
            core::slice::from_ref(x),
            mask,
            core::slice::from_mut(&mut y),
            core::slice::from_mut(&mut cache),
            &mut TrainCtx::new(0),
        );
        let mut sum: f64 = floats(core::slice::from_ref(&y))
            .iter()
            .zip(w)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        for i in 0..states {
            let s = L::state(&cache, i);
            sum += s
                .iter()
                .zip(&v[i * s.len()..])
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum::<f64>();
        }
        sum
    }

    /// Checks the masked backward pass (with gradients on the final states too) against central
    /// differences, input and every variable.
    fn check<L, const IN: usize, const T: usize>(layer: &L, mask: [bool; T], states: usize)
    where
        L: MaskedTrain<Tensor<IN, T>, MaskedCache = <L as Train<Tensor<IN, T>>>::Cache>
            + TrainStates<Tensor<IN, T>>
            + Weights
            + Clone,
        L::Output: Plain,
    {
        let mut rng = Rng::new(3);
        let mut x = Tensor::<IN, T>::zeros();
        x.iter_mut().for_each(|v| *v = rng.uniform() * 2.0 - 1.0);
        let w: [f32; 256] = core::array::from_fn(|_| rng.uniform() - 0.5);
        let v: [f32; 64] = core::array::from_fn(|_| rng.uniform() - 0.5);
        let mut y: L::Output = zeroed();
        let mut cache: L::MaskedCache = zeroed();
        layer.forward_train_masked(
            core::slice::from_ref(&x),
            &mask,
            core::slice::from_mut(&mut y),
            core::slice::from_mut(&mut cache),
            &mut TrainCtx::new(0),
        );
        let mut dy: L::Output = zeroed();
        let n = floats(core::slice::from_ref(&y)).len();
        floats_mut(core::slice::from_mut(&mut dy)).copy_from_slice(&w[..n]);
        for i in 0..states {
            let d = L::state_grad(&mut cache, i);
            let len = d.len();
            d.copy_from_slice(&v[i * len..(i + 1) * len]);
        }
        let mut dx = Tensor::<IN, T>::zeros();
        let mut grads = layer.clone();
        for i in 0..grads.variables().len() {
            let len = grads.variables()[i].len();
            grads.load_variable(i, &mut core::iter::repeat_n(0.0, len));
        }
        layer.backward_masked(
            core::slice::from_ref(&x),
            &mask,
            core::slice::from_ref(&y),
            core::slice::from_mut(&mut cache),
            core::slice::from_ref(&dy),
            Some(core::slice::from_mut(&mut dx)),
            Some(&mut grads),
        );
        let h = 1e-2f32;
        let close = |analytic: f32, numeric: f64, what: &str| {
            let err = (f64::from(analytic) - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 2e-3,
                "{what}: backward {analytic}, differences {numeric}"
            );
        };
        for i in 0..IN * T {
            let (mut plus, mut minus) = (x, x);
            plus[i] += h;
            minus[i] -= h;
            let numeric = (loss(layer, &plus, &mask, &w, &v, states)
                - loss(layer, &minus, &mask, &w, &v, states))
                / (2.0 * f64::from(h));
            close(dx[i], numeric, "input");
        }
        for var in 0..layer.variables().len() {
            let mut values = std::vec::Vec::new();
            layer.store_variable(var, &mut |g| values.push(g));
            let mut analytic = std::vec::Vec::new();
            grads.store_variable(var, &mut |g| analytic.push(g));
            for i in 0..values.len() {
                let at = |delta: f32| {
                    let mut l = layer.clone();
                    let mut vals = values.clone();
                    vals[i] += delta;
                    l.load_variable(var, &mut vals.iter().copied());
                    loss(&l, &x, &mask, &w, &v, states)
                };
                let numeric = (at(h) - at(-h)) / (2.0 * f64::from(h));
                close(analytic[i], numeric, layer.variables()[var].name);
            }
        }
    }

    const MASK: [bool; 5] = [false, true, true, false, true];
    const ALL: [bool; 5] = [true; 5];

    #[test]
    fn simple_rnn_gradients() {
        for (act, back, zero) in [
            (Activation::Tanh, false, false),
            (Activation::Sigmoid, true, false),
            (Activation::Softmax, false, true),
        ] {
            let mut seq: SimpleRnn<3, 4, ReturnSequences> = SimpleRnn::new(act)
                .with_go_backwards(back)
                .with_zero_output_for_mask(zero);
            fill(&mut seq, 1);
            check::<_, 3, 5>(&seq, ALL, 1);
            check::<_, 3, 5>(&seq, MASK, 1);
            let mut last: SimpleRnn<3, 4, ReturnLast, false> =
                SimpleRnn::new(act).with_go_backwards(back);
            fill(&mut last, 2);
            check::<_, 3, 5>(&last, MASK, 1);
            gradients::<_, Tensor<3, 5>>(&last, 4);
        }
    }

    #[test]
    fn lstm_gradients() {
        for (act, rec, back) in [
            (Activation::Tanh, Activation::Sigmoid, false),
            (Activation::Silu, Activation::Softplus, true),
        ] {
            let mut seq: Lstm<3, 4, ReturnSequences> = Lstm::new(act, rec).with_go_backwards(back);
            fill(&mut seq, 5);
            check::<_, 3, 5>(&seq, ALL, 2);
            check::<_, 3, 5>(&seq.clone().with_zero_output_for_mask(true), MASK, 2);
            let mut last: Lstm<3, 4, ReturnLast, false> = Lstm::new(act, rec);
            fill(&mut last, 6);
            check::<_, 3, 5>(&last, MASK, 2);
            gradients::<_, Tensor<3, 5>>(&last, 4);
        }
    }

    #[test]
    fn gru_gradients() {
        for reset_after in [true, false] {
            for back in [false, true] {
                let mut seq: Gru<3, 4, ReturnSequences> =
                    Gru::new(Activation::Tanh, Activation::Sigmoid, reset_after)
                        .with_go_backwards(back);
                fill(&mut seq, 7);
                check::<_, 3, 5>(&seq, ALL, 1);
                check::<_, 3, 5>(&seq, MASK, 1);
                let mut last: Gru<3, 4, ReturnLast, false> =
                    Gru::new(Activation::Gelu, Activation::Tanh, reset_after);
                fill(&mut last, 8);
                check::<_, 3, 5>(&last.clone().with_zero_output_for_mask(true), MASK, 1);
                gradients::<_, Tensor<3, 5>>(&last, 4);
            }
        }
    }

    #[test]
    fn gradients_with_dropout_masks() {
        // The masks are drawn from `TrainCtx::new(0)` on every pass, so finite differences see
        // the same masks as backward.
        let mut rnn: SimpleRnn<3, 4, ReturnSequences> =
            SimpleRnn::new(Activation::Tanh).with_dropout(0.3, 0.4);
        fill(&mut rnn, 1);
        check::<_, 3, 5>(&rnn, MASK, 1);
        for rec in [0.0, 0.25] {
            let mut lstm: Lstm<3, 4, ReturnSequences> =
                Lstm::new(Activation::Tanh, Activation::Sigmoid).with_dropout(0.3, rec);
            fill(&mut lstm, 2);
            check::<_, 3, 5>(&lstm, MASK, 2);
            for reset_after in [true, false] {
                let mut gru: Gru<3, 4, ReturnLast> =
                    Gru::new(Activation::Tanh, Activation::Sigmoid, reset_after)
                        .with_dropout(0.3, rec);
                fill(&mut gru, 3);
                check::<_, 3, 5>(&gru, ALL, 1);
            }
        }
    }

    /// Runs the training forward pass of `layer` over `xs`, returning outputs and caches.
    fn run_batch<L, const IN: usize, const T: usize>(
        layer: &L,
        xs: &[Tensor<IN, T>],
        masks: Option<&[bool]>,
        seed: u64,
    ) -> (std::vec::Vec<L::Output>, std::vec::Vec<L::Cache>)
    where
        L: Train<Tensor<IN, T>>
            + MaskedTrain<Tensor<IN, T>, MaskedCache = <L as Train<Tensor<IN, T>>>::Cache>,
        L::Output: Plain,
    {
        let mut ys = std::vec![zeroed::<L::Output>(); xs.len()];
        let mut caches = std::vec![zeroed::<L::Cache>(); xs.len()];
        let mut ctx = TrainCtx::new(seed);
        match masks {
            Some(m) => layer.forward_train_masked(xs, m, &mut ys, &mut caches, &mut ctx),
            None => layer.forward_train_batch(xs, &mut ys, &mut caches, &mut ctx),
        }
        (ys, caches)
    }

    #[test]
    fn dropout_masks_are_scaled_fixed_over_time_and_binomial() {
        // A linear SimpleRNN with W = I and U = 0 outputs x_t ⊙ m at every step.
        const N: usize = 300;
        let mut rnn: SimpleRnn<8, 8, ReturnSequences, false> =
            SimpleRnn::new(Activation::Linear).with_dropout(0.3, 0.0);
        for i in 0..8 {
            rnn.kernel[i][i] = 1.0;
        }
        let mut rng = Rng::new(9);
        let xs: std::vec::Vec<Tensor<8, 6>> = (0..N)
            .map(|_| {
                let mut x = Tensor::zeros();
                x.iter_mut().for_each(|v| *v = rng.uniform() + 0.5);
                x
            })
            .collect();
        let (ys, _) = run_batch(&rnn, &xs, None, 11);
        let kept_scale = 1.0f32 / 0.7f32;
        let mut kept = 0usize;
        for (x, y) in xs.iter().zip(&ys) {
            for j in 0..8 {
                let first = y[[0, j]] != 0.0;
                for t in 0..6 {
                    let (x, y) = (x[[t, j]], y[[t, j]]);
                    // Constant over time, and exactly Keras's `x · (1 / f32(1 − rate))`.
                    assert_eq!(y != 0.0, first, "the mask changed over time");
                    if first {
                        assert_eq!(y, x * kept_scale);
                    }
                }
                kept += usize::from(first);
            }
        }
        // 2400 Bernoulli(0.7) draws: mean 1680, σ ≈ 22.4; 5σ bounds.
        let (mean, sd) = (2400.0 * 0.7, (2400.0f64 * 0.7 * 0.3).sqrt());
        assert!(
            (kept as f64 - mean).abs() < 5.0 * sd,
            "kept {kept} of 2400 at rate 0.3"
        );
    }

    #[test]
    fn lstm_and_gru_draw_one_shared_or_one_mask_per_gate() {
        let xs = [Tensor::<6, 3>::zeros(); 40];
        let distinct = |masks: &[f32], len: usize, gates: usize| {
            (1..gates).any(|g| masks[g * len..(g + 1) * len] != masks[..len])
        };
        let shared: Lstm<6, 6, ReturnLast> = Lstm::default().with_dropout(0.5, 0.0);
        let (_, caches) = run_batch(&shared, &xs, None, 1);
        for c in &caches {
            let m = floats(core::slice::from_ref(&c.in_mask));
            // One input mask (block 0); the other blocks are unused ones.
            assert!(m[6..].iter().all(|&v| v == 1.0));
            assert!(floats(core::slice::from_ref(&c.rec_mask))
                .iter()
                .all(|&v| v == 1.0));
        }
        let per_gate: Lstm<6, 6, ReturnLast> = Lstm::default().with_dropout(0.5, 0.5);
        let (_, caches) = run_batch(&per_gate, &xs, None, 1);
        assert!(caches
            .iter()
            .any(|c| distinct(floats(core::slice::from_ref(&c.in_mask)), 6, 4)));
        assert!(caches
            .iter()
            .any(|c| distinct(floats(core::slice::from_ref(&c.rec_mask)), 6, 4)));
        let gru: Gru<6, 6, ReturnLast> = Gru::default().with_dropout(0.5, 0.5);
        let (_, caches) = run_batch(&gru, &xs, None, 1);
        assert!(caches
            .iter()
            .any(|c| distinct(floats(core::slice::from_ref(&c.in_mask)), 6, 3)));
        // Rate 0: nothing drawn, the training output equals the inference output.
        let plain: Gru<6, 6, ReturnLast> = Gru::default();
        let (_, caches) = run_batch(&plain, &xs, None, 1);
        assert!(caches
            .iter()
            .all(|c| floats(core::slice::from_ref(&c.in_mask))
                .iter()
                .all(|&v| v == 1.0)));
    }

    /// The batched pass (samples in lockstep groups) gives what each sample gives alone, and the
    /// training forward pass what inference gives.
    fn batch_matches_samples<L>(layer: &L)
    where
        L: Train<Tensor<3, 5>>
            + MaskedTrain<Tensor<3, 5>, MaskedCache = <L as Train<Tensor<3, 5>>>::Cache>
            + Clone,
        L::Output: Plain + PartialEq + core::fmt::Debug,
    {
        const N: usize = LOCKSTEP + 3;
        let mut rng = Rng::new(5);
        let xs: std::vec::Vec<Tensor<3, 5>> = (0..N)
            .map(|_| {
                let mut x = Tensor::zeros();
                x.iter_mut().for_each(|v| *v = rng.uniform() - 0.5);
                x
            })
            .collect();
        let masks: std::vec::Vec<bool> = (0..N * 5).map(|i| i % 3 != 1).collect();
        let (ys, mut caches) = run_batch(layer, &xs, Some(&masks), 0);
        let mut dys = std::vec![zeroed::<L::Output>(); N];
        for d in &mut dys {
            floats_mut(core::slice::from_mut(d))
                .iter_mut()
                .for_each(|v| *v = rng.uniform() - 0.5);
        }
        let mut dxs = std::vec![Tensor::<3, 5>::zeros(); N];
        layer.backward_masked(&xs, &masks, &ys, &mut caches, &dys, Some(&mut dxs), None);
        for s in 0..N {
            let m = &masks[s * 5..(s + 1) * 5];
            let (y, mut cache) = run_batch(layer, &xs[s..=s], Some(m), 0);
            let close = |a: &[f32], b: &[f32]| {
                a.iter()
                    .zip(b)
                    .all(|(a, b)| (a - b).abs() <= 1e-5 * a.abs().max(1.0))
            };
            let (a, b) = (floats(&y[..]), floats(core::slice::from_ref(&ys[s])));
            assert!(close(a, b), "sample {s}: {a:?} / {b:?}");
            let mut dx = [Tensor::<3, 5>::zeros()];
            layer.backward_masked(
                &xs[s..=s],
                m,
                &y,
                &mut cache,
                &dys[s..=s],
                Some(&mut dx),
                None,
            );
            assert!(close(dx[0].as_slice(), dxs[s].as_slice()), "sample {s}");
            let (y, _) = run_batch(layer, &xs[s..=s], None, 0);
            let inference = layer.forward(&xs[s]);
            assert!(close(
                floats(&y[..]),
                floats(core::slice::from_ref(&inference))
            ));
        }
    }

    #[test]
    fn a_batch_gives_what_each_sample_gives() {
        let mut rnn: SimpleRnn<3, 4, ReturnSequences> = SimpleRnn::default();
        fill(&mut rnn, 1);
        batch_matches_samples(&rnn);
        let mut lstm: Lstm<3, 4, ReturnLast> = Lstm::default().with_go_backwards(true);
        fill(&mut lstm, 2);
        batch_matches_samples(&lstm);
        for reset_after in [true, false] {
            let mut gru: Gru<3, 4, ReturnSequences> =
                Gru::new(Activation::Tanh, Activation::Sigmoid, reset_after);
            fill(&mut gru, 3);
            batch_matches_samples(&gru);
        }
    }
}
