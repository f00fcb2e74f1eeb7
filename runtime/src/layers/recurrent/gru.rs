//! `GRU`: gates z, r, h in Keras's order, with the reset gate after (Keras 3's default) or before
//! the recurrent product.

use crate::memory::zeroable;
use core::marker::PhantomData;

use super::train::{dot_t, outer, recurrent_products, train_impls, RnnCache, TrainCell};
use super::{project, run, run_batch, Aligned, Cell, ReturnLast, ReturnMode};
use crate::kernels::{gates_simd, gemv, gemv_sweep_simd, gru_gates_simd};
use crate::layer::{Layer, Variable, Weights};
use crate::tensor::fill_from_le_bytes;
use crate::train::Params;
use crate::{Activation, Tensor};

/// Gated recurrent unit, Keras `GRU(units, activation="tanh", recurrent_activation="sigmoid",
/// use_bias=True, return_sequences=False, go_backwards=False, reset_after=True)`.
///
/// With the projections split into blocks of `UNITS` in Keras's order **z, r, h**
/// (`x·W + b_in = [xz, xr, xh]`), σ = `recurrent_activation` and `act` = `activation`:
/// - `reset_after = true`: `[rz, rr, rh] = h·U + b_rec`, `z = σ(xz + rz)`, `r = σ(xr + rr)`,
///   `h̃ = act(xh + r·rh)`;
/// - `reset_after = false`: `z = σ(xz + h·U_z)`, `r = σ(xr + h·U_r)`, `h̃ = act(xh + (r·h)·U_h)`;
///
/// then `h_t = z·h_{t−1} + (1 − z)·h̃`, which is also the output. `R` is [`ReturnLast`] or
/// [`super::ReturnSequences`]; masks, `go_backwards` and carried state work as described in the
/// [module](super) documentation.
///
/// # Shapes
/// - input: `Tensor<IN, T>` (Keras `(T, IN)`)
/// - output: `Tensor<UNITS, 1>`, or `Tensor<UNITS, T>` with `R = ReturnSequences`
/// - state: `Tensor<UNITS, 1>` (`h`)
/// - variables: `kernel (IN, 3·UNITS)`, `recurrent_kernel (UNITS, 3·UNITS)`, and when `BIAS`
///   `bias (2, 3·UNITS)` (row 0 input, row 1 recurrent) with `reset_after`, `bias (3·UNITS,)`
///   without.
///
/// ```
/// use static_keras_runtime::{Activation, Gru, Layer, Tensor, Weights};
/// let mut gru: Gru<1, 1> = Gru::new(Activation::Tanh, Activation::Sigmoid, true);
/// gru.load_variable(0, &mut [0.0, 0.0, 1.0].into_iter()); // kernel: x feeds the candidate only
/// // Bias (2, 3): the update gate shut (z ≈ 0), so h follows the candidate.
/// gru.load_variable(2, &mut [-20.0, 0.0, 0.0, 0.0, 0.0, 0.0].into_iter());
/// let y = gru.forward(&Tensor::<1, 2>::from_slice(&[3.0, 0.5]));
/// assert!((y[0] - 0.462_117_16).abs() < 1e-6); // tanh(0.5)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gru<const IN: usize, const UNITS: usize, R = ReturnLast, const BIAS: bool = true> {
    /// The Keras kernel `(IN, 3·UNITS)` as stored: row `p` holds input `p`'s three gate blocks,
    /// which makes it the column-major `3·UNITS × IN` matrix `W` with `W·x`.
    pub kernel: Aligned<[[[f32; UNITS]; 3]; IN]>,
    /// The Keras recurrent kernel `(UNITS, 3·UNITS)`, laid out like `kernel`.
    pub recurrent_kernel: Aligned<[[[f32; UNITS]; 3]; UNITS]>,
    /// The input bias (row 0) and, with `reset_after`, the recurrent bias (row 1); zeros and
    /// unused when `BIAS` is false.
    pub bias: [[[f32; UNITS]; 3]; 2],
    /// `act`: applied to the candidate.
    pub activation: Activation,
    /// `σ`: applied to the update and reset gates.
    pub recurrent_activation: Activation,
    /// Keras `reset_after`: whether the reset gate multiplies the recurrent product (with its
    /// own bias) rather than the state before it.
    pub reset_after: bool,
    /// Keras `go_backwards`.
    pub go_backwards: bool,
    /// Keras `zero_output_for_mask`.
    pub zero_output_for_mask: bool,
    /// Keras `dropout`: the fraction of the inputs dropped in training (clamped to [0, 1]).
    pub dropout: f32,
    /// Keras `recurrent_dropout`: the fraction of the state dropped in training.
    pub recurrent_dropout: f32,
    mode: PhantomData<R>,
}

