//! `Normalization`: a fixed mean and variance per index of the kept axes.

use crate::memory::zeroable;
use core::marker::PhantomData;

use super::math::sqrt;
use super::{channel_layout_ok, volume, VarShape};
use crate::layer::{Layer, Variable, Weights};
use crate::train::{no_params, stateless_train, Params};
use crate::{zeros, Tensor};

/// Keras's `backend.epsilon()`, the floor of the standard deviation.
const FLOOR: f32 = 1e-7;

/// Keras `Normalization(axis=-1, mean=None, variance=None, invert=False)`:
/// `y = (x − mean)/max(√variance, 1e-7)`, or with `INVERT` `y = mean + x·max(√variance, 1e-7)`,
/// with one mean and variance per index of the kept `axis`.
///
/// The kept axes are a contiguous block of `K` values followed by `INNER` values (`INNER = 1`
/// when they end with the last axis; `K = 1` and `INNER` = every value when `axis=None`).
/// With `WEIGHTS` (no `mean`/`variance` given to Keras's constructor, so `adapt` or a saved
/// file sets them) the statistics are Keras's variables `mean S`, `variance S` and the integer
/// `count ()`, which inference does not use; without, they come from the config
/// ([`Normalization::from_stats`]) and the layer has no variables.
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, with `F = K` for the last axis alone.
/// - variables (if `WEIGHTS`): `mean S`, `variance S`, `count ()`.
///
/// ```
/// use static_keras_runtime::{zeros, Dims1, Layer, Normalization, Tensor};
/// let norm: Normalization<Dims1<2>, 2, 1, false> = Normalization::from_stats([1.0, 0.0], [4.0, 0.0]);
/// let mut x: Tensor<2, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[5.0, 1e-7]);
/// assert_eq!(norm.forward(&x).as_slice(), &[2.0, 1.0]); // (5 − 1)/2, 1e-7 / 1e-7
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization<
    S,
    const K: usize,
    const INNER: usize = 1,
    const WEIGHTS: bool = true,
    const INVERT: bool = false,
> {
    mean: [f32; K],
    variance: [f32; K],
    /// `max(√variance, 1e-7)`, from `variance`.
    std: [f32; K],
    /// Keras's `count` variable (how many samples `adapt` saw), kept to be stored back.
    count: f32,
    shape: PhantomData<S>,
}

zeroable!([S, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool] Normalization<S, K, INNER, WEIGHTS, INVERT> => Normalization { mean, variance, std, count, shape });

impl<S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool>
    Normalization<S, K, INNER, WEIGHTS, INVERT>
{
    const STATS: &'static [Variable] = &[
        Variable {
            name: "mean",
            shape: S::SHAPE,
        },
        Variable {
            name: "variance",
            shape: S::SHAPE,
        },
        Variable {
            name: "count",
            shape: &[],
        },
    ];

    /// The layer from a mean and variance per kept index (Keras's `mean`/`variance` arguments,
    /// broadcast to the kept shape), usable in `const` context.
    pub const fn from_stats(mean: [f32; K], variance: [f32; K]) -> Self {
        let mut std = [0.0f32; K];
        let mut k = 0;
        while k < K {
            let s = sqrt(variance[k]);
            // Keras's maximum: a NaN variance stays NaN.
            std[k] = if s < FLOOR { FLOOR } else { s };
            k += 1;
        }
        Self {
            mean,
            variance,
            std,
            count: 0.0,
            shape: PhantomData,
        }
    }

    /// A layer with mean 0 and variance 1 (Keras's initial values before `adapt`).
    pub const fn new() -> Self {
        Self::from_stats([0.0; K], [1.0; K])
    }

    /// The layer from its Keras variables as raw little-endian f32 (mean, variance, count), at
    /// compile time.
    pub const fn from_le_bytes_const(bytes: &[u8]) -> Self {
        assert!(
            WEIGHTS && bytes.len() == 4 * (2 * K + 1),
            "Normalization: weight byte count does not match 4 * (2 * K + 1)"
        );
        let mut mean = [0.0f32; K];
        let mut variance = [0.0f32; K];
        let (m, rest) = bytes.split_at(4 * K);
        let (v, count) = rest.split_at(4 * K);
        crate::fill_from_le_bytes(&mut mean, m);
        crate::fill_from_le_bytes(&mut variance, v);
        let mut layer = Self::from_stats(mean, variance);
        layer.count = f32::from_le_bytes([count[0], count[1], count[2], count[3]]);
        layer
    }
}

