//! `BatchNormalization` at inference: one fused pass `y = x·a + b` per channel.

use super::channel_layout_ok;
use super::math::{affine_dispatch, affine_in_place_dispatch, fma, rsqrt};
use crate::layer::{Layer, Variable, Weights};
use crate::memory::{zeroable, InPlace};
use crate::{zeros, Tensor};

/// Keras `BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True)` at
/// inference: `y = (x − moving_mean) / √(moving_variance + ε) · γ + β` per index of `axis`.
///
/// The layer keeps Keras's four variables and, beside them, the per-channel factors
/// `a = γ · rsqrt(σ² + ε)` and `b = β − μ·a`, computed whenever a variable is loaded (and by
/// the compiler in [`BatchNorm::from_le_bytes_const`]), in Keras's JAX order and rounding, so
/// the forward pass is one multiply-add per value. `SCALE = false` drops γ (a = rsqrt(σ² + ε)),
/// `CENTER = false` drops β; the variables that remain keep Keras's order.
///
/// The tensor is seen as `(outer, C, INNER)`: `C` is the size of the normalized axis and
/// `INNER` the number of values after it (1 when the axis is the last one, as after a
/// convolution).
///
/// # Shapes
/// - input and output: `Tensor<F, P>` (any Keras shape), with `F = C` when `INNER = 1`.
/// - variables: `gamma (C,)` if `SCALE`, `beta (C,)` if `CENTER`, `moving_mean (C,)`,
///   `moving_variance (C,)`.
///
/// ```
/// use static_keras_runtime::{zeros, BatchNorm, Layer, Tensor, Weights};
/// let mut bn: BatchNorm<2> = BatchNorm::new(1e-3);
/// bn.load_variable(0, &mut [2.0, 1.0].into_iter()); // gamma
/// bn.load_variable(1, &mut [0.5, 0.0].into_iter()); // beta
/// bn.load_variable(2, &mut [1.0, -1.0].into_iter()); // moving_mean
/// bn.load_variable(3, &mut [3.999, 0.999].into_iter()); // moving_variance
/// let mut x: Tensor<2, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[3.0, 1.0]);
/// let y = bn.forward(&x);
/// assert_eq!(y.as_slice(), &[2.5, 2.0]); // (3 − 1)/2·2 + 0.5, (1 + 1)/1
/// ```
///
/// A tensor whose channels do not match does not build:
///
/// ```compile_fail
/// use static_keras_runtime::{zeros, BatchNorm, Layer, Tensor};
/// let bn: BatchNorm<3> = BatchNorm::new(1e-3);
/// let y = bn.forward(&zeros::<4, 2>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm<
    const C: usize,
    const INNER: usize = 1,
    const CENTER: bool = true,
    const SCALE: bool = true,
> {
    gamma: [f32; C],
    beta: [f32; C],
    moving_mean: [f32; C],
    moving_variance: [f32; C],
    /// `y = x·a + b`, from the four above and `epsilon`.
    a: [f32; C],
    b: [f32; C],
    epsilon: f32,
}

zeroable!([const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool] BatchNorm<C, INNER, CENTER, SCALE> => BatchNorm { gamma, beta, moving_mean, moving_variance, a, b, epsilon });

/// Which stored array a variable index names.
#[derive(Clone, Copy)]
enum Slot {
    Gamma,
    Beta,
    Mean,
    Variance,
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    BatchNorm<C, INNER, CENTER, SCALE>
{
    const GAMMA: Variable = Variable {
        name: "gamma",
        shape: &[C],
    };
    const BETA: Variable = Variable {
        name: "beta",
        shape: &[C],
    };
    const MEAN: Variable = Variable {
        name: "moving_mean",
        shape: &[C],
    };
    const VARIANCE: Variable = Variable {
        name: "moving_variance",
        shape: &[C],
    };
    const ALL: &'static [Variable] = &[Self::GAMMA, Self::BETA, Self::MEAN, Self::VARIANCE];
    const NO_BETA: &'static [Variable] = &[Self::GAMMA, Self::MEAN, Self::VARIANCE];
    const NO_GAMMA: &'static [Variable] = &[Self::BETA, Self::MEAN, Self::VARIANCE];
    const STATS: &'static [Variable] = &[Self::MEAN, Self::VARIANCE];
    /// Keras's variables: gamma and beta only when present, the moving statistics always.
    const VARIABLES: &'static [Variable] = match (SCALE, CENTER) {
        (true, true) => Self::ALL,
        (true, false) => Self::NO_BETA,
        (false, true) => Self::NO_GAMMA,
        (false, false) => Self::STATS,
    };

