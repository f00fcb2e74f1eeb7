//! `SimpleRNN`: `h_t = activation(x_t·W + b + h_{t−1}·U)`.

use crate::memory::zeroable;
use core::marker::PhantomData;

use super::train::{recurrent_product_all, train_impls, RnnCache, TrainCell};
use super::{project, run, run_batch, Cell, ReturnLast, ReturnMode};
use crate::kernels::gemv;
use crate::layer::{Layer, Variable, Weights};
use crate::tensor::fill_from_le_bytes;
use crate::train::Params;
use crate::{Activation, Tensor};

/// A fully connected recurrent layer, Keras `SimpleRNN(units, activation="tanh", use_bias=True,
/// return_sequences=False, go_backwards=False)`.
///
/// Each step computes `h_t = activation(x_t·kernel + bias + h_{t−1}·recurrent_kernel)` and outputs
/// `h_t`. `R` is [`ReturnLast`] or [`super::ReturnSequences`]; masks, `go_backwards` and carried
/// state work as described in the [module](super) documentation.
///
/// # Shapes
/// - input: `Tensor<IN, T>` (Keras `(T, IN)`)
/// - output: `Tensor<UNITS, 1>` (Keras `(UNITS,)`), or `Tensor<UNITS, T>` (Keras `(T, UNITS)`)
///   with `R = ReturnSequences`
/// - state: `Tensor<UNITS, 1>` (`h`)
/// - variables: `kernel (IN, UNITS)`, `recurrent_kernel (UNITS, UNITS)`, and `bias (UNITS,)`
///   when `BIAS`.
///
/// ```
/// use static_keras_runtime::{Activation, Layer, SimpleRnn, Tensor, Weights};
/// let mut rnn: SimpleRnn<1, 1> = SimpleRnn::new(Activation::Linear);
/// rnn.load_variable(0, &mut [1.0].into_iter()); // kernel
/// rnn.load_variable(1, &mut [0.5].into_iter()); // recurrent kernel
/// rnn.load_variable(2, &mut [0.0].into_iter()); // bias
/// let y = rnn.forward(&Tensor::<1, 3>::from_slice(&[4.0, 2.0, 1.0]));
/// assert_eq!(y[0], 1.0 + 0.5 * (2.0 + 0.5 * 4.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleRnn<const IN: usize, const UNITS: usize, R = ReturnLast, const BIAS: bool = true> {
    /// The Keras kernel `(IN, UNITS)` as stored: row `p` holds input `p`'s weights, which makes
    /// it the column-major `UNITS × IN` matrix `W` with `W·x`.
    pub kernel: [[f32; UNITS]; IN],
    /// The Keras recurrent kernel `(UNITS, UNITS)`, laid out like `kernel`.
    pub recurrent_kernel: [[f32; UNITS]; UNITS],
    /// The bias (zeros and unused when `BIAS` is false).
    pub bias: [f32; UNITS],
    /// Applied to each step's sum.
    pub activation: Activation,
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

