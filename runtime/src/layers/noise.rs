//! The noise layers, the identity at inference and random in training: `SpatialDropout1D/2D/3D`,
//! `GaussianNoise`, `GaussianDropout`, `AlphaDropout`. Each keeps its training arguments.
//!
//! Training draws from the trainer's seeded generator ([`TrainCtx`]); Keras's JAX bits cannot be
//! reproduced, only their distribution, which the tests check. A rate (or `stddev`) of 0 is
//! the identity, as in Keras.

use crate::memory::zeroable;
use libm::{pow, sqrt};

use super::dropout::{dropout_backward, dropout_forward, NoiseShape};
use crate::layer::{no_weights, Layer, Weights};
use crate::train::{add_into, no_params, Params, Train, TrainCtx};
use crate::Tensor;

/// Keras `SpatialDropout1D(rate, seed=None)`, `SpatialDropout2D(rate, data_format=None,
/// seed=None)`, `SpatialDropout3D(…)`: in training whole channels are dropped (one draw per
/// sample and channel, kept values divided by `1 − rate`, as `Dropout` with the noise shape
/// `(batch, 1, …, channels)`); at inference (`predict`) Keras returns the input unchanged, and
/// so does this layer.
///
/// # Shapes
/// - input and output: any tensor, unchanged (Keras asks rank 2, 3 or 4 without the batch).
///
/// ```
/// use static_keras_runtime::{zeros, Layer, SpatialDropout};
/// // SpatialDropout1D(0.5) on (4, 3): one draw per channel of the 4 steps.
/// let x = zeros::<3, 4>();
/// assert_eq!(SpatialDropout::new(0.5, &[4, 3], false).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpatialDropout {
    /// The training-time rate at which channels are dropped.
    pub rate: f32,
    /// One draw per sample and channel.
    pub noise_shape: NoiseShape,
}

zeroable!([] SpatialDropout => SpatialDropout { rate, noise_shape });

impl SpatialDropout {
    /// A layer with the given training rate, for inputs of Keras shape `shape` (without the
    /// batch axis) whose channels are the last axis, or the first with `channels_first`.
    pub const fn new(rate: f32, shape: &[usize], channels_first: bool) -> Self {
        Self {
            rate,
            noise_shape: NoiseShape::channels(shape, channels_first),
        }
    }
}

/// Keras `GaussianNoise(stddev, seed=None)`: adds zero-mean normal noise of standard deviation
/// `stddev` in training; the identity at inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, GaussianNoise, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(GaussianNoise::new(0.1).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GaussianNoise {
    /// The training-time standard deviation of the noise.
    pub stddev: f32,
}

zeroable!([] GaussianNoise => GaussianNoise { stddev });

impl GaussianNoise {
    /// A layer with the given training noise.
    pub const fn new(stddev: f32) -> Self {
        Self { stddev }
    }
}

/// Keras `GaussianDropout(rate, seed=None)`: in training multiplies each value by normal noise
/// of mean 1 and standard deviation `√(rate / (1 − rate))`; the identity at inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, GaussianDropout, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(GaussianDropout::new(0.2).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GaussianDropout {
    /// The training-time rate.
    pub rate: f32,
}

zeroable!([] GaussianDropout => GaussianDropout { rate });

impl GaussianDropout {
    /// A layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self { rate }
    }

    /// The noise's standard deviation, `√(rate / (1 − rate))` in f64 as Keras's Python computes
    /// it, then rounded.
    pub fn stddev(&self) -> f32 {
        let rate = f64::from(self.rate);
        sqrt(rate / (1.0 - rate)) as f32
    }
}

/// Keras `AlphaDropout(rate, noise_shape=None, seed=None)`: the dropout that keeps SELU's
/// self-normalization. In training a value is kept with probability `1 − rate`, a dropped one
/// set to SELU's negative saturation `α' = −1.7581`, then all are mapped by `a·x + b` with
/// `a = ((1 − rate)(1 + rate·α'²))^(−1/2)` and `b = −a·α'·rate`, so that a zero-mean,
/// unit-variance input keeps its mean and variance; the identity at inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, AlphaDropout, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(AlphaDropout::new(0.2).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AlphaDropout {
    /// The training-time rate.
    pub rate: f32,
    /// Which axes share one draw (Keras's `noise_shape`).
    pub noise_shape: NoiseShape,
}

zeroable!([] AlphaDropout => AlphaDropout { rate, noise_shape });

