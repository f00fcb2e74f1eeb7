//! Keras's losses: the value Keras reports for a batch and its gradient with respect to the
//! model's output, as JAX differentiates Keras's own expression.
//!
//! Each loss is a struct named after its Keras class whose public fields are Keras's arguments
//! and whose `Default` is Keras's defaults:
//!
//! ```
//! use static_keras_runtime::train::losses::{BinaryCrossentropy, CategoricalCrossentropy, Loss};
//! use static_keras_runtime::train::Batch;
//!
//! let cce = CategoricalCrossentropy::default();
//! let bce = BinaryCrossentropy { from_logits: true, ..Default::default() };
//!
//! let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
//! let y_pred = [0.1, 0.8, 0.1, 0.2, 0.2, 0.6];
//! let mut grad = [0.0f32; 6];
//! let loss = cce.compute(&Batch::new(&y_true, &y_pred, 3), Some(&mut grad))?;
//! assert!((loss - 0.3669).abs() < 1e-4); // (−ln 0.8 − ln 0.6) / 2
//! assert!(bce.value(&Batch::new(&y_true, &y_pred, 3))? > 0.0);
//! # Ok::<(), static_keras_runtime::train::BatchError>(())
//! ```
//!
//! The numbers follow Keras 3 on the JAX backend (TRAINING_SEMANTICS §1–§2): `f32` throughout,
//! Keras's constants rounded to `f32` (`ε = 1e-7`, `1 − ε = 0.99999988`), the clipped
//! expressions differentiated through the clip (a clipped value has gradient 0, a value exactly
//! at a bound passes half of it, as `jnp.clip` does), and every transcendental function from
//! `libm`, so a host and a microcontroller compute the same bits.

mod crossentropy;
mod hinge;
mod regression;
mod similarity;

pub use crossentropy::{
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
};
pub use hinge::{Hinge, SquaredHinge};
pub use regression::{Huber, LogCosh, MeanAbsoluteError, MeanSquaredError, Poisson};
pub use similarity::{CosineSimilarity, KlDivergence};

use super::batch::{Batch, BatchError, Sum};

/// `keras.config.epsilon()` as `f32`: the clip bound of the cross-entropies and KL divergence.
pub const EPSILON: f32 = 1e-7;

/// `1.0 - keras.config.epsilon()` computed in Python (`f64`) and rounded to `f32`, as Keras's
/// upper clip bound is: `0.99999988`, not `1 − 1e-7`.
pub const ONE_MINUS_EPSILON: f32 = (1.0f64 - 1e-7f64) as f32;

/// A loss over a whole batch: Keras's `loss(y_true, y_pred, sample_weight)` and its gradient.
///
/// The batch is flat (see [`Batch`]): one call returns the reduced loss (by default Keras's
/// `"sum_over_batch_size"`: the mean over every position of the per-sample loss tensor, `B` or
/// `B·T` of them) and, when `grad` is given, writes `∂loss/∂y_pred` into it (same length as
/// `y_pred`, already divided as the reduction divides). The whole batch is one call because
/// Keras makes batch-wide decisions (`Hinge` converts 0/1 labels only if every label is 0 or 1;
/// masks weigh valid positions by `|S| / Σmask`).
pub trait Loss {
    /// The element type of `y_true`: `f32` with `y_pred`'s layout for every loss except
    /// [`SparseCategoricalCrossentropy`], whose targets are `u32` class ids, one per position.
    type Target: Copy;

    /// The Keras class name, used in error messages.
    const NAME: &'static str;

    /// How many targets one position has when the output's last axis has size `last`: `last`,
    /// or 1 for class-id targets.
    fn targets_per_position(last: usize) -> usize {
        last
    }

