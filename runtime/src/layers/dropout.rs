//! `Dropout`: the identity at inference; in training inverted dropout with Keras's
//! `noise_shape`. The noise shape and the masks are shared with the other noise layers.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{no_params, Params, Rng, Train, TrainCtx};
use crate::{Tensor, MAX_RANK};

/// Keras's `noise_shape` (of `Dropout` and `AlphaDropout`, and the fixed one of
/// `SpatialDropout1D/2D/3D`): the axes along which one random draw is shared. Keras draws the
/// noise with that shape and broadcasts it to the input; an axis of size 1 in it shares its draw.
///
/// ```
/// use static_keras_runtime::NoiseShape;
/// // Keras: noise_shape=(None, 1, 4) on a (3, 4) input: one draw per sample and feature.
/// const NOISE: NoiseShape = NoiseShape::new(&[3, 4], &[None, Some(1), None]);
/// assert_eq!(NOISE.source(9), 1); // position 2, feature 1 takes position 0's draw
/// assert!(!NOISE.shares_batch());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoiseShape {
    /// The input's Keras shape without the batch axis; `rank` entries are used.
    dims: [usize; MAX_RANK],
    rank: usize,
    /// Bit `k`: Keras axis `k` (0 is the batch axis) has size 1 in the noise shape.
    shared: u16,
}

impl NoiseShape {
    /// One draw per value (Keras's `noise_shape=None`).
    pub const NONE: Self = Self {
        dims: [0; MAX_RANK],
        rank: 0,
        shared: 0,
    };

    /// Keras's `noise_shape` (the batch axis first; `None` takes the input's size) for an
    /// input of Keras shape `shape` (without the batch axis).
    ///
    /// # Panics
    /// (A compile error in `const` context.) When `noise_shape` does not have one entry per
    /// axis plus the batch axis, an entry is neither `None`, 1 nor the input's size (Keras's
    /// broadcast fails then), or the shape has more than [`MAX_RANK`] axes.
    pub const fn new(shape: &[usize], noise_shape: &[Option<usize>]) -> Self {
        let rank = shape.len();
        assert!(
            rank <= MAX_RANK && noise_shape.len() == rank + 1,
            "NoiseShape: one entry per axis of the input, the batch axis first"
        );
        let mut dims = [0; MAX_RANK];
        let mut shared = 0u16;
        let mut k = 0;
        while k <= rank {
            let size = if k == 0 { 0 } else { shape[k - 1] };
            if k > 0 {
                dims[k - 1] = size;
            }
            if let Some(n) = noise_shape[k] {
                assert!(
                    n == 1 || (k > 0 && n == size),
                    "NoiseShape: an entry must be None, 1 or the input's size"
                );
                if n == 1 {
                    shared |= 1 << k;
                }
            }
            k += 1;
        }
        Self { dims, rank, shared }
    }

    /// `SpatialDropout1D/2D/3D`'s noise shape: one draw per sample and channel, the channel
    /// axis the last one, or the first after the batch with `channels_first`.
    pub const fn channels(shape: &[usize], channels_first: bool) -> Self {
        let rank = shape.len();
        assert!(
            rank >= 1 && rank <= MAX_RANK,
            "NoiseShape: 1 to MAX_RANK axes"
        );
        let mut noise = [None; MAX_RANK + 1];
        let mut k = 1;
        while k <= rank {
            let channel = if channels_first { k == 1 } else { k == rank };
            if !channel {
                noise[k] = Some(1);
            }
            k += 1;
        }
        Self::new(shape, noise.split_at(rank + 1).0)
    }

    /// Whether one draw serves the whole batch (`noise_shape[0] == 1`).
    pub const fn shares_batch(&self) -> bool {
        self.shared & 1 != 0
    }

    /// The index (in a sample, row-major) of the value whose draw the value at `i` takes: `i`
    /// itself, or, along shared axes, the first value of the run (never after `i`).
    pub fn source(&self, i: usize) -> usize {
        if self.shared >> 1 == 0 {
            return i;
        }
        let (mut rest, mut stride, mut source) = (i, 1, 0);
        for k in (0..self.rank).rev() {
            let digit = rest % self.dims[k];
            rest /= self.dims[k];
            if self.shared & (1 << (k + 1)) == 0 {
                source += digit * stride;
            }
            stride *= self.dims[k];
        }
        source
    }

    /// Fills one noise tensor per sample from `draw`, each value drawn or taken from the value
    /// that shares its draw.
    pub(crate) fn fill<const F: usize, const P: usize>(
        &self,
        noise: &mut [Tensor<F, P>],
        rng: &mut Rng,
        mut draw: impl FnMut(&mut Rng) -> f32,
    ) {
        debug_assert!(self.rank == 0 || self.dims[..self.rank].iter().product::<usize>() == F * P);
        for s in 0..noise.len() {
            if s > 0 && self.shares_batch() {
                noise[s] = noise[0];
                continue;
            }
            let values = noise[s].as_mut_slice();
            for i in 0..values.len() {
                let from = self.source(i);
                values[i] = if from == i { draw(rng) } else { values[from] };
            }
        }
    }
}

