//! `LSTM`: gates i, f, c, o in Keras's order.

use crate::memory::zeroable;
use core::marker::PhantomData;

use super::train::{recurrent_product_all, recurrent_products, train_impls, RnnCache, TrainCell};
use super::{project, run, run_batch, Aligned, Cell, ReturnLast, ReturnMode};
use crate::kernels::{gates_simd, gemv, gemv_sweep_simd, lstm_gates_simd};
use crate::layer::{Layer, Variable, Weights};
use crate::tensor::fill_from_le_bytes;
use crate::train::Params;
use crate::{Activation, Tensor};

/// The state an [`Lstm`] carries from step to step: the output `h` and the cell (carry) `c`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LstmState<const UNITS: usize> {
    /// The memory state, which is also the output (Keras `states[0]`).
    pub h: Tensor<UNITS, 1>,
    /// The carry state (Keras `states[1]`).
    pub c: Tensor<UNITS, 1>,
}

impl<const UNITS: usize> Default for LstmState<UNITS> {
    /// Both states zero, as Keras starts.
    fn default() -> Self {
        Self {
            h: Tensor::zeros(),
            c: Tensor::zeros(),
        }
    }
}

/// Long short-term memory, Keras `LSTM(units, activation="tanh", recurrent_activation="sigmoid",
/// use_bias=True, return_sequences=False, go_backwards=False)`.
///
/// With `z = x_t·kernel + h_{t−1}·recurrent_kernel + bias` split into four blocks of `UNITS` in
/// Keras's order **i, f, c, o**, σ = `recurrent_activation` and `act` = `activation`:
/// `c_t = σ(z_f)·c_{t−1} + σ(z_i)·act(z_c)` and `h_t = σ(z_o)·act(c_t)`; the output is `h_t`.
/// (`unit_forget_bias` only changes Keras's initial weights; saved biases already include it.)
/// `R` is [`ReturnLast`] or [`super::ReturnSequences`]; masks, `go_backwards` and carried state
/// work as described in the [module](super) documentation.
///
/// # Shapes
/// - input: `Tensor<IN, T>` (Keras `(T, IN)`)
/// - output: `Tensor<UNITS, 1>`, or `Tensor<UNITS, T>` with `R = ReturnSequences`
/// - state: [`LstmState<UNITS>`]
/// - variables: `kernel (IN, 4·UNITS)`, `recurrent_kernel (UNITS, 4·UNITS)`, and
///   `bias (4·UNITS,)` when `BIAS`.
///
/// ```
/// use static_keras_runtime::{Activation, Layer, Lstm, Tensor, Weights};
/// let mut lstm: Lstm<1, 1> = Lstm::new(Activation::Tanh, Activation::Sigmoid);
/// lstm.load_variable(0, &mut [0.0, 0.0, 1.0, 0.0].into_iter()); // kernel: x feeds the candidate only
/// lstm.load_variable(2, &mut [9.0, -9.0, 0.0, 9.0].into_iter()); // input and output gates open
/// let y = lstm.forward(&Tensor::<1, 2>::from_slice(&[0.5, 0.5]));
/// // The forget gate is shut, so only the last step counts: h ≈ tanh(tanh(0.5)).
/// assert!((y[0] - 0.4318).abs() < 1e-3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Lstm<const IN: usize, const UNITS: usize, R = ReturnLast, const BIAS: bool = true> {
    /// The Keras kernel `(IN, 4·UNITS)` as stored: row `p` holds input `p`'s four gate blocks,
    /// which makes it the column-major `4·UNITS × IN` matrix `W` with `W·x`.
    pub kernel: Aligned<[[[f32; UNITS]; 4]; IN]>,
    /// The Keras recurrent kernel `(UNITS, 4·UNITS)`, laid out like `kernel`.
    pub recurrent_kernel: Aligned<[[[f32; UNITS]; 4]; UNITS]>,
    /// The bias, gate blocks i, f, c, o (zeros and unused when `BIAS` is false).
    pub bias: [[f32; UNITS]; 4],
    /// `act`: applied to the candidate and to the cell state.
    pub activation: Activation,
    /// `σ`: applied to the input, forget and output gates.
    pub recurrent_activation: Activation,
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