zeroable!([const IN: usize, const UNITS: usize, R, const BIAS: bool] SimpleRnn<IN, UNITS, R, BIAS> => SimpleRnn { kernel, recurrent_kernel, bias, activation, go_backwards, zero_output_for_mask, dropout, recurrent_dropout, mode });

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> SimpleRnn<IN, UNITS, R, BIAS> {
    const WITH_BIAS: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: &[IN, UNITS],
        },
        Variable {
            name: "recurrent_kernel",
            shape: &[UNITS, UNITS],
        },
        Variable {
            name: "bias",
            shape: &[UNITS],
        },
    ];

    /// A layer with zero weights, processing forwards.
    pub const fn new(activation: Activation) -> Self {
        Self {
            kernel: [[0.0; UNITS]; IN],
            recurrent_kernel: [[0.0; UNITS]; UNITS],
            bias: [0.0; UNITS],
            activation,
            go_backwards: false,
            zero_output_for_mask: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            mode: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, recurrent kernel,
    /// bias), at compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        let mut layer = Self::new(activation);
        let n = IN * UNITS + UNITS * UNITS + if BIAS { UNITS } else { 0 };
        assert!(
            bytes.len() == 4 * n,
            "SimpleRNN: weight byte count does not match"
        );
        let (kernel, rest) = bytes.split_at(4 * IN * UNITS);
        let (recurrent, bias) = rest.split_at(4 * UNITS * UNITS);
        fill_from_le_bytes(layer.kernel.as_flattened_mut(), kernel);
        fill_from_le_bytes(layer.recurrent_kernel.as_flattened_mut(), recurrent);
        if BIAS {
            fill_from_le_bytes(&mut layer.bias, bias);
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
    SimpleRnn<IN, UNITS, R, BIAS>
{
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

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Default
    for SimpleRnn<IN, UNITS, R, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Tanh)
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Cell<IN, UNITS>
    for SimpleRnn<IN, UNITS, R, BIAS>
{
    type Gates = [f32; UNITS];
    type State = Tensor<UNITS, 1>;
    const NO_GATES: [f32; UNITS] = [0.0; UNITS];
    const ZERO: Tensor<UNITS, 1> = crate::zeros();

    fn output(state: &Tensor<UNITS, 1>) -> &[f32] {
        state.as_slice()
    }

    fn project(&self, x: &[f32], out: &mut [[f32; UNITS]]) {
        let bias = BIAS.then_some(&self.bias[..]);
        project(
            UNITS,
            IN,
            self.kernel.as_flattened(),
            bias,
            x,
            out.as_flattened_mut(),
        );
    }

    fn step(&self, xw: &[f32; UNITS], h: &mut Tensor<UNITS, 1>, _odd: bool) {
        let mut z = [0.0f32; UNITS];
        gemv(
            UNITS,
            UNITS,
            self.recurrent_kernel.as_flattened(),
            UNITS,
            h.as_slice(),
            &mut z,
        );
        self.finish(xw, &mut z, h);
    }

    fn fused_recurrent(&self) -> Option<&[f32]> {
        Some(self.recurrent_kernel.as_flattened())
    }

    fn gates_flat(gates: &mut [[f32; UNITS]]) -> &mut [f32] {
        gates.as_flattened_mut()
    }

    fn finish(&self, xw: &[f32; UNITS], z: &mut [f32; UNITS], h: &mut Tensor<UNITS, 1>) {
        for (z, x) in z.iter_mut().zip(xw) {
            *z += x;
        }
        self.activation.apply(z, UNITS);
        h.as_mut_slice().copy_from_slice(z);
    }
}

impl<const IN: usize, const UNITS: usize, const T: usize, R: ReturnMode, const BIAS: bool>
    Layer<Tensor<IN, T>> for SimpleRnn<IN, UNITS, R, BIAS>
{
    type Output = R::Output<UNITS, T>;

    fn forward(&self, x: &Tensor<IN, T>) -> Self::Output {
        self.forward_with(x, None, &mut Tensor::zeros())
    }

    /// The samples' steps in lockstep, one recurrent matrix product per step.
    fn forward_batch(&self, xs: &[Tensor<IN, T>], outs: &mut [Self::Output]) {
        run_batch::<Self, R, IN, UNITS, T>(self, self.go_backwards, xs, outs);
    }
}

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Weights
    for SimpleRnn<IN, UNITS, R, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        &Self::WITH_BIAS[..if BIAS { 3 } else { 2 }]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        // Keras's layout is the one the products want: straight copies.
        let target = match index {
            0 => self.kernel.as_flattened_mut(),
            1 => self.recurrent_kernel.as_flattened_mut(),
            _ => &mut self.bias[..],
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match index {
            0 => self.kernel.as_flattened(),
            1 => self.recurrent_kernel.as_flattened(),
            _ => &self.bias[..],
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]): glorot_uniform kernel, the whole
/// recurrent kernel one orthogonal matrix, zero bias.
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> crate::train::Init
    for SimpleRnn<IN, UNITS, R, BIAS>
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
                self.recurrent_kernel.as_flattened_mut(),
                UNITS,
                UNITS,
            );
        }
    }
}