/// Keras `Dropout(rate, noise_shape=None, seed=None)`. At inference (`predict`) Keras returns the
/// input unchanged, whatever the rate, and so does this layer.
///
/// In training ([`Train`]) each value is kept with probability `1 − rate` and divided by
/// `1 − rate` (as Keras computes it: a division, not a product with the reciprocal); dropped
/// values are 0. With a [`NoiseShape`] one draw is shared along its axes of size 1. Keras's
/// random bits cannot be reproduced, only their distribution; `rate == 0` is the identity.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{Dropout, Layer, Tensor};
/// let x = Tensor::<3, 1>::from_slice(&[1.0, 2.0, 3.0]);
/// assert_eq!(Dropout::new(0.5).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dropout {
    /// The training-time drop rate.
    pub rate: f32,
    /// Which axes share one draw (Keras's `noise_shape`).
    pub noise_shape: NoiseShape,
}

zeroable!([] Dropout => Dropout { rate, noise_shape });
zeroable!([] NoiseShape => NoiseShape { dims, rank, shared });

impl Dropout {
    /// A dropout layer with the given training rate.
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
}

impl<T: Clone> Layer<T> for Dropout {
    type Output = T;
    #[inline]
    fn forward(&self, x: &T) -> T {
        x.clone()
    }
}

no_weights!(Weights for Dropout);

/// Inverted dropout over a batch, as Keras's JAX backend: masks from [`NoiseShape::fill`]
/// (1 kept, 0 dropped, kept with probability `1 − rate`), `y = kept ? x / (1 − rate) : 0`.
/// `rate == 0` is the identity, as Keras's `dropout` returns its input then.
pub(crate) fn dropout_forward<const F: usize, const P: usize>(
    rate: f32,
    noise_shape: &NoiseShape,
    xs: &[Tensor<F, P>],
    ys: &mut [Tensor<F, P>],
    masks: &mut [Tensor<F, P>],
    ctx: &mut TrainCtx,
) {
    if rate <= 0.0 {
        ys.copy_from_slice(xs);
        masks.iter_mut().for_each(|m| m.as_mut_slice().fill(1.0));
        return;
    }
    let keep = 1.0 - rate;
    noise_shape.fill(masks, &mut ctx.rng, |rng| {
        if rng.uniform() < keep {
            1.0
        } else {
            0.0
        }
    });
    for ((y, x), m) in ys.iter_mut().zip(xs).zip(masks.iter()) {
        for ((y, &x), &m) in y.iter_mut().zip(x.iter()).zip(m.iter()) {
            *y = if m != 0.0 { x / keep } else { 0.0 };
        }
    }
}

/// The backward pass of [`dropout_forward`]: `∂x += kept ? ∂y / (1 − rate) : 0`.
pub(crate) fn dropout_backward<const F: usize, const P: usize>(
    rate: f32,
    mask: &Tensor<F, P>,
    dy: &Tensor<F, P>,
    dx: Option<&mut Tensor<F, P>>,
) {
    let Some(dx) = dx else { return };
    if rate <= 0.0 {
        crate::train::add_into(dx.as_mut_slice(), dy.as_slice());
        return;
    }
    let keep = 1.0 - rate;
    for ((d, &m), &g) in dx.iter_mut().zip(mask.iter()).zip(dy.iter()) {
        if m != 0.0 {
            *d += g / keep;
        }
    }
}

/// The training path: `dropout_forward`; the cache keeps the mask.
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for Dropout {
    type Cache = Tensor<F, P>;

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<F, P>,
        mask: &mut Tensor<F, P>,
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_batch(
            core::slice::from_ref(x),
            core::slice::from_mut(y),
            core::slice::from_mut(mask),
            ctx,
        );
    }

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

    /// The masks of the whole batch at once: a `noise_shape` may share one across samples.
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

no_params!(Params for Dropout);

#[cfg(test)]
pub(crate) mod tests {
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::zeros;

    /// `n` samples of `Tensor<F, P>` with values 1, 2, 3, … (none zero), on the heap.
    pub fn counting<const F: usize, const P: usize>(n: usize) -> Vec<Tensor<F, P>> {
        (0..n)
            .map(|s| {
                let mut t = zeros::<F, P>();
                for (i, v) in t.iter_mut().enumerate() {
                    *v = (s * F * P + i + 1) as f32;
                }
                t
            })
            .collect()
    }

    /// Asserts that `kept` out of `n` independent draws is within 4.5 standard deviations of
    /// a binomial with probability `p`.
    pub fn binomial(kept: usize, n: usize, p: f64) {
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        let z = (kept as f64 - mean) / sd;
        assert!(z.abs() < 4.5, "kept {kept} of {n} at p = {p}: z = {z:.2}");
    }

