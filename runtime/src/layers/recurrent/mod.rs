//! The recurrent layers, Keras `SimpleRNN`, `LSTM` and `GRU`: one time loop (here) over three
//! cells (one file each).
//!
//! The loop is Keras 3's:
//! - steps run `0..T`, or `T−1..0` with `go_backwards`; with `return_sequences` the outputs are
//!   returned **in processing order**, so reversed in time when going backwards, as Keras does;
//! - a masked step (mask `false` at its original time index) leaves the state untouched and
//!   outputs the previous output `h`, or zeros with `zero_output_for_mask`; leading masked steps
//!   therefore output the initial state;
//! - the state starts at zero, or wherever the caller's state is (`stateful` streaming).
//!
//! `unroll=True` is the same loop; only Keras's unrolled path differs, when masked, in using
//! zeros rather than the initial state as the output before the first unmasked step (and in
//! ignoring `zero_output_for_mask`); we follow the default `unroll=False` path throughout.
//!
//! Hand-composed layers type-check their feature counts, but a `(UNITS,)` output is also a
//! one-step sequence `Tensor<UNITS, 1>`, so `(Lstm<3, 8>, Lstm<8, 4>)` builds and reads the
//! first layer's last output as one step; `keras_model!` rejects that model as Keras does,
//! asking for `return_sequences = true`.
//!
//! Weights keep Keras's layout. A kernel `(IN, G·UNITS)` read row-major is the column-major
//! `(G·UNITS) × IN` matrix `W` with `z = W·x`, and the recurrent kernel likewise; column-major
//! products (axpy form, [`crate::kernels::gemv`]) measured over twice as fast as the transposed
//! (dot-product) layout for 16–256 units, so loading stays a straight copy. The input
//! projections of [`CHUNK`] steps are one matrix product, so the kernel is read once per
//! `CHUNK` steps while the stack scratch stays bounded whatever the sequence length.
//!
//! With the SIMD kernels (results differ from the portable path's in the last bits only;
//! without them every step is the portable one, the same bits on every target):
//! - one sample (`predict`), on every SIMD instruction set (AVX-512, AVX2, NEON), LSTM and GRU
//!   (`reset_after`) with Keras's default activations: each step's recurrent product reads the whole kernel as one stream
//!   ([`crate::kernels::gemv_sweep_simd`]), alternately forwards and backwards, so that the part
//!   of a kernel larger than the L1 cache that one step read last is still cached for the next;
//!   then one fused pass does the gates and the state update;
//! - a batch (`predict_batch`): up to [`LOCKSTEP`] samples in equal groups, each step's input
//!   projections and recurrent products as two matrix products over the group (gates fused as
//!   above where they can be);
//! - LSTM and GRU kernels and the scratch are [`Aligned`] to 64 bytes (a misaligned kernel split
//!   every vector load across two cache lines, which made a step up to twice as slow).

mod gru;
mod lstm;
mod simple_rnn;
mod train;

pub use gru::Gru;
pub use lstm::{Lstm, LstmState};
pub use simple_rnn::SimpleRnn;
pub use train::RnnCache;

use crate::kernels::{gemm, simd};
use crate::Tensor;

pub use crate::Aligned;

/// Time steps whose input projections are computed by one matrix product (a microcontroller's
/// stack is small).
#[cfg(target_arch = "arm")]
pub const CHUNK: usize = 4;
/// Time steps whose input projections are computed by one matrix product.
#[cfg(not(target_arch = "arm"))]
pub const CHUNK: usize = 32;

/// Whether a recurrent layer returns its last output or the whole sequence (Keras
/// `return_sequences`). A type rather than a flag, because the two give different output types.
pub trait ReturnMode {
    /// The layer's output for `T` steps of `U` units.
    type Output<const U: usize, const T: usize>: Clone;

    /// That output, zero.
    fn zeros<const U: usize, const T: usize>() -> Self::Output<U, T>;

    /// Where the output of processed step `i` (of `T`) goes, if it is kept.
    fn slot<const U: usize, const T: usize>(
        out: &mut Self::Output<U, T>,
        i: usize,
    ) -> Option<&mut [f32]>;