zeroable!([const IN: usize, const UNITS: usize, R, const BIAS: bool] Lstm<IN, UNITS, R, BIAS> => Lstm { kernel, recurrent_kernel, bias, activation, recurrent_activation, go_backwards, zero_output_for_mask, dropout, recurrent_dropout, mode });

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Lstm<IN, UNITS, R, BIAS> {
    const WITH_BIAS: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: &[IN, 4 * UNITS],
        },
        Variable {
            name: "recurrent_kernel",
            shape: &[UNITS, 4 * UNITS],
        },
        Variable {
            name: "bias",
            shape: &[4 * UNITS],
        },
    ];

    /// A layer with zero weights, processing forwards.
    pub const fn new(activation: Activation, recurrent_activation: Activation) -> Self {
        Self {
            kernel: Aligned([[[0.0; UNITS]; 4]; IN]),
            recurrent_kernel: Aligned([[[0.0; UNITS]; 4]; UNITS]),
            bias: [[0.0; UNITS]; 4],
            activation,
            recurrent_activation,
            go_backwards: false,
            zero_output_for_mask: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            mode: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, recurrent kernel,
    /// bias), at compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(
        bytes: &[u8],
        activation: Activation,
        recurrent_activation: Activation,
    ) -> Self {
        let mut layer = Self::new(activation, recurrent_activation);
        let n = 4 * UNITS * (IN + UNITS) + if BIAS { 4 * UNITS } else { 0 };
        assert!(
            bytes.len() == 4 * n,
            "LSTM: weight byte count does not match"
        );
        let (kernel, rest) = bytes.split_at(4 * IN * 4 * UNITS);
        let (recurrent, bias) = rest.split_at(4 * UNITS * 4 * UNITS);
        fill_from_le_bytes(layer.kernel.0.as_flattened_mut().as_flattened_mut(), kernel);
        fill_from_le_bytes(
            layer
                .recurrent_kernel
                .0
                .as_flattened_mut()
                .as_flattened_mut(),
            recurrent,
        );
        if BIAS {
            fill_from_le_bytes(layer.bias.as_flattened_mut(), bias);
        }
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
}

impl<const IN: usize, const UNITS: usize, R: ReturnMode, const BIAS: bool>
    Lstm<IN, UNITS, R, BIAS>
{
    /// Keras `layer(x, mask=mask, initial_state=[h, c])`: runs from `state` and leaves the final
    /// state in it, so a stream can be fed one chunk at a time. `mask[t] == false` skips step `t`.
    pub fn forward_with<const T: usize>(
        &self,
        x: &Tensor<IN, T>,
        mask: Option<&[bool; T]>,
        state: &mut LstmState<UNITS>,
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

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Default
    for Lstm<IN, UNITS, R, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Tanh, Activation::Sigmoid)
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Cell<IN, UNITS>
    for Lstm<IN, UNITS, R, BIAS>
{
    type Gates = [[f32; UNITS]; 4];
    type State = LstmState<UNITS>;
    const NO_GATES: [[f32; UNITS]; 4] = [[0.0; UNITS]; 4];
    const ZERO: LstmState<UNITS> = LstmState {
        h: crate::zeros(),
        c: crate::zeros(),
    };

    fn output(state: &LstmState<UNITS>) -> &[f32] {
        state.h.as_slice()
    }

    fn project(&self, x: &[f32], out: &mut [[[f32; UNITS]; 4]]) {
        // Keras adds the bias after the recurrent product: `(x·W + h·U) + b`.
        let kernel = self.kernel.as_flattened().as_flattened();
        project(
            4 * UNITS,
            IN,
            kernel,
            None,
            x,
            out.as_flattened_mut().as_flattened_mut(),
        );
    }

    fn step(&self, xw: &[[f32; UNITS]; 4], state: &mut LstmState<UNITS>, odd: bool) {
        let recurrent = self.recurrent_kernel.as_flattened().as_flattened();
        if self.fused() {
            let mut z = Aligned([[0.0f32; UNITS]; 4]);
            let done = gemv_sweep_simd(
                4 * UNITS,
                UNITS,
                recurrent,
                4 * UNITS,
                state.h.as_slice(),
                z.as_flattened_mut(),
                odd,
            ) && self.fused_gates(xw, &z, state);
            if done {
                return;
            }
        }
        let mut z = [[0.0f32; UNITS]; 4];
        gemv(
            4 * UNITS,
            UNITS,
            recurrent,
            4 * UNITS,
            state.h.as_slice(),
            z.as_flattened_mut(),
        );
        self.finish(xw, &mut z, state);
    }

    fn fused_recurrent(&self) -> Option<&[f32]> {
        Some(self.recurrent_kernel.as_flattened().as_flattened())
    }

    fn gates_flat(gates: &mut [[[f32; UNITS]; 4]]) -> &mut [f32] {
        gates.as_flattened_mut().as_flattened_mut()
    }

    fn finish(
        &self,
        xw: &[[f32; UNITS]; 4],
        z: &mut [[f32; UNITS]; 4],
        state: &mut LstmState<UNITS>,
    ) {
        if self.fused() && self.fused_gates(xw, z, state) {
            return;
        }
        for ((z, x), b) in z.iter_mut().zip(xw).zip(&self.bias) {
            for j in 0..UNITS {
                z[j] += x[j];
                if BIAS {
                    z[j] += b[j];
                }
            }
        }
        self.gates(z, state);
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Lstm<IN, UNITS, R, BIAS> {
    /// Whether a step runs as fused SIMD kernels: Keras's default activations, where they run.
    fn fused(&self) -> bool {
        self.activation == Activation::Tanh
            && self.recurrent_activation == Activation::Sigmoid
            && gates_simd()
    }

    /// The rest of a step after `z = U·h` as one fused SIMD kernel (`false` when it does not
    /// run).
    fn fused_gates(
        &self,
        xw: &[[f32; UNITS]; 4],
        z: &[[f32; UNITS]; 4],
        state: &mut LstmState<UNITS>,
    ) -> bool {
        lstm_gates_simd(
            z.as_flattened(),
            Some(xw.as_flattened()),
            BIAS.then_some(self.bias.as_flattened()),
            state.c.as_mut_slice(),
            state.h.as_mut_slice(),
        )
    }

    /// The rest of a step once `z` holds the sums of all four gates: activations and the new
    /// state.
    fn gates(&self, z: &mut [[f32; UNITS]; 4], state: &mut LstmState<UNITS>) {
        let [i, f, g, o] = z;
        self.recurrent_activation.apply(i, UNITS);
        self.recurrent_activation.apply(f, UNITS);
        self.activation.apply(g, UNITS);
        self.recurrent_activation.apply(o, UNITS);
        let c = state.c.as_mut_slice();
        for j in 0..UNITS {
            c[j] = f[j] * c[j] + i[j] * g[j];
        }
        let mut act_c = [0.0f32; UNITS];
        act_c.copy_from_slice(c);
        self.activation.apply(&mut act_c, UNITS);
        for (h, (o, a)) in state.h.iter_mut().zip(o.iter().zip(&act_c)) {
            *h = o * a;
        }
    }
}

impl<const IN: usize, const UNITS: usize, const T: usize, R: ReturnMode, const BIAS: bool>
    Layer<Tensor<IN, T>> for Lstm<IN, UNITS, R, BIAS>
{
    type Output = R::Output<UNITS, T>;

    fn forward(&self, x: &Tensor<IN, T>) -> Self::Output {
        self.forward_with(x, None, &mut LstmState::default())
    }

    /// The samples' steps in lockstep, one recurrent matrix product per step.
    fn forward_batch(&self, xs: &[Tensor<IN, T>], outs: &mut [Self::Output]) {
        run_batch::<Self, R, IN, UNITS, T>(self, self.go_backwards, xs, outs);
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Weights
    for Lstm<IN, UNITS, R, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        &Self::WITH_BIAS[..if BIAS { 3 } else { 2 }]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        // Keras's layout is the one the products want: straight copies.
        let target = match index {
            0 => self.kernel.as_flattened_mut().as_flattened_mut(),
            1 => self.recurrent_kernel.as_flattened_mut().as_flattened_mut(),
            _ => self.bias.as_flattened_mut(),
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match index {
            0 => self.kernel.as_flattened().as_flattened(),
            1 => self.recurrent_kernel.as_flattened().as_flattened(),
            _ => self.bias.as_flattened(),
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]): glorot_uniform kernel, the whole
/// recurrent kernel one orthogonal matrix, zero bias with the forget gate at one (`unit_forget_bias`,
/// unless declared `False`: [`crate::train::init::NO_UNIT_FORGET_BIAS`]).
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> crate::train::Init
    for Lstm<IN, UNITS, R, BIAS>
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
                4 * UNITS,
            );
        }
        if BIAS && !crate::train::init::no_unit_forget_bias(overrides) {
            // unit_forget_bias=True: the forget gate's bias starts at one.
            self.bias[1] = [1.0; UNITS];
        }
    }
}

/// Training: each step keeps the gates' pre-activations and activations and `c_{t−1}`, `c_t`,
/// `act(c_t)`. Backwards, with `∂c` carried: `∂c += act'(c)·(∂h·o)`, then
/// `∂i = ∂c·g`, `∂f = ∂c·c_{t−1}`, `∂g = ∂c·i`, `∂o = ∂h·act(c)`, `∂c_{t−1} = ∂c·f`, each through
/// its activation. Keras's cell applies a rate strictly between 0 and 1; any non-zero
/// `recurrent_dropout` gives each gate its own masks (Keras's implementation 1).
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> TrainCell<IN, UNITS>
    for Lstm<IN, UNITS, R, BIAS>
{
    type Gx = [[f32; UNITS]; 4];
    type Mi = [[f32; IN]; 4];
    type Mr = [[f32; UNITS]; 4];
    const G: usize = 4;

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
        None
    }

    fn product_gates(&self) -> usize {
        4
    }

    fn go_backwards(&self) -> bool {
        self.go_backwards
    }

    fn zero_output_for_mask(&self) -> bool {
        self.zero_output_for_mask
    }

    fn step(
        &self,
        pre: &mut [[f32; UNITS]; 4],
        z: &[[f32; UNITS]; 4],
        state: &mut [[f32; UNITS]; 2],
        post: &mut [[f32; UNITS]; 4],
        aux: &mut [[f32; UNITS]; 3],
        _rec_mask: &[[f32; UNITS]; 4],
    ) {
        for ((p, z), b) in pre.iter_mut().zip(z).zip(&self.bias) {
            for j in 0..UNITS {
                p[j] += z[j];
                if BIAS {
                    p[j] += b[j];
                }
            }
        }
        *post = *pre;
        let [i, f, g, o] = post;
        self.recurrent_activation.apply(i, UNITS);
        self.recurrent_activation.apply(f, UNITS);
        self.activation.apply(g, UNITS);
        self.recurrent_activation.apply(o, UNITS);
        let [c_prev, c, act_c] = aux;
        *c_prev = state[1];
        for j in 0..UNITS {
            c[j] = f[j] * c_prev[j] + i[j] * g[j];
        }
        *act_c = *c;
        self.activation.apply(act_c, UNITS);
        for j in 0..UNITS {
            state[0][j] = o[j] * act_c[j];
        }
        state[1] = *c;
    }

    fn step_backward(
        &self,
        pre: &mut [[f32; UNITS]; 4],
        post: &[[f32; UNITS]; 4],
        aux: &mut [[f32; UNITS]; 3],
        _h_in: &[f32; UNITS],
        carry: &mut [[f32; UNITS]; 2],
        drec: &mut [[f32; UNITS]; 4],
        _rec_mask: &[[f32; UNITS]; 4],
    ) {
        let [i, f, g, o] = post;
        let [c_prev, c, act_c] = aux;
        let [dh, dc] = carry;
        let mut through = [0.0f32; UNITS];
        for j in 0..UNITS {
            through[j] = dh[j] * o[j];
        }
        let mut dcc = [0.0f32; UNITS];
        self.activation
            .backward(c, act_c, &through, &mut dcc, UNITS);
        let mut d_post = [[0.0f32; UNITS]; 4];
        for j in 0..UNITS {
            let dc_j = dc[j] + dcc[j];
            d_post[0][j] = dc_j * g[j];
            d_post[1][j] = dc_j * c_prev[j];
            d_post[2][j] = dc_j * i[j];
            d_post[3][j] = dh[j] * act_c[j];
            dc[j] = dc_j * f[j];
        }
        *dh = [0.0; UNITS];
        for gate in 0..4 {
            let act = if gate == 2 {
                self.activation
            } else {
                self.recurrent_activation
            };
            act.backward(
                &pre[gate],
                &post[gate],
                &d_post[gate],
                &mut drec[gate],
                UNITS,
            );
        }
        *pre = *drec;
    }

    fn recurrent_grads<const T: usize>(
        &self,
        cache: &RnnCache<[[f32; UNITS]; 4], [[f32; IN]; 4], [[f32; UNITS]; 4], UNITS, T>,
        rec: &mut [f32],
        _bias: &mut [f32],
    ) {
        if TrainCell::per_gate(self) {
            recurrent_products(cache, 0..4, 4 * UNITS, true, |t, g| cache.pre[t][g], rec);
        } else {
            recurrent_product_all(cache, 4 * UNITS, rec);
        }
    }

    fn grad_parts(g: &mut Self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        let bias: &mut [f32] = if BIAS {
            g.bias.as_flattened_mut()
        } else {
            &mut []
        };
        (
            g.kernel.as_flattened_mut().as_flattened_mut(),
            g.recurrent_kernel.as_flattened_mut().as_flattened_mut(),
            bias,
        )
    }
}

train_impls!(
    Lstm,
    [[f32; UNITS]; 4],
    [[f32; IN]; 4],
    [[f32; UNITS]; 4],
    2
);

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Params for Lstm<IN, UNITS, R, BIAS> {
    fn trainable_count(&self) -> usize {
        2 + usize::from(BIAS)
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.kernel.as_flattened_mut().as_flattened_mut());
        f(self.recurrent_kernel.as_flattened_mut().as_flattened_mut());
        if BIAS {
            f(self.bias.as_flattened_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::sigmoid;

    #[test]
    fn two_steps_by_hand() {
        // One unit, one input; kernel [wi, wf, wc, wo], recurrent [ui, uf, uc, uo], bias.
        let (w, u, b) = (
            [0.5f32, -0.3, 0.8, 0.2],
            [0.1f32, 0.4, -0.6, 0.3],
            [0.05f32, 1.0, -0.1, 0.0],
        );
        let mut lstm: Lstm<1, 1> = Lstm::new(Activation::Tanh, Activation::Sigmoid);
        lstm.load_variable(0, &mut w.into_iter());
        lstm.load_variable(1, &mut u.into_iter());
        lstm.load_variable(2, &mut b.into_iter());
        let xs = [1.5f32, -0.7];
        let (mut h, mut c) = (0.0f32, 0.0f32);
        for x in xs {
            let z: [f32; 4] = core::array::from_fn(|g| x * w[g] + h * u[g] + b[g]);
            c = sigmoid(z[1]) * c + sigmoid(z[0]) * libm::tanhf(z[2]);
            h = sigmoid(z[3]) * libm::tanhf(c);
        }
        let mut state = LstmState::default();
        let y = lstm.forward_with(&Tensor::<1, 2>::from_slice(&xs), None, &mut state);
        assert!(
            (y[0] - h).abs() < 1e-6 && (state.c[0] - c).abs() < 1e-6,
            "{y:?} {h}"
        );
        assert_eq!(lstm.param_count(), 12);
        assert_eq!(
            Lstm::<3, 2, ReturnLast, false>::default().param_count(),
            3 * 8 + 2 * 8
        );
    }
}