zeroable!([const IN: usize, const UNITS: usize, R, const BIAS: bool] Gru<IN, UNITS, R, BIAS> => Gru { kernel, recurrent_kernel, bias, activation, recurrent_activation, reset_after, go_backwards, zero_output_for_mask, dropout, recurrent_dropout, mode });

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Gru<IN, UNITS, R, BIAS> {
    const RESET_AFTER: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: &[IN, 3 * UNITS],
        },
        Variable {
            name: "recurrent_kernel",
            shape: &[UNITS, 3 * UNITS],
        },
        Variable {
            name: "bias",
            shape: &[2, 3 * UNITS],
        },
    ];
    const RESET_BEFORE: &'static [Variable] = &[
        Self::RESET_AFTER[0],
        Self::RESET_AFTER[1],
        Variable {
            name: "bias",
            shape: &[3 * UNITS],
        },
    ];

    /// A layer with zero weights, processing forwards.
    pub const fn new(
        activation: Activation,
        recurrent_activation: Activation,
        reset_after: bool,
    ) -> Self {
        Self {
            kernel: Aligned([[[0.0; UNITS]; 3]; IN]),
            recurrent_kernel: Aligned([[[0.0; UNITS]; 3]; UNITS]),
            bias: [[[0.0; UNITS]; 3]; 2],
            activation,
            recurrent_activation,
            reset_after,
            go_backwards: false,
            zero_output_for_mask: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            mode: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, recurrent kernel,
    /// bias `(2, 3·UNITS)` with `reset_after`, `(3·UNITS,)` without), at compile time: `static`
    /// models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(
        bytes: &[u8],
        activation: Activation,
        recurrent_activation: Activation,
        reset_after: bool,
    ) -> Self {
        let mut layer = Self::new(activation, recurrent_activation, reset_after);
        let bias_len = if !BIAS {
            0
        } else if reset_after {
            6 * UNITS
        } else {
            3 * UNITS
        };
        let n = 3 * UNITS * (IN + UNITS) + bias_len;
        assert!(
            bytes.len() == 4 * n,
            "GRU: weight byte count does not match"
        );
        let (kernel, rest) = bytes.split_at(4 * IN * 3 * UNITS);
        let (recurrent, bias) = rest.split_at(4 * UNITS * 3 * UNITS);
        fill_from_le_bytes(layer.kernel.0.as_flattened_mut().as_flattened_mut(), kernel);
        fill_from_le_bytes(
            layer
                .recurrent_kernel
                .0
                .as_flattened_mut()
                .as_flattened_mut(),
            recurrent,
        );
        let all_bias = layer.bias.as_flattened_mut().as_flattened_mut();
        let (used, _) = all_bias.split_at_mut(bias_len);
        fill_from_le_bytes(used, bias);
        layer
    }

    /// The same layer with Keras's `go_backwards` set.
    pub const fn with_go_backwards(mut self, go_backwards: bool) -> Self {
        self.go_backwards = go_backwards;
        self
    }

    /// The same layer with Keras's `zero_output_for_mask` set.
    pub const fn with_zero_output_for_mask(mut self, zero: bool) -> Self {
        self.zero_output_for_mask = zero;
        self
    }

    /// The same layer with Keras's `dropout` and `recurrent_dropout` (training only; clamped to
    /// [0, 1] as Keras does).
    pub const fn with_dropout(mut self, dropout: f32, recurrent_dropout: f32) -> Self {
        self.dropout = dropout.clamp(0.0, 1.0);
        self.recurrent_dropout = recurrent_dropout.clamp(0.0, 1.0);
        self
    }

    /// Whether a step runs as fused SIMD kernels: `reset_after` with Keras's default activations,
    /// where they run.
    fn fused(&self) -> bool {
        self.reset_after
            && self.activation == Activation::Tanh
            && self.recurrent_activation == Activation::Sigmoid
            && gates_simd()
    }

    /// The bias values Keras stores: both rows with `reset_after`, the input row without.
    fn keras_bias_len(&self) -> usize {
        if self.reset_after {
            6 * UNITS
        } else {
            3 * UNITS
        }
    }
}