    /// [`ReturnMode::slot`], to read (the gradient of a step's output in training).
    fn slot_ref<const U: usize, const T: usize>(
        out: &Self::Output<U, T>,
        i: usize,
    ) -> Option<&[f32]>;
}

/// `return_sequences = False`: the output after the last processed step, `Tensor<U, 1>`
/// (Keras `(U,)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReturnLast;

/// `return_sequences = True`: every step's output in processing order, `Tensor<U, T>`
/// (Keras `(T, U)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReturnSequences;

impl ReturnMode for ReturnLast {
    type Output<const U: usize, const T: usize> = Tensor<U, 1>;

    fn zeros<const U: usize, const T: usize>() -> Tensor<U, 1> {
        Tensor::zeros()
    }

    fn slot<const U: usize, const T: usize>(
        out: &mut Tensor<U, 1>,
        i: usize,
    ) -> Option<&mut [f32]> {
        (i + 1 == T).then(|| out.as_mut_slice())
    }

    fn slot_ref<const U: usize, const T: usize>(out: &Tensor<U, 1>, i: usize) -> Option<&[f32]> {
        (i + 1 == T).then(|| out.as_slice())
    }
}

impl ReturnMode for ReturnSequences {
    type Output<const U: usize, const T: usize> = Tensor<U, T>;

    fn zeros<const U: usize, const T: usize>() -> Tensor<U, T> {
        Tensor::zeros()
    }

    fn slot<const U: usize, const T: usize>(
        out: &mut Tensor<U, T>,
        i: usize,
    ) -> Option<&mut [f32]> {
        Some(&mut out.as_mut_slice()[i * U..(i + 1) * U])
    }

    fn slot_ref<const U: usize, const T: usize>(out: &Tensor<U, T>, i: usize) -> Option<&[f32]> {
        Some(&out.as_slice()[i * U..(i + 1) * U])
    }
}

/// One recurrent cell: what the loop needs from `SimpleRNN`, `LSTM` and `GRU`.
pub(crate) trait Cell<const IN: usize, const UNITS: usize> {
    /// One step's input projection (the gate blocks of `UNITS` values each).
    type Gates: Copy;
    /// What is carried from step to step (`h`, or `h` and `c`).
    type State;
    /// Gates with every value zero (scratch initialiser).
    const NO_GATES: Self::Gates;
    /// The state Keras starts from (zeros).
    const ZERO: Self::State;

    /// The output `h` the state holds.
    fn output(state: &Self::State) -> &[f32];

    /// The input projections of consecutive steps `x` (`IN` values per step), one per `out` item.
    fn project(&self, x: &[f32], out: &mut [Self::Gates]);

    /// Advances `state` by one step whose input projection is `xw`. `odd` (every other step)
    /// lets a SIMD product read the recurrent kernel backwards, so the part of it the previous
    /// step read last is read first while it is still cached.
    fn step(&self, xw: &Self::Gates, state: &mut Self::State, odd: bool);

    /// The recurrent kernel as a column-major `rows × UNITS` matrix whose product `z = U·h`
    /// (as gates) [`Cell::finish`] completes into a step, or `None` when a step needs more than
    /// that one product (GRU with `reset_after = false`).
    fn fused_recurrent(&self) -> Option<&[f32]>;

    /// The rest of a step after `z = U·h`: `z` holds the recurrent product, `xw` the input
    /// projection.
    fn finish(&self, xw: &Self::Gates, z: &mut Self::Gates, state: &mut Self::State);

    /// Gates as their values.
    fn gates_flat(gates: &mut [Self::Gates]) -> &mut [f32];
}

/// Samples a batch advances in lockstep, their recurrent products one matrix-matrix product per
/// step. (A microcontroller's stack is small, and it runs one sample at a time anyway.)
#[cfg(target_arch = "arm")]
pub const LOCKSTEP: usize = 1;
/// Samples a batch advances in lockstep, their recurrent products one matrix-matrix product per
/// step. (Twelve columns are the AVX-512 product's widest register tile.)
#[cfg(not(target_arch = "arm"))]
pub const LOCKSTEP: usize = 12;