    /// Variable `index` in Keras's order.
    const fn slot(index: usize) -> Slot {
        let skip = !SCALE as usize;
        let index = index + skip;
        let index = if !CENTER && index >= 1 {
            index + 1
        } else {
            index
        };
        match index {
            0 => Slot::Gamma,
            1 => Slot::Beta,
            2 => Slot::Mean,
            _ => Slot::Variance,
        }
    }

    /// A layer with zero variables (γ, β, μ and σ² all 0) and the given `epsilon`.
    pub const fn new(epsilon: f32) -> Self {
        Self::from_parts([0.0; C], [0.0; C], [0.0; C], [0.0; C], epsilon)
    }

    /// The layer from its variables (a γ or β the layer does not have is ignored).
    pub const fn from_parts(
        gamma: [f32; C],
        beta: [f32; C],
        moving_mean: [f32; C],
        moving_variance: [f32; C],
        epsilon: f32,
    ) -> Self {
        let mut layer = Self {
            gamma: if SCALE { gamma } else { [0.0; C] },
            beta: if CENTER { beta } else { [0.0; C] },
            moving_mean,
            moving_variance,
            a: [0.0; C],
            b: [0.0; C],
            epsilon,
        };
        layer.fold();
        layer
    }

    /// The layer from its Keras variables as raw little-endian f32 (in `variables()` order), at
    /// compile time: `static` models built this way keep their weights and the folded factors
    /// in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], epsilon: f32) -> Self {
        let count = 2 + SCALE as usize + CENTER as usize;
        assert!(
            bytes.len() == 4 * count * C,
            "BatchNorm: weight byte count does not match 4 * C per variable"
        );
        let mut arrays = [[0.0f32; C]; 4];
        let mut v = 0;
        let mut rest = bytes;
        while v < count {
            let (head, tail) = rest.split_at(4 * C);
            let target = match Self::slot(v) {
                Slot::Gamma => 0,
                Slot::Beta => 1,
                Slot::Mean => 2,
                Slot::Variance => 3,
            };
            crate::fill_from_le_bytes(&mut arrays[target], head);
            rest = tail;
            v += 1;
        }
        let [gamma, beta, mean, variance] = arrays;
        Self::from_parts(gamma, beta, mean, variance, epsilon)
    }

    /// Computes `a` and `b` as Keras's JAX backend does: `inv = rsqrt(σ² + ε) · γ`,
    /// `res = −μ·inv + β` (contracted to one rounding by XLA).
    const fn fold(&mut self) {
        let mut c = 0;
        while c < C {
            let mut inv = rsqrt(self.moving_variance[c] + self.epsilon);
            if SCALE {
                inv *= self.gamma[c];
            }
            self.a[c] = inv;
            self.b[c] = if CENTER {
                fma(-self.moving_mean[c], inv, self.beta[c])
            } else {
                -self.moving_mean[c] * inv
            };
            c += 1;
        }
    }

    /// ε, added to the variance.
    pub const fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// Sets ε (and the folded factors with it), in place: how a model allocated as zero bytes
    /// gets the `epsilon` it declares without building the layer by value.
    pub fn set_epsilon(&mut self, epsilon: f32) {
        self.epsilon = epsilon;
        self.fold();
    }

    /// The per-channel factors of `y = x·a + b`.
    pub const fn factors(&self) -> (&[f32; C], &[f32; C]) {
        (&self.a, &self.b)
    }
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> Default
    for BatchNorm<C, INNER, CENTER, SCALE>
{
    /// Zero variables and Keras's default `epsilon = 1e-3`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl<
        const C: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for BatchNorm<C, INNER, CENTER, SCALE>
{
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>) {
        const {
            assert!(
                channel_layout_ok(F, P, C, INNER),
                "BatchNorm<C, INNER> does not fit this tensor: the C values of the normalized axis must line up with its axes (see the type docs)"
            )
        };
        affine_dispatch::<C, INNER>(x.as_slice(), y.as_mut_slice(), &self.a, &self.b);
    }
}