impl<const IN: usize, const UNITS: usize, R: ReturnMode, const BIAS: bool> Gru<IN, UNITS, R, BIAS> {
    /// Keras `layer(x, mask=mask, initial_state=[h])`: runs from `state` and leaves the final
    /// state in it, so a stream can be fed one chunk at a time. `mask[t] == false` skips step `t`.
    pub fn forward_with<const T: usize>(
        &self,
        x: &Tensor<IN, T>,
        mask: Option<&[bool; T]>,
        state: &mut Tensor<UNITS, 1>,
    ) -> R::Output<UNITS, T> {
        run::<Self, R, IN, UNITS, T>(
            self,
            self.go_backwards,
            self.zero_output_for_mask,
            x,
            mask,
            state,
        )
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Default for Gru<IN, UNITS, R, BIAS> {
    fn default() -> Self {
        Self::new(Activation::Tanh, Activation::Sigmoid, true)
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Cell<IN, UNITS>
    for Gru<IN, UNITS, R, BIAS>
{
    type Gates = [[f32; UNITS]; 3];
    type State = Tensor<UNITS, 1>;
    const NO_GATES: [[f32; UNITS]; 3] = [[0.0; UNITS]; 3];
    const ZERO: Tensor<UNITS, 1> = crate::zeros();

    fn output(state: &Tensor<UNITS, 1>) -> &[f32] {
        state.as_slice()
    }

    fn project(&self, x: &[f32], out: &mut [[[f32; UNITS]; 3]]) {
        // The input bias is added in `finish` (first thing, so the sums are the same), or by the
        // fused SIMD kernels, which save a pass over the projections that way.
        let kernel = self.kernel.as_flattened().as_flattened();
        project(
            3 * UNITS,
            IN,
            kernel,
            None,
            x,
            out.as_flattened_mut().as_flattened_mut(),
        );
    }

    fn step(&self, xw: &[[f32; UNITS]; 3], state: &mut Tensor<UNITS, 1>, odd: bool) {
        let recurrent = self.recurrent_kernel.as_flattened().as_flattened();
        if self.fused() {
            let mut inner = Aligned([[0.0f32; UNITS]; 3]);
            let h = state.as_mut_slice();
            let done = gemv_sweep_simd(
                3 * UNITS,
                UNITS,
                recurrent,
                3 * UNITS,
                h,
                inner.as_flattened_mut(),
                odd,
            ) && gru_gates_simd(
                xw.as_flattened(),
                BIAS.then_some(self.bias[0].as_flattened()),
                inner.as_flattened(),
                BIAS.then_some(self.bias[1].as_flattened()),
                h,
            );
            if done {
                return;
            }
        }
        // [rz, rr, rh]: h·U; rh waits for the reset gate without reset_after.
        let mut inner = [[0.0f32; UNITS]; 3];
        let rows = if self.reset_after { 3 } else { 2 };
        gemv(
            rows * UNITS,
            UNITS,
            recurrent,
            3 * UNITS,
            state.as_slice(),
            &mut inner.as_flattened_mut()[..rows * UNITS],
        );
        self.finish(xw, &mut inner, state);
    }

    fn fused_recurrent(&self) -> Option<&[f32]> {
        self.reset_after
            .then_some(self.recurrent_kernel.as_flattened().as_flattened())
    }

    fn gates_flat(gates: &mut [[[f32; UNITS]; 3]]) -> &mut [f32] {
        gates.as_flattened_mut().as_flattened_mut()
    }

    /// `inner` holds `[rz, rr, rh] = h·U` (without `reset_after`, only `rz` and `rr`).
    fn finish(
        &self,
        xw: &[[f32; UNITS]; 3],
        inner: &mut [[f32; UNITS]; 3],
        state: &mut Tensor<UNITS, 1>,
    ) {
        let h = state.as_mut_slice();
        if self.fused()
            && gru_gates_simd(
                xw.as_flattened(),
                BIAS.then_some(self.bias[0].as_flattened()),
                inner.as_flattened(),
                BIAS.then_some(self.bias[1].as_flattened()),
                h,
            )
        {
            return;
        }
        // The input projection plus its bias, as Keras computes it (`x·W + b_in`).
        let mut xw = *xw;
        if BIAS {
            for (v, b) in xw
                .as_flattened_mut()
                .iter_mut()
                .zip(self.bias[0].as_flattened())
            {
                *v += b;
            }
        }
        let recurrent = self.recurrent_kernel.as_flattened().as_flattened();
        let [xz, xr, xh] = &xw;
        if BIAS && self.reset_after {
            for (v, b) in inner
                .as_flattened_mut()
                .iter_mut()
                .zip(self.bias[1].as_flattened())
            {
                *v += b;
            }
        }
        let [rz, rr, rh] = inner;
        let mut z = [0.0f32; UNITS];
        let mut r = [0.0f32; UNITS];
        for j in 0..UNITS {
            z[j] = xz[j] + rz[j];
            r[j] = xr[j] + rr[j];
        }
        self.recurrent_activation.apply(&mut z, UNITS);
        self.recurrent_activation.apply(&mut r, UNITS);
        let mut candidate = [0.0f32; UNITS];
        if self.reset_after {
            for j in 0..UNITS {
                candidate[j] = xh[j] + r[j] * rh[j];
            }
        } else {
            let mut reset_h = [0.0f32; UNITS];
            for j in 0..UNITS {
                reset_h[j] = r[j] * h[j];
            }
            gemv(
                UNITS,
                UNITS,
                &recurrent[2 * UNITS..],
                3 * UNITS,
                &reset_h,
                rh,
            );
            for j in 0..UNITS {
                candidate[j] = xh[j] + rh[j];
            }
        }
        self.activation.apply(&mut candidate, UNITS);
        for j in 0..UNITS {
            h[j] = z[j] * h[j] + (1.0 - z[j]) * candidate[j];
        }
    }
}

impl<const IN: usize, const UNITS: usize, const T: usize, R: ReturnMode, const BIAS: bool>
    Layer<Tensor<IN, T>> for Gru<IN, UNITS, R, BIAS>
{
    type Output = R::Output<UNITS, T>;

    fn forward(&self, x: &Tensor<IN, T>) -> Self::Output {
        self.forward_with(x, None, &mut Tensor::zeros())
    }

    /// The samples' steps in lockstep, one recurrent matrix product per step (with
    /// `reset_after`; without it, each sample runs alone).
    fn forward_batch(&self, xs: &[Tensor<IN, T>], outs: &mut [Self::Output]) {
        run_batch::<Self, R, IN, UNITS, T>(self, self.go_backwards, xs, outs);
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Weights for Gru<IN, UNITS, R, BIAS> {
    fn variables(&self) -> &'static [Variable] {
        let all = if self.reset_after {
            Self::RESET_AFTER
        } else {
            Self::RESET_BEFORE
        };
        &all[..if BIAS { 3 } else { 2 }]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        // Keras's layout is the one the products want: straight copies.
        let bias_len = self.keras_bias_len();
        let target = match index {
            0 => self.kernel.as_flattened_mut().as_flattened_mut(),
            1 => self.recurrent_kernel.as_flattened_mut().as_flattened_mut(),
            _ => &mut self.bias.as_flattened_mut().as_flattened_mut()[..bias_len],
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match index {
            0 => self.kernel.as_flattened().as_flattened(),
            1 => self.recurrent_kernel.as_flattened().as_flattened(),
            _ => &self.bias.as_flattened().as_flattened()[..self.keras_bias_len()],
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]): glorot_uniform kernel, the whole
/// recurrent kernel one orthogonal matrix, zero bias.
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> crate::train::Init
    for Gru<IN, UNITS, R, BIAS>
{
    fn init_with(
        &mut self,
        rng: &mut crate::train::Rng,
        overrides: &[(&str, crate::train::init::Initializer)],
    ) {
        use crate::train::init::{initializer_for, Initializer};
        crate::train::init::init_variables(self, rng, overrides);
        if initializer_for("recurrent_kernel", overrides) == Initializer::Orthogonal {
            crate::train::init::orthonormalize_rows(
                self.recurrent_kernel.as_flattened_mut().as_flattened_mut(),
                UNITS,
                3 * UNITS,
            );
        }
    }
}

/// Training: each step keeps the gates' pre-activations and activations `z`, `r`, `h̃`, the state
/// before it and the candidate's recurrent term (`r`'s factor with `reset_after`, `r·h` without).
/// Backwards `∂z = ∂h·(h_{t−1} − h̃)`, `∂h̃ = ∂h·(1 − z)`, `∂h_{t−1} = ∂h·z + …`, and the reset
/// gate's gradient through the candidate. With `reset_after` the candidate's recurrent gradient
/// is `r·∂a_h` (its bias row sums it); without, `∂(r·h) = U_hᵀ·∂a_h`. Dropout as for LSTM.
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> TrainCell<IN, UNITS>
    for Gru<IN, UNITS, R, BIAS>
{
    type Gx = [[f32; UNITS]; 3];
    type Mi = [[f32; IN]; 3];
    type Mr = [[f32; UNITS]; 3];
    const G: usize = 3;

    fn dropout_rates(&self) -> (f32, f32) {
        let active = |r: f32| if r > 0.0 && r < 1.0 { r } else { 0.0 };
        (active(self.dropout), active(self.recurrent_dropout))
    }

    fn per_gate(&self) -> bool {
        self.recurrent_dropout != 0.0
    }

    fn kernel(&self) -> &[f32] {
        self.kernel.as_flattened().as_flattened()
    }

    fn recurrent(&self) -> &[f32] {
        self.recurrent_kernel.as_flattened().as_flattened()
    }

    fn input_bias(&self) -> Option<&[f32]> {
        BIAS.then_some(self.bias[0].as_flattened())
    }

    fn product_gates(&self) -> usize {
        if self.reset_after {
            3
        } else {
            2
        }
    }

    fn go_backwards(&self) -> bool {
        self.go_backwards
    }

    fn zero_output_for_mask(&self) -> bool {
        self.zero_output_for_mask
    }

    fn step(
        &self,
        pre: &mut [[f32; UNITS]; 3],
        z: &[[f32; UNITS]; 3],
        state: &mut [[f32; UNITS]; 2],
        post: &mut [[f32; UNITS]; 3],
        aux: &mut [[f32; UNITS]; 3],
        rec_mask: &[[f32; UNITS]; 3],
    ) {
        let mut rec = *z;
        if BIAS && self.reset_after {
            for (r, b) in rec.iter_mut().zip(&self.bias[1]) {
                for j in 0..UNITS {
                    r[j] += b[j];
                }
            }
        }
        for gate in 0..2 {
            for j in 0..UNITS {
                pre[gate][j] += rec[gate][j];
            }
            post[gate] = pre[gate];
            self.recurrent_activation.apply(&mut post[gate], UNITS);
        }
        let h_prev = state[0];
        aux[0] = h_prev;
        if self.reset_after {
            aux[1] = rec[2];
            for j in 0..UNITS {
                pre[2][j] += post[1][j] * rec[2][j];
            }
        } else {
            let per_gate = TrainCell::per_gate(self);
            for j in 0..UNITS {
                let h = if per_gate {
                    h_prev[j] * rec_mask[2][j]
                } else {
                    h_prev[j]
                };
                aux[1][j] = post[1][j] * h;
            }
            let recurrent = self.recurrent_kernel.as_flattened().as_flattened();
            gemv(
                UNITS,
                UNITS,
                &recurrent[2 * UNITS..],
                3 * UNITS,
                &aux[1],
                &mut pre[2],
            );
        }
        post[2] = pre[2];
        self.activation.apply(&mut post[2], UNITS);
        let [zg, _, hh] = &*post;
        for j in 0..UNITS {
            state[0][j] = zg[j] * h_prev[j] + (1.0 - zg[j]) * hh[j];
        }
    }

    fn step_backward(
        &self,
        pre: &mut [[f32; UNITS]; 3],
        post: &[[f32; UNITS]; 3],
        aux: &mut [[f32; UNITS]; 3],
        _h_in: &[f32; UNITS],
        carry: &mut [[f32; UNITS]; 2],
        drec: &mut [[f32; UNITS]; 3],
        rec_mask: &[[f32; UNITS]; 3],
    ) {
        let [zg, r, hh] = post;
        let h_prev = aux[0];
        let dh = &mut carry[0];
        let mut dz = [0.0f32; UNITS];
        let mut dhh = [0.0f32; UNITS];
        for j in 0..UNITS {
            dz[j] = dh[j] * (h_prev[j] - hh[j]);
            dhh[j] = dh[j] * (1.0 - zg[j]);
            dh[j] *= zg[j];
        }
        let mut da_h = [0.0f32; UNITS];
        self.activation
            .backward(&pre[2], hh, &dhh, &mut da_h, UNITS);
        let mut dr = [0.0f32; UNITS];
        if self.reset_after {
            for j in 0..UNITS {
                dr[j] = da_h[j] * aux[1][j];
                drec[2][j] = da_h[j] * r[j];
            }
            aux[2] = drec[2];
        } else {
            let recurrent = self.recurrent_kernel.as_flattened().as_flattened();
            let mut drh = [0.0f32; UNITS];
            dot_t(&recurrent[2 * UNITS..], 3 * UNITS, &da_h, &mut drh);
            let per_gate = TrainCell::per_gate(self);
            for j in 0..UNITS {
                let m = if per_gate { rec_mask[2][j] } else { 1.0 };
                dr[j] = drh[j] * h_prev[j] * m;
                dh[j] += drh[j] * r[j] * m;
            }
            drec[2] = [0.0; UNITS];
        }
        self.recurrent_activation
            .backward(&pre[0], zg, &dz, &mut drec[0], UNITS);
        self.recurrent_activation
            .backward(&pre[1], r, &dr, &mut drec[1], UNITS);
        *pre = [drec[0], drec[1], da_h];
    }

    fn recurrent_grads<const T: usize>(
        &self,
        cache: &RnnCache<[[f32; UNITS]; 3], [[f32; IN]; 3], [[f32; UNITS]; 3], UNITS, T>,
        rec: &mut [f32],
        bias: &mut [f32],
    ) {
        let per_gate = TrainCell::per_gate(self);
        let gu = 3 * UNITS;
        if self.reset_after {
            let drec = |t: usize, g: usize| {
                if g < 2 {
                    cache.pre[t][g]
                } else {
                    cache.aux[t][2]
                }
            };
            if crate::kernels::simd() && !per_gate {
                // Every step's three recurrent gradients side by side (a `3·UNITS × T`
                // matrix, on the stack), then one product over the steps on the SIMD kernel:
                // `rec += D · h_inᵀ`, what the rank-one updates below add one step at a time.
                let mut d = cache.pre;
                for (d, aux) in d.iter_mut().zip(&cache.aux) {
                    d[2] = aux[2];
                }
                crate::train::products::gemm_nt(
                    gu,
                    T,
                    UNITS,
                    d.as_flattened().as_flattened(),
                    cache.h_in.as_flattened(),
                    rec,
                );
            } else {
                recurrent_products(cache, 0..3, gu, per_gate, drec, rec);
            }
            if !bias.is_empty() {
                for t in 0..T {
                    for g in 0..3 {
                        let d = drec(t, g);
                        for (b, d) in bias[gu + g * UNITS..gu + (g + 1) * UNITS]
                            .iter_mut()
                            .zip(&d)
                        {
                            *b += d;
                        }
                    }
                }
            }
        } else {
            recurrent_products(cache, 0..2, gu, per_gate, |t, g| cache.pre[t][g], rec);
            for t in 0..T {
                outer(
                    &mut rec[2 * UNITS..],
                    gu,
                    &cache.pre[t][2],
                    &cache.aux[t][1],
                );
            }
        }
    }

    fn grad_parts(g: &mut Self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        let len = if BIAS { g.keras_bias_len() } else { 0 };
        (
            g.kernel.as_flattened_mut().as_flattened_mut(),
            g.recurrent_kernel.as_flattened_mut().as_flattened_mut(),
            &mut g.bias.as_flattened_mut().as_flattened_mut()[..len],
        )
    }
}

train_impls!(Gru, [[f32; UNITS]; 3], [[f32; IN]; 3], [[f32; UNITS]; 3], 1);

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Params for Gru<IN, UNITS, R, BIAS> {
    fn trainable_count(&self) -> usize {
        2 + usize::from(BIAS)
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        let len = self.keras_bias_len();
        f(self.kernel.as_flattened_mut().as_flattened_mut());
        f(self.recurrent_kernel.as_flattened_mut().as_flattened_mut());
        if BIAS {
            f(&mut self.bias.as_flattened_mut().as_flattened_mut()[..len]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::sigmoid;
    use libm::tanhf;

    const W: [f32; 3] = [0.5, -0.3, 0.8];
    const U: [f32; 3] = [0.1, 0.4, -0.6];
    const XS: [f32; 3] = [1.5, -0.7, 0.2];

    fn gru(reset_after: bool, bias: &[f32]) -> Gru<1, 1> {
        let mut gru = Gru::new(Activation::Tanh, Activation::Sigmoid, reset_after);
        gru.load_variable(0, &mut W.into_iter());
        gru.load_variable(1, &mut U.into_iter());
        gru.load_variable(2, &mut bias.iter().copied());
        gru
    }

    #[test]
    fn reset_after_by_hand() {
        let b = [0.1f32, -0.2, 0.3, 0.05, 0.15, -0.25];
        let mut h = 0.0f32;
        for x in XS {
            let z = sigmoid(x * W[0] + b[0] + (h * U[0] + b[3]));
            let r = sigmoid(x * W[1] + b[1] + (h * U[1] + b[4]));
            let cand = tanhf(x * W[2] + b[2] + r * (h * U[2] + b[5]));
            h = z * h + (1.0 - z) * cand;
        }
        let y = gru(true, &b).forward(&Tensor::<1, 3>::from_slice(&XS));
        assert!((y[0] - h).abs() < 1e-6, "{} {h}", y[0]);
    }

    #[test]
    fn reset_before_by_hand() {
        let b = [0.1f32, -0.2, 0.3];
        let mut h = 0.0f32;
        for x in XS {
            let z = sigmoid(x * W[0] + b[0] + h * U[0]);
            let r = sigmoid(x * W[1] + b[1] + h * U[1]);
            let cand = tanhf(x * W[2] + b[2] + (r * h) * U[2]);
            h = z * h + (1.0 - z) * cand;
        }
        let layer = gru(false, &b);
        let y = layer.forward(&Tensor::<1, 3>::from_slice(&XS));
        assert!((y[0] - h).abs() < 1e-6, "{} {h}", y[0]);
        assert_eq!(layer.variables()[2].shape, &[3]);
        assert_eq!(layer.param_count(), 9);
        assert_eq!(gru(true, &[0.0; 6]).param_count(), 12);
        let mut stored = 0;
        layer.store_variable(2, &mut |_| stored += 1);
        assert_eq!(stored, 3);
    }
}