/// [`run`] over a batch without masks, from zero states. With the SIMD kernels, `LOCKSTEP`
/// samples at a time, each step's input projections and recurrent products as two matrix
/// products over the samples (each kernel is read once per step for all of them instead of once
/// per sample); otherwise each sample alone, which gives the same bits as [`run`].
pub(crate) fn run_batch<C, R, const IN: usize, const U: usize, const T: usize>(
    cell: &C,
    go_backwards: bool,
    xs: &[Tensor<IN, T>],
    outs: &mut [R::Output<U, T>],
) where
    C: Cell<IN, U>,
    R: ReturnMode,
{
    assert_eq!(xs.len(), outs.len(), "as many outputs as inputs");
    let recurrent = match cell.fused_recurrent() {
        Some(recurrent) if LOCKSTEP > 1 && simd() => recurrent,
        _ => {
            for (x, out) in xs.iter().zip(outs) {
                let mut state = C::ZERO;
                *out = run::<C, R, IN, U, T>(cell, go_backwards, false, x, None, &mut state);
            }
            return;
        }
    };
    let rows = recurrent.len() / U.max(1);
    // This step's inputs and outputs of the samples, one column each.
    let mut x = Aligned([[0.0f32; IN]; LOCKSTEP]);
    let mut h = Aligned([[0.0f32; U]; LOCKSTEP]);
    let mut xw = Aligned([C::NO_GATES; LOCKSTEP]);
    let mut z = Aligned([C::NO_GATES; LOCKSTEP]);
    // Groups of equal size (64 samples: 6 of 11 or less, not 5 of 12 and one of 4), as a
    // product over few columns reads the kernel as often for less work.
    let group = xs.len().div_ceil(xs.len().div_ceil(LOCKSTEP).max(1));
    for (xs, outs) in xs.chunks(group.max(1)).zip(outs.chunks_mut(group.max(1))) {
        let s = xs.len();
        let mut states = [C::ZERO; LOCKSTEP];
        for i in 0..T {
            let t = if go_backwards { T - 1 - i } else { i };
            for ((x, h), (sample, state)) in
                x.iter_mut().zip(h.iter_mut()).zip(xs.iter().zip(&states))
            {
                x.copy_from_slice(&sample.as_slice()[t * IN..(t + 1) * IN]);
                h.copy_from_slice(C::output(state));
            }
            cell.project(&x.as_flattened()[..s * IN], &mut xw[..s]);
            gemm(
                rows,
                U,
                s,
                recurrent,
                &h.as_flattened()[..s * U],
                C::gates_flat(&mut z[..s]),
                false,
            );
            for k in 0..s {
                cell.finish(&xw[k], &mut z[k], &mut states[k]);
                if let Some(slot) = R::slot::<U, T>(&mut outs[k], i) {
                    slot.copy_from_slice(C::output(&states[k]));
                }
            }
        }
    }
}

/// The time loop shared by the three layers (see the module documentation).
pub(crate) fn run<C, R, const IN: usize, const U: usize, const T: usize>(
    cell: &C,
    go_backwards: bool,
    zero_output_for_mask: bool,
    x: &Tensor<IN, T>,
    mask: Option<&[bool; T]>,
    state: &mut C::State,
) -> R::Output<U, T>
where
    C: Cell<IN, U>,
    R: ReturnMode,
{
    let mut out = R::zeros::<U, T>();
    let mut xw = Aligned([C::NO_GATES; CHUNK]);
    let mut done = 0;
    while done < T {
        let n = CHUNK.min(T - done);
        // The n steps processed next cover the time range first..first + n either way.
        let first = if go_backwards { T - done - n } else { done };
        cell.project(&x.as_slice()[first * IN..(first + n) * IN], &mut xw[..n]);
        for i in done..done + n {
            let t = if go_backwards { T - 1 - i } else { i };
            let live = mask.is_none_or(|m| m[t]);
            if live {
                cell.step(&xw[t - first], state, i % 2 == 1);
            }
            if let Some(slot) = R::slot::<U, T>(&mut out, i) {
                if live || !zero_output_for_mask {
                    slot.copy_from_slice(C::output(state));
                } else {
                    slot.fill(0.0);
                }
            }
        }
        done += n;
    }
    out
}