/// SELU's `α` and `scale`, as Keras writes them.
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

impl AlphaDropout {
    /// A layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self {
            rate,
            noise_shape: NoiseShape::NONE,
        }
    }

    /// The same layer with Keras's `noise_shape`.
    pub const fn with_noise_shape(mut self, noise_shape: NoiseShape) -> Self {
        self.noise_shape = noise_shape;
        self
    }

    /// `(α', a, b)`: the value of a dropped input and the affine map after the mask, computed in
    /// f64 as Keras's Python does, then rounded.
    pub fn affine(&self) -> (f32, f32, f32) {
        let rate = f64::from(self.rate);
        let alpha_p = -SELU_ALPHA * SELU_SCALE;
        let a = pow((1.0 - rate) * (1.0 + rate * alpha_p * alpha_p), -0.5);
        let b = -a * alpha_p * rate;
        (alpha_p as f32, a as f32, b as f32)
    }
}

/// The identity `Layer` and empty `Weights` of each type.
macro_rules! identity_layers {
    ($($ty:ident),*) => {$(
        impl<T: Clone> Layer<T> for $ty {
            type Output = T;
            #[inline]
            fn forward(&self, x: &T) -> T {
                x.clone()
            }
        }

        no_weights!(Weights for $ty);
        no_params!(Params for $ty);
    )*};
}

identity_layers!(SpatialDropout, GaussianNoise, GaussianDropout, AlphaDropout);

/// The per-sample methods as a batch of one (the masks may span the batch).
macro_rules! per_sample_as_batch {
    ($cache:ty) => {
        fn forward_train(
            &self,
            x: &Tensor<F, P>,
            y: &mut Tensor<F, P>,
            cache: &mut $cache,
            ctx: &mut TrainCtx,
        ) {
            self.forward_train_batch(
                core::slice::from_ref(x),
                core::slice::from_mut(y),
                core::slice::from_mut(cache),
                ctx,
            );
        }
    };
}

/// Training: Keras's `dropout` with the noise shape `(batch, 1, …, channels)`; the cache keeps
/// the mask.
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for SpatialDropout {
    type Cache = Tensor<F, P>;

    per_sample_as_batch!(Tensor<F, P>);

    fn backward(
        &self,
        _x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        mask: &mut Tensor<F, P>,
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        _grads: Option<&mut Self>,
    ) {
        dropout_backward(self.rate, mask, dy, dx);
    }

    fn forward_train_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<F, P>],
        masks: &mut [Tensor<F, P>],
        ctx: &mut TrainCtx,
    ) {
        dropout_forward(self.rate, &self.noise_shape, xs, ys, masks, ctx);
    }
}

/// Training: `y = x + stddev·n`, `n` standard normal per value; the gradient passes unchanged.
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for GaussianNoise {
    type Cache = ();

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<F, P>,
        _: &mut (),
        ctx: &mut TrainCtx,
    ) {
        *y = *x;
        if self.stddev > 0.0 {
            for y in y.iter_mut() {
                *y += ctx.rng.normal() * self.stddev;
            }
        }
    }

    fn backward(
        &self,
        _x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        _: &mut (),
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        _grads: Option<&mut Self>,
    ) {
        if let Some(dx) = dx {
            add_into(dx.as_mut_slice(), dy.as_slice());
        }
    }
}

/// Training: `y = x·m` with `m = 1 + stddev·n` per value (Keras's `normal(mean=1, stddev)`);
/// the cache keeps `m`, and `∂x = ∂y·m`.
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for GaussianDropout {
    type Cache = Tensor<F, P>;

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<F, P>,
        m: &mut Tensor<F, P>,
        ctx: &mut TrainCtx,
    ) {
        if self.rate <= 0.0 {
            *y = *x;
            m.as_mut_slice().fill(1.0);
            return;
        }
        let stddev = self.stddev();
        for ((y, m), &x) in y.iter_mut().zip(m.iter_mut()).zip(x.iter()) {
            *m = ctx.rng.normal() * stddev + 1.0;
            *y = x * *m;
        }
    }

    fn backward(
        &self,
        _x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        m: &mut Tensor<F, P>,
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        _grads: Option<&mut Self>,
    ) {
        let Some(dx) = dx else { return };
        for ((d, &g), &m) in dx.iter_mut().zip(dy.iter()).zip(m.iter()) {
            *d += g * m;
        }
    }
}