    /// Runs a noise layer's training forward over `xs`, returning the outputs and caches.
    pub fn run<L, const F: usize, const P: usize>(
        layer: &L,
        xs: &[Tensor<F, P>],
        seed: u64,
    ) -> (Vec<Tensor<F, P>>, Vec<L::Cache>)
    where
        L: Train<Tensor<F, P>, Output = Tensor<F, P>>,
        L::Cache: Default,
    {
        let mut ys = vec![zeros::<F, P>(); xs.len()];
        let mut caches = vec![L::Cache::default(); xs.len()];
        layer.forward_train_batch(xs, &mut ys, &mut caches, &mut TrainCtx::new(seed));
        (ys, caches)
    }

    #[test]
    fn dropout_in_training_mode_is_checked_statistically() {
        // Dropout(0.3) on 200 samples of (10, 50) values: 100 000 draws.
        for rate in [0.3f32, 0.5] {
            let layer = Dropout::new(rate);
            let xs = counting::<50, 10>(200);
            let (ys, masks) = run(&layer, &xs, 11);
            let keep = 1.0 - rate;
            let mut kept = 0;
            for ((x, y), m) in xs.iter().zip(&ys).zip(&masks) {
                for ((&x, &y), &m) in x.iter().zip(y.iter()).zip(m.iter()) {
                    if m == 1.0 {
                        kept += 1;
                        assert_eq!(y, x / keep, "a kept value is x / f32(1 − rate) exactly");
                    } else {
                        assert_eq!((m, y), (0.0, 0.0), "a dropped value is 0");
                    }
                }
            }
            binomial(kept, 100_000, f64::from(keep));
            // The gradient passes where the value was kept, scaled alike.
            let dy = xs[0];
            let mut dx = zeros::<50, 10>();
            let mut mask = masks[0];
            layer.backward(&xs[0], &ys[0], &mut mask, &dy, Some(&mut dx), None);
            assert_eq!(dx, ys[0]);
        }
        // Successive batches draw new masks; the same seed repeats them.
        let xs = counting::<8, 2>(4);
        let layer = Dropout::new(0.5);
        let mut ctx = TrainCtx::new(1);
        let (mut a, mut b) = (vec![zeros(); 4], vec![zeros(); 4]);
        let mut masks = vec![zeros::<8, 2>(); 4];
        layer.forward_train_batch(&xs, &mut a, &mut masks, &mut ctx);
        layer.forward_train_batch(&xs, &mut b, &mut masks, &mut ctx);
        assert_ne!(a, b);
        assert_eq!(run(&layer, &xs, 1).0, a);
    }

    #[test]
    fn rate_zero_is_the_identity() {
        let xs = counting::<3, 2>(3);
        let layer = Dropout::new(0.0);
        let (ys, mut masks) = run(&layer, &xs, 5);
        assert_eq!(ys, xs);
        let mut dx = zeros::<3, 2>();
        layer.backward(&xs[0], &ys[0], &mut masks[0], &xs[1], Some(&mut dx), None);
        assert_eq!(dx, xs[1]);
    }

    #[test]
    fn a_noise_shape_shares_the_draws() {
        // Keras noise_shape=(None, 1, 6) on (5, 6): the mask is constant along axis 1.
        let noise = NoiseShape::new(&[5, 6], &[None, Some(1), None]);
        let layer = Dropout::new(0.5).with_noise_shape(noise);
        let xs = counting::<6, 5>(400);
        let (_, masks) = run(&layer, &xs, 3);
        let mut kept = 0;
        for m in &masks {
            for p in 1..5 {
                for f in 0..6 {
                    assert_eq!(m[[p, f]], m[[0, f]]);
                }
            }
            kept += (0..6).filter(|&f| m[[0, f]] == 1.0).count();
        }
        binomial(kept, 400 * 6, 0.5);
        // noise_shape=(1, None, 6): one mask for the whole batch.
        let noise = NoiseShape::new(&[5, 6], &[Some(1), None, Some(6)]);
        let (_, masks) = run(&Dropout::new(0.5).with_noise_shape(noise), &xs[..3], 4);
        assert!(masks.iter().all(|m| *m == masks[0]));
        assert!(masks[0].iter().any(|&m| m == 0.0) && masks[0].iter().any(|&m| m == 1.0));
    }

    #[test]
    fn noise_shape_sources() {
        let noise = NoiseShape::new(&[2, 3, 4], &[None, None, Some(1), None]);
        // (a, b, c) takes (a, 0, c).
        assert_eq!(noise.source(4 * 3 + 2 * 4 + 1), 4 * 3 + 1);
        assert_eq!(NoiseShape::NONE.source(7), 7);
        let spatial = NoiseShape::channels(&[2, 3, 4], false);
        assert_eq!(spatial.source(23), 3);
        let first = NoiseShape::channels(&[2, 3, 4], true);
        assert_eq!(first.source(23), 12);
        assert!(!first.shares_batch());
    }

    #[test]
    #[should_panic(expected = "None, 1 or the input's size")]
    fn a_noise_shape_that_does_not_broadcast_is_refused() {
        let _ = NoiseShape::new(&[5, 6], &[None, Some(2), None]);
    }
}