/// `out = W·x (+ bias)` for consecutive steps: `W` is `m × k` column-major, `x` holds `k` values
/// per step and `out` `m` per step. The bias is added after the product, as Keras does.
pub(crate) fn project(
    m: usize,
    k: usize,
    kernel: &[f32],
    bias: Option<&[f32]>,
    x: &[f32],
    out: &mut [f32],
) {
    let steps = x.len() / k;
    gemm(m, k, steps, kernel, x, &mut out[..m * steps], false);
    if let Some(bias) = bias {
        for column in out[..m * steps].chunks_exact_mut(m) {
            for (v, b) in column.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Layer, Weights};

    /// A linear SimpleRNN with kernel 1 and recurrent kernel `r`: `h_t = x_t + r·h_{t−1}`.
    fn accumulator<R: ReturnMode>(r: f32) -> SimpleRnn<1, 1, R, false> {
        let mut rnn = SimpleRnn::new(Activation::Linear);
        rnn.load_variable(0, &mut [1.0].into_iter());
        rnn.load_variable(1, &mut [r].into_iter());
        rnn
    }

    const X: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

    #[test]
    fn sequences_come_out_in_processing_order() {
        let x = Tensor::<1, 6>::from_slice(&X);
        let forward: Tensor<1, 6> = accumulator::<ReturnSequences>(1.0).forward(&x);
        assert_eq!(forward.as_slice(), &[1.0, 3.0, 6.0, 10.0, 15.0, 21.0]);
        let backward = accumulator::<ReturnSequences>(1.0).with_go_backwards(true);
        // Keras does not flip the outputs back: out[0] is the step that read x[5].
        assert_eq!(
            backward.forward(&x).as_slice(),
            &[6.0, 11.0, 15.0, 18.0, 20.0, 21.0]
        );
        let last = accumulator::<ReturnLast>(0.5).with_go_backwards(true);
        assert_eq!(
            last.forward(&x).as_slice(),
            &[1.0 + 0.5 * (2.0 + 0.5 * (3.0 + 0.5 * (4.0 + 0.5 * (5.0 + 0.5 * 6.0))))]
        );
    }

    #[test]
    fn masked_steps_repeat_the_previous_output_and_freeze_the_state() {
        let x = Tensor::<1, 6>::from_slice(&X);
        let mask = [false, true, true, false, true, false];
        let rnn = accumulator::<ReturnSequences>(1.0);
        let y = rnn.forward_with(&x, Some(&mask), &mut Tensor::zeros());
        assert_eq!(y.as_slice(), &[0.0, 2.0, 5.0, 5.0, 10.0, 10.0]);
        // The mask is indexed by original time, also going backwards.
        let back = rnn.clone().with_go_backwards(true);
        let y = back.forward_with(&x, Some(&mask), &mut Tensor::zeros());
        assert_eq!(y.as_slice(), &[0.0, 5.0, 5.0, 8.0, 10.0, 10.0]);
        let zeros = rnn.clone().with_zero_output_for_mask(true);
        let y = zeros.forward_with(&x, Some(&mask), &mut Tensor::zeros());
        assert_eq!(y.as_slice(), &[0.0, 2.0, 5.0, 0.0, 10.0, 0.0]);
        // return_sequences = False returns the last processed step, zero here.
        let last = accumulator::<ReturnLast>(1.0).with_zero_output_for_mask(true);
        assert_eq!(
            last.forward_with(&x, Some(&mask), &mut Tensor::zeros())[0],
            0.0
        );
        // A fully masked row outputs the initial state.
        let mut state = Tensor::<1, 1>::from_slice(&[7.0]);
        let y = rnn.forward_with(&x, Some(&[false; 6]), &mut state);
        assert_eq!(y.as_slice(), &[7.0; 6]);
        assert_eq!(state[0], 7.0);
    }

    #[test]
    fn the_state_carries_over_chunks() {
        let rnn = accumulator::<ReturnSequences>(0.5);
        let whole: Tensor<1, 6> = rnn.forward(&Tensor::from_slice(&X));
        let mut state = Tensor::zeros();
        let a = rnn.forward_with(&Tensor::<1, 4>::from_slice(&X[..4]), None, &mut state);
        let b = rnn.forward_with(&Tensor::<1, 2>::from_slice(&X[4..]), None, &mut state);
        assert_eq!(&whole.as_slice()[..4], a.as_slice());
        assert_eq!(&whole.as_slice()[4..], b.as_slice());
        assert_eq!(state[0], whole[5]);
    }
}