    /// The reduced loss of `batch`; with `grad`, also `∂loss/∂y_pred` written into `grad`.
    ///
    /// # Errors
    /// A [`BatchError`] naming the slice or value when the batch does not fit (wrong lengths,
    /// an empty batch, a class id out of range, an unsupported `axis`). Nothing is written to
    /// `grad` then.
    fn compute(
        &self,
        batch: &Batch<'_, Self::Target>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32, BatchError>;

    /// The reduced loss of `batch`, without the gradient.
    ///
    /// # Errors
    /// As [`compute`](Loss::compute).
    fn value(&self, batch: &Batch<'_, Self::Target>) -> Result<f32, BatchError> {
        self.compute(batch, None)
    }
}

/// How the per-position losses become one number: Keras's `reduction` argument.
///
/// Keras's `None` / `"none"` (no reduction) returns a tensor, not a number, and has no
/// counterpart here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `"sum_over_batch_size"` (the default; `"mean"` is the same): `Σ(l·w) / |S|`. The divisor
    /// is the number of positions, never `Σw`; a mask makes it the number of valid positions.
    #[default]
    SumOverBatchSize,
    /// `"sum"`: `Σ(l·w)`.
    Sum,
    /// `"mean_with_sample_weight"`: `Σ(l·w) / Σw` (`|S|` without weights or mask).
    MeanWithSampleWeight,
}

/// The gradient of one position: where to write `∂(c·l)/∂y_pred` for this position's outputs,
/// and `c`, the factor the reduction applies to its loss (`w / divisor`).
pub(crate) type PositionGrad<'g> = Option<(&'g mut [f32], f32)>;

/// A loss's own mask over a position's targets (`true` = leave the position out).
pub(crate) type Ignored<'a, T> = Option<&'a dyn Fn(&[T]) -> bool>;