/// Training: masks kept with probability `1 − rate` (one draw per value, or shared along the
/// noise shape), `y = a·(kept ? x : α') + b`; the cache keeps the mask, and
/// `∂x = kept ? a·∂y : 0`.
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for AlphaDropout {
    type Cache = Tensor<F, P>;

    per_sample_as_batch!(Tensor<F, P>);

    fn backward(
        &self,
        _x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        mask: &mut Tensor<F, P>,
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        _grads: Option<&mut Self>,
    ) {
        let Some(dx) = dx else { return };
        if self.rate <= 0.0 {
            add_into(dx.as_mut_slice(), dy.as_slice());
            return;
        }
        let (_, a, _) = self.affine();
        for ((d, &g), &m) in dx.iter_mut().zip(dy.iter()).zip(mask.iter()) {
            if m != 0.0 {
                *d += a * g;
            }
        }
    }

    fn forward_train_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<F, P>],
        masks: &mut [Tensor<F, P>],
        ctx: &mut TrainCtx,
    ) {
        if self.rate <= 0.0 {
            ys.copy_from_slice(xs);
            masks.iter_mut().for_each(|m| m.as_mut_slice().fill(1.0));
            return;
        }
        let rate = self.rate;
        // Keras keeps a value when its uniform draw is >= rate.
        self.noise_shape.fill(masks, &mut ctx.rng, |rng| {
            if rng.uniform() >= rate {
                1.0
            } else {
                0.0
            }
        });
        let (alpha_p, a, b) = self.affine();
        for ((y, x), m) in ys.iter_mut().zip(xs).zip(masks.iter()) {
            for ((y, &x), &m) in y.iter_mut().zip(x.iter()).zip(m.iter()) {
                *y = a * if m != 0.0 { x } else { alpha_p } + b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::super::dropout::tests::{binomial, counting, run};
    use super::*;
    use crate::zeros;

    /// Mean and (biased) variance.
    fn moments(values: impl Iterator<Item = f32>) -> (f64, f64, usize) {
        let v: Vec<f64> = values.map(f64::from).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        (mean, var, v.len())
    }

    #[test]
    fn spatial_dropout_drops_whole_channels() {
        let check =
            |layer: SpatialDropout, channel_of: &dyn Fn(usize) -> usize, channels: usize| {
                let xs = counting::<4, 30>(200);
                let (ys, masks) = run(&layer, &xs, 21);
                let mut kept = 0;
                for ((x, y), m) in xs.iter().zip(&ys).zip(&masks) {
                    let mut seen = [None; 8];
                    for i in 0..x.as_slice().len() {
                        let c = channel_of(i);
                        // One draw per channel of the sample.
                        assert_eq!(*seen[c].get_or_insert(m[i]), m[i], "channel {c}");
                        assert_eq!(y[i], if m[i] == 1.0 { x[i] / 0.6 } else { 0.0 });
                    }
                    kept += seen.iter().filter(|s| **s == Some(1.0)).count();
                }
                binomial(kept, 200 * channels, 0.6);
                // Different samples draw differently.
                assert!(masks.iter().any(|m| *m != masks[0]));
            };
        // SpatialDropout1D on (30, 4): channels last.
        check(SpatialDropout::new(0.4, &[30, 4], false), &|i| i % 4, 4);
        // SpatialDropout2D on (5, 6, 4) and channels_first on (5, 6, 4): 5 channels of 24.
        check(SpatialDropout::new(0.4, &[5, 6, 4], false), &|i| i % 4, 4);
        check(SpatialDropout::new(0.4, &[5, 6, 4], true), &|i| i / 24, 5);
        // SpatialDropout3D on (2, 3, 5, 4), and channels_first on (6, 1, 5, 4).
        check(
            SpatialDropout::new(0.4, &[2, 3, 5, 4], false),
            &|i| i % 4,
            4,
        );
        check(
            SpatialDropout::new(0.4, &[6, 1, 5, 4], true),
            &|i| i / 20,
            6,
        );
    }

    #[test]
    fn gaussian_noise_adds_normal_noise() {
        let xs = counting::<50, 20>(100);
        let layer = GaussianNoise::new(0.5);
        let (ys, _) = run(&layer, &xs, 3);
        let (mean, var, n) = moments(
            ys.iter()
                .zip(&xs)
                .flat_map(|(y, x)| y.iter().zip(x.iter()).map(|(y, x)| y - x)),
        );
        // Mean within 4.5 standard errors; the variance within 4.5 of its own (2σ⁴/n).
        assert!(mean.abs() < 4.5 * 0.5 / (n as f64).sqrt(), "{mean}");
        assert!(
            (var - 0.25).abs() < 4.5 * 0.25 * (2.0 / n as f64).sqrt() + 1e-4,
            "{var}"
        );
        let mut dx = zeros::<50, 20>();
        layer.backward(&xs[0], &ys[0], &mut (), &xs[1], Some(&mut dx), None);
        assert_eq!(dx, xs[1]);
        assert_eq!(run(&GaussianNoise::new(0.0), &xs[..2], 3).0, xs[..2]);
    }

    #[test]
    fn gaussian_dropout_multiplies_by_noise_of_mean_one() {
        let xs = counting::<50, 20>(100);
        let layer = GaussianDropout::new(0.2);
        assert_eq!(layer.stddev(), 0.5); // √(0.2 / 0.8)
        let (ys, ms) = run(&layer, &xs, 4);
        for ((y, x), m) in ys.iter().zip(&xs).zip(&ms) {
            for ((&y, &x), &m) in y.iter().zip(x.iter()).zip(m.iter()) {
                assert_eq!(y, x * m);
            }
        }
        let (mean, var, n) = moments(ms.iter().flat_map(|m| m.iter().copied()));
        assert!((mean - 1.0).abs() < 4.5 * 0.5 / (n as f64).sqrt(), "{mean}");
        assert!(
            (var - 0.25).abs() < 4.5 * 0.25 * (2.0 / n as f64).sqrt() + 1e-4,
            "{var}"
        );
        let mut dx = zeros::<50, 20>();
        let mut m = ms[0];
        layer.backward(&xs[0], &ys[0], &mut m, &xs[0], Some(&mut dx), None);
        assert_eq!(dx, ys[0]);
        assert_eq!(run(&GaussianDropout::new(0.0), &xs[..2], 3).0, xs[..2]);
    }

    #[test]
    fn alpha_dropout_keeps_a_selu_distribution() {
        let layer = AlphaDropout::new(0.2);
        let (alpha_p, a, b) = layer.affine();
        assert!((alpha_p + 1.758_099_3).abs() < 1e-6);
        // Standard normal inputs keep mean 0 and variance 1.
        let mut rng = crate::train::Rng::new(9);
        let xs: Vec<Tensor<50, 20>> = (0..100)
            .map(|_| {
                let mut t = zeros::<50, 20>();
                t.iter_mut().for_each(|v| *v = rng.normal());
                t
            })
            .collect();
        let (ys, masks) = run(&layer, &xs, 5);
        let mut kept = 0;
        for ((x, y), m) in xs.iter().zip(&ys).zip(&masks) {
            for ((&x, &y), &m) in x.iter().zip(y.iter()).zip(m.iter()) {
                if m == 1.0 {
                    kept += 1;
                    assert_eq!(y, a * x + b);
                } else {
                    assert_eq!((m, y), (0.0, a * alpha_p + b));
                }
            }
        }
        binomial(kept, 100_000, 0.8);
        let (mean, var, n) = moments(ys.iter().flat_map(|y| y.iter().copied()));
        assert!(mean.abs() < 4.5 / (n as f64).sqrt(), "{mean}");
        assert!((var - 1.0).abs() < 0.03, "{var}");
        // The gradient passes where kept, times a.
        let mut dx = zeros::<50, 20>();
        let mut mask = masks[0];
        layer.backward(&xs[0], &ys[0], &mut mask, &xs[0], Some(&mut dx), None);
        for ((&d, &x), &m) in dx.iter().zip(xs[0].iter()).zip(masks[0].iter()) {
            assert_eq!(d, if m == 1.0 { a * x } else { 0.0 });
        }
        // A noise shape shares the mask; rate 0 is the identity.
        let shared = layer.with_noise_shape(NoiseShape::new(&[20, 50], &[None, Some(1), None]));
        let (_, masks) = run(&shared, &xs[..4], 6);
        for m in &masks {
            for p in 1..20 {
                assert_eq!(m.as_slice()[p * 50..][..50], m.as_slice()[..50]);
            }
        }
        assert_eq!(run(&AlphaDropout::new(0.0), &xs[..2], 3).0, xs[..2]);
    }
}
