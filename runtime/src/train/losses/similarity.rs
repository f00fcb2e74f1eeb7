//! Losses that compare distributions or directions: KL divergence and cosine similarity.

use super::{check_axis, clip, ln, minimum, reduce, Loss, Reduction, EPSILON};
use crate::train::{Batch, BatchError};

/// Keras `KLDivergence()` (`loss="kl_divergence"`, `"kld"`): with `ỹ = clip(y, ε, 1)` and
/// `p̃ = clip(p, ε, 1)`, `Σ₋₁ ỹ·ln(ỹ/p̃)`. Zero targets still contribute `ε·ln(ε/p̃)`.
///
/// Gradient: `−ỹ/p̃ / N` where `ε < p < 1`, 0 outside, half at exactly a bound.
///
/// ```
/// use static_keras_runtime::train::losses::{KlDivergence, Loss};
/// use static_keras_runtime::train::Batch;
/// let v = KlDivergence::default().value(&Batch::new(&[0.5, 0.5], &[0.25, 0.75], 2))?;
/// let want = 0.5 * (2.0f32).ln() + 0.5 * (2.0f32 / 3.0).ln();
/// assert!((v - want).abs() < 1e-6);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KlDivergence {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for KlDivergence {
    type Target = f32;
    const NAME: &'static str = "KLDivergence";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                let term = |y: f32, x: f32| {
                    let (yc, _) = clip(y, EPSILON, 1.0);
                    let (pc, gate) = clip(x, EPSILON, 1.0);
                    let ratio = yc / pc;
                    (yc * ln(ratio), yc, pc, ratio, gate)
                };
                let mut sum = 0.0f32;
                match g {
                    None => t.iter().zip(p).for_each(|(&y, &x)| sum += term(y, x).0),
                    Some((g, c)) => {
                        for ((&y, &x), g) in t.iter().zip(p).zip(g) {
                            let (v, yc, pc, ratio, gate) = term(y, x);
                            sum += v;
                            // log: cot/ratio; ratio = ỹ/p̃: −cot·ỹ·p̃⁻²; then the clip.
                            let cot_ratio = (c * yc) / ratio;
                            *g = -cot_ratio * yc * (1.0 / (pc * pc)) * gate;
                        }
                    }
                }
                sum
            },
        )
    }
}

/// Keras `CosineSimilarity(axis=-1)` (`loss="cosine_similarity"`): `−Σ₋₁ n(y)·n(p)` with
/// `n(x) = x·min(rsqrt(Σx²), 1/ε)`. The value lies in `[−1, 1]`; a zero vector gives 0.
///
/// Gradient: JAX's derivative of that expression. For an all-zero prediction it is NaN, as in
/// Keras (`0·∞` in the derivative of `rsqrt` at 0).
///
/// ```
/// use static_keras_runtime::train::losses::{CosineSimilarity, Loss};
/// use static_keras_runtime::train::Batch;
/// let y_true = [0.0, 1.0, 1.0, 1.0];
/// let y_pred = [1.0, 0.0, 1.0, 1.0];
/// let v = CosineSimilarity::default().value(&Batch::new(&y_true, &y_pred, 2))?;
/// assert!((v + 0.5).abs() < 1e-6); // (−0 − 1) / 2
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineSimilarity {
    /// The axis the similarity is taken over; only −1 (the default) is supported.
    pub axis: i32,
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Default for CosineSimilarity {
    fn default() -> Self {
        Self {
            axis: -1,
            reduction: Reduction::default(),
        }
    }
}

/// `min(rsqrt(s), 1/ε)`, `rsqrt(s)` and the share of the gradient `rsqrt` gets from the `min`.
fn inverse_norm(s: f32) -> (f32, f32, f32) {
    // `1.0 / epsilon` in Python, rounded to f32: exactly 1e7.
    const MAX: f32 = (1.0f64 / 1e-7f64) as f32;
    let r = 1.0 / libm::sqrtf(s);
    let (inv, gate) = minimum(r, MAX);
    (inv, r, gate)
}

impl Loss for CosineSimilarity {
    type Target = f32;
    const NAME: &'static str = "CosineSimilarity";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        check_axis(Self::NAME, self.axis)?;
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                let sq = |v: &[f32]| v.iter().map(|&x| x * x).sum::<f32>();
                let (s_pred, s_true) = (sq(p), sq(t));
                let (inv_pred, r_pred, gate) = inverse_norm(s_pred);
                let (inv_true, _, _) = inverse_norm(s_true);
                let dot: f32 = t
                    .iter()
                    .zip(p)
                    .map(|(&y, &x)| (y * inv_true) * (x * inv_pred))
                    .sum();
                if let Some((g, c)) = g {
                    // cot of each n(y)_j·n(p)_j is −c; n(p)_j = p_j·inv.
                    let mut cot_inv = 0.0f32;
                    for ((&y, &x), g) in t.iter().zip(p).zip(g.iter_mut()) {
                        let cot_np = -c * (y * inv_true);
                        *g = cot_np * inv_pred;
                        cot_inv += cot_np * x;
                    }
                    // inv = min(r, 1/ε); r = rsqrt(s): dr/ds = −½·r/s; s = Σp²: ds/dp = 2p.
                    let cot_s = (cot_inv * gate) * (-0.5 * (r_pred / s_pred));
                    for (g, &x) in g.iter_mut().zip(p) {
                        *g += cot_s * (2.0 * x);
                    }
                }
                -dot
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kld_clips_both_sides() {
        let kld = KlDivergence::default();
        let mut g = [0.0f32; 3];
        // y = 0 → ε; p = 0 is clipped to ε (no gradient); p = 1 is on the bound (half).
        let v = kld
            .compute(
                &Batch::new(&[0.0, 0.5, 0.5], &[0.2, 0.0, 1.0], 3),
                Some(&mut g),
            )
            .unwrap();
        let e = 1e-7f64;
        let want = e * (e / 0.2).ln() + 0.5 * (0.5 / e).ln() + 0.5 * 0.5f64.ln();
        assert!((v as f64 - want).abs() < 1e-5, "{v} {want}");
        assert!((g[0] as f64 + e / 0.2).abs() < 1e-9);
        assert_eq!(g[1], 0.0);
        assert!((g[2] + 0.25).abs() < 1e-6);
    }

    #[test]
    fn cosine_by_hand() {
        let cos = CosineSimilarity::default();
        let mut g = [0.0f32; 2];
        let v = cos
            .compute(&Batch::new(&[1.0, 0.0], &[3.0, 4.0], 2), Some(&mut g))
            .unwrap();
        assert!((v + 0.6).abs() < 1e-6);
        // ∂(−y·p/|p|)/∂p = −(y − (y·p̂)p̂)/|p| = −((1,0) − 0.6·(0.6,0.8))/5
        assert!((g[0] + 0.128).abs() < 1e-6);
        assert!((g[1] - 0.096).abs() < 1e-6);
        // A zero target gives 0 and a zero gradient; a zero prediction a NaN gradient.
        let v = cos
            .compute(&Batch::new(&[0.0, 0.0], &[3.0, 4.0], 2), Some(&mut g))
            .unwrap();
        assert_eq!((v, g), (0.0, [0.0, 0.0]));
        let v = cos
            .compute(&Batch::new(&[1.0, 0.0], &[0.0, 0.0], 2), Some(&mut g))
            .unwrap();
        assert_eq!(v, 0.0);
        assert!(g[0].is_nan());
    }
}