impl<
        const C: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > InPlace<Tensor<F, P>> for BatchNorm<C, INNER, CENTER, SCALE>
{
    fn forward_in_place(&self, x: &mut Tensor<F, P>) {
        const {
            assert!(
                channel_layout_ok(F, P, C, INNER),
                "BatchNorm<C, INNER> does not fit this tensor: the C values of the normalized axis must line up with its axes (see the type docs)"
            )
        };
        affine_in_place_dispatch::<C, INNER>(x.as_mut_slice(), &self.a, &self.b);
    }
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> Weights
    for BatchNorm<C, INNER, CENTER, SCALE>
{
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        let target = match Self::slot(index) {
            Slot::Gamma => &mut self.gamma,
            Slot::Beta => &mut self.beta,
            Slot::Mean => &mut self.moving_mean,
            Slot::Variance => &mut self.moving_variance,
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
        self.fold();
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match Self::slot(index) {
            Slot::Gamma => &self.gamma,
            Slot::Beta => &self.beta,
            Slot::Mean => &self.moving_mean,
            Slot::Variance => &self.moving_variance,
        };
        source.iter().for_each(|&v| out(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t: Tensor<F, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn variables_shift_with_center_and_scale() {
        let names = |vars: &[Variable]| {
            let mut out = [""; 4];
            vars.iter().zip(&mut out).for_each(|(v, o)| *o = v.name);
            out
        };
        assert_eq!(
            names(BatchNorm::<3, 1, true, true>::default().variables()),
            ["gamma", "beta", "moving_mean", "moving_variance"]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, false, true>::default().variables()),
            ["gamma", "moving_mean", "moving_variance", ""]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, true, false>::default().variables()),
            ["beta", "moving_mean", "moving_variance", ""]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, false, false>::default().variables()),
            ["moving_mean", "moving_variance", "", ""]
        );
        assert_eq!(BatchNorm::<3, 1, false, false>::default().param_count(), 6);
    }

    #[test]
    fn every_combination_normalizes_by_hand() {
        // x = 5, μ = 1, σ² = 4 − ε  →  (x − μ)/2 = 2; γ = 3, β = −1.
        let x = tensor::<1, 1>(&[5.0]);
        let var = 4.0 - 1e-3;
        let full = BatchNorm::<1>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(full.forward(&x).as_slice(), &[5.0]);
        let no_center = BatchNorm::<1, 1, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(no_center.forward(&x).as_slice(), &[6.0]);
        let no_scale =
            BatchNorm::<1, 1, true, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(no_scale.forward(&x).as_slice(), &[1.0]);
        let neither =
            BatchNorm::<1, 1, false, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(neither.forward(&x).as_slice(), &[2.0]);
    }

    #[test]
    fn loading_in_keras_order_and_storing_back() {
        // center=False: gamma, moving_mean, moving_variance.
        let mut bn = BatchNorm::<2, 1, false, true>::new(0.0);
        bn.load_variable(0, &mut [2.0, 4.0].into_iter());
        bn.load_variable(1, &mut [1.0, 0.0].into_iter());
        bn.load_variable(2, &mut [4.0, 16.0].into_iter());
        assert_eq!(bn.factors(), (&[1.0, 1.0], &[-1.0, -0.0]));
        let mut seen = [0.0; 6];
        let mut n = 0;
        for i in 0..3 {
            bn.store_variable(i, &mut |v| {
                seen[n] = v;
                n += 1;
            });
        }
        assert_eq!(seen, [2.0, 4.0, 1.0, 0.0, 4.0, 16.0]);
    }

    #[test]
    fn a_middle_axis_uses_inner() {
        // Keras shape (2, 3) normalized over axis 1 of (batch, 2, 3)... i.e. the rows: C = 2,
        // INNER = 3. Row 0 scaled by 2, row 1 shifted by 1.
        let bn = BatchNorm::<2, 3>::from_parts([2.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0], 0.0);
        let y = bn.forward(&tensor::<3, 2>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(y.as_slice(), &[2.0, 4.0, 6.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn the_const_constructor_matches_loading() {
        const BYTES: [u8; 24] = {
            let values = [1.5f32, -0.5, 0.25, 0.75, 2.0, 0.5];
            let mut out = [0u8; 24];
            let mut i = 0;
            while i < 6 {
                let b = values[i].to_le_bytes();
                out[4 * i] = b[0];
                out[4 * i + 1] = b[1];
                out[4 * i + 2] = b[2];
                out[4 * i + 3] = b[3];
                i += 1;
            }
            out
        };
        // scale=False: beta, moving_mean, moving_variance.
        static BN: BatchNorm<2, 1, true, false> = BatchNorm::from_le_bytes_const(&BYTES, 1e-3);
        let mut loaded = BatchNorm::<2, 1, true, false>::new(1e-3);
        for (i, pair) in [[1.5, -0.5], [0.25, 0.75], [2.0, 0.5]]
            .into_iter()
            .enumerate()
        {
            loaded.load_variable(i, &mut pair.into_iter());
        }
        assert_eq!(BN, loaded);
        assert_eq!(BN.factors().0[0], rsqrt(2.0 + 1e-3));
    }
}