impl<S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool>
    Default for Normalization<S, K, INNER, WEIGHTS, INVERT>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
        S: VarShape,
        const K: usize,
        const INNER: usize,
        const WEIGHTS: bool,
        const INVERT: bool,
        const F: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for Normalization<S, K, INNER, WEIGHTS, INVERT>
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
                volume(S::SHAPE) == K,
                "Normalization: K must be the number of values of the shape S"
            );
            assert!(
                channel_layout_ok(F, P, K, INNER),
                "Normalization<S, K, INNER> does not fit this tensor: the K values of the kept axes must line up with its axes (see the type docs)"
            );
        };
        let y = y.as_mut_slice();
        for (xs, ys) in x
            .as_slice()
            .chunks_exact(K * INNER)
            .zip(y.chunks_exact_mut(K * INNER))
        {
            for k in 0..K {
                let (mean, std) = (self.mean[k], self.std[k]);
                let range = k * INNER..(k + 1) * INNER;
                for (y, &x) in ys[range.clone()].iter_mut().zip(&xs[range]) {
                    *y = if INVERT {
                        mean + x * std
                    } else {
                        (x - mean) / std
                    };
                }
            }
        }
    }
}

impl<S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool>
    Weights for Normalization<S, K, INNER, WEIGHTS, INVERT>
{
    fn variables(&self) -> &'static [Variable] {
        if WEIGHTS {
            Self::STATS
        } else {
            &[]
        }
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        match index {
            0 => self.mean.iter_mut().zip(values).for_each(|(t, v)| *t = v),
            1 => self
                .variance
                .iter_mut()
                .zip(values)
                .for_each(|(t, v)| *t = v),
            _ => self.count = values.next().unwrap_or(0.0),
        }
        let count = self.count;
        *self = Self::from_stats(self.mean, self.variance);
        self.count = count;
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        match index {
            0 => self.mean.iter().for_each(|&v| out(v)),
            1 => self.variance.iter().for_each(|&v| out(v)),
            _ => out(self.count),
        }
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool>
    crate::train::Init for Normalization<S, K, INNER, WEIGHTS, INVERT>
{
}

stateless_train! {
    /// The training path: the statistics are constants (Keras's `mean`, `variance` and `count` are
    /// non-trainable), so the gradient is `∂x = ∂y / std` (`∂y · std` with `INVERT`).
    impl[S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool, const F: usize, const P: usize]
        Train<Tensor<F, P>> for Normalization<S, K, INNER, WEIGHTS, INVERT>;
    fn backward(&self, _x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        for (dxs, dys) in dx
            .as_mut_slice()
            .chunks_exact_mut(K * INNER)
            .zip(dy.as_slice().chunks_exact(K * INNER))
        {
            for k in 0..K {
                let std = self.std[k];
                let range = k * INNER..(k + 1) * INNER;
                for (d, &g) in dxs[range.clone()].iter_mut().zip(&dys[range]) {
                    *d += if INVERT { g * std } else { g / std };
                }
            }
        }
    }
}

no_params!(<S: VarShape, const K: usize, const INNER: usize, const WEIGHTS: bool, const INVERT: bool> Params for Normalization<S, K, INNER, WEIGHTS, INVERT>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dims0, Dims1};

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t: Tensor<F, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn adapted_variables_and_invert() {
        let mut norm: Normalization<Dims1<2>, 2> = Normalization::new();
        assert_eq!(norm.param_count(), 5);
        norm.load_variable(0, &mut [1.0, -1.0].into_iter());
        norm.load_variable(1, &mut [4.0, 0.25].into_iter());
        norm.load_variable(2, &mut [7.0].into_iter());
        let y = norm.forward(&tensor::<2, 2>(&[3.0, 0.0, 1.0, -1.0]));
        assert_eq!(y.as_slice(), &[1.0, 2.0, 0.0, 0.0]);
        let mut count = 0.0;
        norm.store_variable(2, &mut |v| count = v);
        assert_eq!(count, 7.0);

        let inv: Normalization<Dims1<2>, 2, 1, false, true> =
            Normalization::from_stats([1.0, -1.0], [4.0, 0.0]);
        assert!(inv.variables().is_empty());
        let y = inv.forward(&tensor::<2, 1>(&[1.0, 1.0]));
        assert_eq!(y.as_slice(), &[3.0, -1.0 + 1e-7]);
    }

    #[test]
    fn one_statistic_for_every_value() {
        // axis=None: K = 1 and INNER covers the whole (2, 2) sample.
        let norm: Normalization<Dims0, 1, 4, false> = Normalization::from_stats([2.0], [4.0]);
        let y = norm.forward(&tensor::<2, 2>(&[2.0, 4.0, 0.0, 6.0]));
        assert_eq!(y.as_slice(), &[0.0, 1.0, -1.0, 2.0]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        let norm: Normalization<Dims1<2>, 2, 1, false> =
            Normalization::from_stats([1.0, -1.0], [4.0, 0.25]);
        gradients::<_, Tensor<2, 3>>(&norm, 1);
        let inv: Normalization<Dims1<3>, 3, 2, false, true> =
            Normalization::from_stats([1.0, -1.0, 0.5], [4.0, 0.25, 2.0]);
        gradients::<_, Tensor<2, 3>>(&inv, 2);
        // The adapted variables are not trainable.
        assert_eq!(Normalization::<Dims1<2>, 2>::new().trainable_count(), 0);
    }
}