/// Keras's `reduce_weighted_values` over a flat batch: checks the layout, merges mask and
/// sample weights (`apply_mask`), sums `l·w` and divides as `reduction` says, and hands each
/// position's gradient factor to `position`, which returns that position's loss `l` and writes
/// `∂(c·l)/∂y_pred` for it.
///
/// `ignored` is a loss's own mask (SCCE's `ignore_class`): an ignored position has loss 0,
/// gradient 0 and counts as masked.
pub(crate) fn reduce<T: Copy>(
    what: &'static str,
    batch: &Batch<'_, T>,
    targets_per_position: usize,
    reduction: Reduction,
    ignored: Ignored<'_, T>,
    grad: Option<&mut [f32]>,
    mut position: impl FnMut(&[T], &[f32], PositionGrad<'_>) -> f32,
) -> Result<f32, BatchError> {
    let positions = batch.check(what, targets_per_position)?;
    if let Some(g) = &grad {
        if g.len() != batch.y_pred.len() {
            return Err(BatchError::Length {
                what,
                slice: "grad",
                expected: batch.y_pred.len(),
                actual: g.len(),
            });
        }
    }
    let last = batch.last;
    let targets = |p: usize| &batch.y_true[p * targets_per_position..][..targets_per_position];
    let is_ignored = |p: usize| ignored.is_some_and(|f| f(targets(p)));
    let masked = batch.mask.is_some() || ignored.is_some();
    let is_valid = |p: usize| batch.mask.is_none_or(|m| m[p]) && !is_ignored(p);

    // apply_mask: for the mean reductions a valid position weighs total/valid (divide_no_nan),
    // for the others 1; an invalid one 0.
    let mask_weight = if masked && reduction == Reduction::SumOverBatchSize {
        let valid = (0..positions).filter(|&p| is_valid(p)).count();
        divide_no_nan(positions as f32, valid as f32)
    } else {
        1.0
    };
    let weight = |p: usize| -> Option<f32> {
        let mask = masked.then(|| if is_valid(p) { mask_weight } else { 0.0 });
        match (batch.sample_weight, mask) {
            (None, None) => None,
            (Some(w), None) => Some(w[p]),
            (None, Some(m)) => Some(m),
            (Some(w), Some(m)) => Some(w[p] * m),
        }
    };
    let divisor = match reduction {
        Reduction::Sum => None,
        Reduction::SumOverBatchSize => Some(positions as f32),
        Reduction::MeanWithSampleWeight => {
            if batch.sample_weight.is_some() || masked {
                let mut sum = Sum::default();
                (0..positions).for_each(|p| sum.add(weight(p).unwrap_or(1.0)));
                Some(sum.value())
            } else {
                Some(positions as f32)
            }
        }
    };
    // ∂(Σ/divisor)/∂Σ; divide_no_nan's `where` gives 0 for a zero divisor.
    let scale = divisor.map_or(1.0, |d| divide_no_nan(1.0, d));

    let mut total = Sum::default();
    let mut grad = grad;
    for p in 0..positions {
        let y_pred = &batch.y_pred[p * last..][..last];
        let g = grad.as_deref_mut().map(|g| &mut g[p * last..][..last]);
        if is_ignored(p) {
            // Keras: `where(valid, loss, 0)`, so neither value nor gradient.
            if let Some(g) = g {
                g.fill(0.0);
            }
            continue;
        }
        let w = weight(p);
        let c = w.map_or(scale, |w| scale * w);
        let l = position(targets(p), y_pred, g.map(|g| (g, c)));
        total.add(w.map_or(l, |w| l * w));
    }
    Ok(match divisor {
        None => total.value(),
        Some(d) => divide_no_nan(total.value(), d),
    })
}

/// Keras's `divide_no_nan`: `x / y`, or 0 where `y == 0`.
fn divide_no_nan(x: f32, y: f32) -> f32 {
    if y == 0.0 {
        0.0
    } else {
        x / y
    }
}

/// Errors unless `axis` is the last axis (−1).
pub(crate) fn check_axis(what: &'static str, axis: i32) -> Result<(), BatchError> {
    if axis == -1 {
        Ok(())
    } else {
        Err(BatchError::Axis { what, axis })
    }
}

/// `jnp.maximum(a, b)` (NaN-propagating) and the share of the gradient that reaches `a`:
/// 1 if `a` is the maximum, ½ on a tie, 0 otherwise (JAX's balanced tie rule).
#[inline]
pub(crate) fn maximum(a: f32, b: f32) -> (f32, f32) {
    let m = if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a >= b {
        a
    } else {
        b
    };
    (m, balanced(a, m, b))
}

/// `jnp.minimum(a, b)` (NaN-propagating) and the share of the gradient that reaches `a`.
#[inline]
pub(crate) fn minimum(a: f32, b: f32) -> (f32, f32) {
    let m = if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a <= b {
        a
    } else {
        b
    };
    (m, balanced(a, m, b))
}

/// JAX's `_balanced_eq(x, z, y)`: `(x == z ? 1 : 0) / (y == z ? 2 : 1)`.
#[inline]
fn balanced(x: f32, z: f32, y: f32) -> f32 {
    if x != z {
        0.0
    } else if y == z {
        0.5
    } else {
        1.0
    }
}

/// `jnp.clip(x, lo, hi)` = `minimum(hi, maximum(lo, x))` and `∂/∂x` of it (0 outside, ½ at
/// exactly a bound, 1 inside).
#[inline]
pub(crate) fn clip(x: f32, lo: f32, hi: f32) -> (f32, f32) {
    let (v, g1) = maximum(x, lo);
    let (v, g2) = minimum(v, hi);
    (v, g1 * g2)
}

/// `jax.nn.softplus(x)` = `logaddexp(x, 0)` = `max(x, 0) + log1p(exp(−|x|))`.
#[inline]
pub(crate) fn softplus(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let amax = if x > 0.0 { x } else { 0.0 };
    amax + libm::log1pf(libm::expf(-libm::fabsf(x)))
}

/// `d softplus(x)/dx` as JAX's `logaddexp` JVP computes it: `exp(x − softplus(x))`, infinities
/// replaced by 0.
#[inline]
pub(crate) fn softplus_slope(x: f32, softplus_x: f32) -> f32 {
    let finite = |v: f32| if v.is_infinite() { 0.0 } else { v };
    libm::expf(finite(x) - finite(softplus_x))
}

/// Natural logarithm (libm).
#[inline(always)]
pub(crate) fn ln(x: f32) -> f32 {
    libm::logf(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_keras_f32() {
        // 1 − 2⁻²³ = 0.99999988079071044921875
        assert_eq!(ONE_MINUS_EPSILON.to_bits(), 0x3F7F_FFFE);
        assert_eq!(EPSILON, 1e-7f64 as f32);
    }

    #[test]
    fn clip_passes_half_at_a_bound() {
        assert_eq!(clip(0.5, 0.0, 1.0), (0.5, 1.0));
        assert_eq!(clip(0.0, 0.0, 1.0), (0.0, 0.5));
        assert_eq!(clip(1.0, 0.0, 1.0), (1.0, 0.5));
        assert_eq!(clip(-1.0, 0.0, 1.0), (0.0, 0.0));
        assert_eq!(clip(2.0, 0.0, 1.0), (1.0, 0.0));
        assert!(clip(f32::NAN, 0.0, 1.0).0.is_nan());
    }

    #[test]
    fn softplus_is_stable() {
        assert!((softplus(0.0) - core::f32::consts::LN_2).abs() < 1e-7);
        assert_eq!(softplus(100.0), 100.0);
        assert!(softplus(-100.0) > 0.0 && softplus(-100.0) < 1e-40);
        assert!((softplus_slope(0.0, softplus(0.0)) - 0.5).abs() < 1e-7);
    }

    /// MSE of one position (D = 1) so the reduction is visible.
    fn se(t: &[f32], p: &[f32], g: PositionGrad<'_>) -> f32 {
        let d = p[0] - t[0];
        if let Some((g, c)) = g {
            g[0] = c * 2.0 * d;
        }
        d * d
    }

    #[test]
    fn reductions_divide_as_keras() {
        let t = [0.0f32; 4];
        let p = [1.0f32, 2.0, 3.0, 4.0]; // losses 1, 4, 9, 16
        let w = [1.0f32, 0.0, 2.0, 1.0];
        let m = [true, true, false, true];
        let b = Batch::new(&t, &p, 1);
        let run = |b: &Batch<'_>, r| {
            let mut g = [0.0f32; 4];
            let v = reduce("T", b, 1, r, None, Some(&mut g), se).unwrap();
            (v, g)
        };
        assert_eq!(run(&b, Reduction::SumOverBatchSize).0, 7.5);
        assert_eq!(run(&b, Reduction::Sum).0, 30.0);
        assert_eq!(run(&b, Reduction::MeanWithSampleWeight).0, 7.5);
        // Weights: Σ l·w = 1 + 18 + 16 = 35; the divisor stays 4.
        let bw = b.with_sample_weight(&w);
        assert_eq!(run(&bw, Reduction::SumOverBatchSize).0, 8.75);
        assert_eq!(run(&bw, Reduction::MeanWithSampleWeight).0, 8.75);
        let (_, g) = run(&bw, Reduction::SumOverBatchSize);
        assert_eq!(g, [0.5, 0.0, 3.0, 2.0]);
        // Mask: valid positions weigh 4/3, so the loss is the mean over the 3 valid ones.
        let bm = b.with_mask(&m);
        let (v, g) = run(&bm, Reduction::SumOverBatchSize);
        assert!((v - 7.0).abs() < 1e-6);
        assert_eq!(g[2], 0.0);
        assert!((g[3] - 8.0 / 3.0).abs() < 1e-6);
        // Mask with the other reductions is 0/1.
        assert_eq!(run(&bm, Reduction::Sum).0, 21.0);
        assert_eq!(run(&bm, Reduction::MeanWithSampleWeight).0, 7.0);
        // Everything masked: divide_no_nan gives 0 and no gradient.
        let none = [false; 4];
        let (v, g) = run(&b.with_mask(&none), Reduction::SumOverBatchSize);
        assert_eq!((v, g), (0.0, [0.0; 4]));
    }

    #[test]
    fn gradient_slice_must_match() {
        let t = [0.0f32; 4];
        let p = [0.0f32; 4];
        let mut g = [0.0f32; 3];
        let err = reduce(
            "T",
            &Batch::new(&t, &p, 2),
            2,
            Reduction::default(),
            None,
            Some(&mut g),
            se,
        )
        .unwrap_err();
        assert_eq!(
            err,
            BatchError::Length {
                what: "T",
                slice: "grad",
                expected: 4,
                actual: 3
            }
        );
    }
}