/// Training: `a_t = x_t·W + b + h_{t−1}·U` is kept with `h_t = act(a_t)`; backwards
/// `∂a = act'(a)·∂h`, which is the gradient of both products. A dropout rate above 0 draws a mask
/// (SimpleRNN's cell applies any positive rate; 1 drops everything).
impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> TrainCell<IN, UNITS>
    for SimpleRnn<IN, UNITS, R, BIAS>
{
    type Gx = [f32; UNITS];
    type Mi = [[f32; IN]; 1];
    type Mr = [[f32; UNITS]; 1];
    const G: usize = 1;

    fn dropout_rates(&self) -> (f32, f32) {
        (self.dropout, self.recurrent_dropout)
    }

    fn per_gate(&self) -> bool {
        false
    }

    fn kernel(&self) -> &[f32] {
        self.kernel.as_flattened()
    }

    fn recurrent(&self) -> &[f32] {
        self.recurrent_kernel.as_flattened()
    }

    fn input_bias(&self) -> Option<&[f32]> {
        BIAS.then_some(&self.bias[..])
    }

    fn product_gates(&self) -> usize {
        1
    }

    fn go_backwards(&self) -> bool {
        self.go_backwards
    }

    fn zero_output_for_mask(&self) -> bool {
        self.zero_output_for_mask
    }

    fn step(
        &self,
        pre: &mut [f32; UNITS],
        z: &[f32; UNITS],
        state: &mut [[f32; UNITS]; 2],
        post: &mut [f32; UNITS],
        _aux: &mut [[f32; UNITS]; 3],
        _rec_mask: &[[f32; UNITS]; 1],
    ) {
        for (p, z) in pre.iter_mut().zip(z) {
            *p += z;
        }
        *post = *pre;
        self.activation.apply(post, UNITS);
        state[0] = *post;
    }

    fn step_backward(
        &self,
        pre: &mut [f32; UNITS],
        post: &[f32; UNITS],
        _aux: &mut [[f32; UNITS]; 3],
        _h_in: &[f32; UNITS],
        carry: &mut [[f32; UNITS]; 2],
        drec: &mut [f32; UNITS],
        _rec_mask: &[[f32; UNITS]; 1],
    ) {
        self.activation
            .backward(&pre[..], post, &carry[0], drec, UNITS);
        *pre = *drec;
        carry[0] = [0.0; UNITS];
    }

    fn recurrent_grads<const T: usize>(
        &self,
        cache: &RnnCache<[f32; UNITS], [[f32; IN]; 1], [[f32; UNITS]; 1], UNITS, T>,
        rec: &mut [f32],
        _bias: &mut [f32],
    ) {
        recurrent_product_all(cache, UNITS, rec);
    }

    fn grad_parts(g: &mut Self) -> (&mut [f32], &mut [f32], &mut [f32]) {
        let bias: &mut [f32] = if BIAS { &mut g.bias[..] } else { &mut [] };
        (
            g.kernel.as_flattened_mut(),
            g.recurrent_kernel.as_flattened_mut(),
            bias,
        )
    }
}

train_impls!(
    SimpleRnn,
    [f32; UNITS],
    [[f32; IN]; 1],
    [[f32; UNITS]; 1],
    1
);

impl<const IN: usize, const UNITS: usize, R, const BIAS: bool> Params
    for SimpleRnn<IN, UNITS, R, BIAS>
{
    fn trainable_count(&self) -> usize {
        2 + usize::from(BIAS)
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.kernel.as_flattened_mut());
        f(self.recurrent_kernel.as_flattened_mut());
        if BIAS {
            f(&mut self.bias[..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReturnSequences;

    #[test]
    fn one_step_by_hand() {
        // IN = 2, UNITS = 2: kernel [[1, 2], [3, 4]], recurrent [[0.5, 0], [0, -1]], bias [0.1, 0.2].
        let mut rnn: SimpleRnn<2, 2, ReturnSequences> = SimpleRnn::new(Activation::Linear);
        rnn.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0].into_iter());
        rnn.load_variable(1, &mut [0.5, 0.0, 0.0, -1.0].into_iter());
        rnn.load_variable(2, &mut [0.1, 0.2].into_iter());
        let x = Tensor::<2, 2>::from_slice(&[1.0, 0.0, 0.0, 1.0]);
        let y = rnn.forward(&x);
        // t0: x·W + b = [1.1, 2.2]; t1: [3, 4] + [0.1, 0.2] + [0.55, -2.2].
        let want = [1.1f32, 2.2, 3.1 + 0.55, 4.2 - 2.2];
        for (g, w) in y.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{y:?}");
        }
        let mut stored = [0.0f32; 4];
        let mut i = 0;
        rnn.store_variable(0, &mut |v| {
            stored[i] = v;
            i += 1;
        });
        assert_eq!(stored, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(rnn.param_count(), 10);
        assert_eq!(
            SimpleRnn::<2, 2, ReturnLast, false>::default().param_count(),
            8
        );
    }
}
