//! The hinge losses, with Keras's batch-wide conversion of 0/1 labels to −1/1.

use super::{maximum, reduce, Loss, Reduction};
use crate::train::{Batch, BatchError};

/// Keras's `convert_binary_labels_to_hinge`, decided once for the whole batch: if every label is
/// 0 or 1, labels become `2y − 1`.
fn binary_labels(y_true: &[f32]) -> bool {
    y_true.iter().all(|&y| y == 0.0 || y == 1.0)
}

/// `mean₋₁(f(max(1 − y·p, 0)))` for the hinge losses; `f` returns the value and its slope.
fn hinge_mean(
    batch: &Batch<'_>,
    reduction: Reduction,
    what: &'static str,
    grad: Option<&mut [f32]>,
    f: impl Fn(f32) -> (f32, f32),
) -> Result<f32, BatchError> {
    // Checked first so a bad layout is reported before the conversion reads the labels.
    batch.check(what, batch.last)?;
    let convert = binary_labels(batch.y_true);
    reduce(what, batch, batch.last, reduction, None, grad, |t, p, g| {
        let d = p.len() as f32;
        let cd = g.as_ref().map_or(0.0, |(_, c)| c / d);
        let mut sum = 0.0f32;
        let mut g = g.map(|(g, _)| g);
        for (j, (&y, &x)) in t.iter().zip(p).enumerate() {
            let y = if convert { 2.0 * y - 1.0 } else { y };
            let (h, gate) = maximum(1.0 - y * x, 0.0);
            let (v, slope) = f(h);
            sum += v;
            if let Some(g) = g.as_deref_mut() {
                g[j] = -((cd * slope) * gate) * y;
            }
        }
        sum / d
    })
}

/// Keras `Hinge()` (`loss="hinge"`): `mean₋₁(max(1 − y·p, 0))`. If every label of the batch is
/// 0 or 1 they are first converted to −1/1 (`y ← 2y − 1`), a decision Keras takes over the whole
/// `y_true` tensor.
///
/// Gradient: `−y / (N·D)` where `1 − y·p > 0`, half of it where `1 − y·p == 0`, else 0.
///
/// ```
/// use static_keras_runtime::train::losses::{Hinge, Loss};
/// use static_keras_runtime::train::Batch;
/// // Labels 0/1 → −1/1: max(1 − 0.3, 0) and max(1 + 0.4, 0).
/// let v = Hinge::default().value(&Batch::new(&[1.0, 0.0], &[0.3, 0.4], 2))?;
/// assert!((v - 1.05).abs() < 1e-6);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Hinge {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for Hinge {
    type Target = f32;
    const NAME: &'static str = "Hinge";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        hinge_mean(batch, self.reduction, Self::NAME, grad, |h| (h, 1.0))
    }
}

/// Keras `SquaredHinge()` (`loss="squared_hinge"`): `mean₋₁(max(1 − y·p, 0)²)`, with
/// [`Hinge`]'s batch-wide 0/1 → −1/1 conversion.
///
/// Gradient: `−2·max(1 − y·p, 0)·y / (N·D)`.
///
/// ```
/// use static_keras_runtime::train::losses::{Loss, SquaredHinge};
/// use static_keras_runtime::train::Batch;
/// // Labels −1/2 are not all 0/1, so they stay: max(1 + 0.5, 0)² and max(1 − 2·0.25, 0)².
/// let v = SquaredHinge::default().value(&Batch::new(&[-1.0, 2.0], &[0.5, 0.25], 2))?;
/// assert!((v - 1.25).abs() < 1e-6);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SquaredHinge {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for SquaredHinge {
    type Target = f32;
    const NAME: &'static str = "SquaredHinge";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        hinge_mean(batch, self.reduction, Self::NAME, grad, |h| {
            (h * h, 2.0 * h)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_batch_wide() {
        let hinge = Hinge::default();
        // One label of 0.5 anywhere in the batch stops the conversion for every position.
        let p = [0.5f32, 0.5, 0.5, 0.5];
        let v = hinge
            .value(&Batch::new(&[1.0, 0.0, 1.0, 0.0], &p, 2))
            .unwrap();
        assert!((v - 1.0).abs() < 1e-6); // (0.5 + 1.5) / 2, twice
        let v = hinge
            .value(&Batch::new(&[1.0, 0.0, 1.0, 0.5], &p, 2))
            .unwrap();
        // y unchanged: 0.5, 1, 0.5, 0.75
        assert!((v - 2.75 / 4.0).abs() < 1e-6);
    }

    #[test]
    fn hinge_gradient_at_the_kink_is_half() {
        let mut g = [0.0f32; 2];
        Hinge::default()
            .compute(&Batch::new(&[1.0, -1.0], &[1.0, 0.0], 1), Some(&mut g))
            .unwrap();
        assert_eq!(g, [-0.25, 0.5]); // tie: ½·(−1)/2; inside: −(−1)/2
        SquaredHinge::default()
            .compute(&Batch::new(&[1.0, -1.0], &[1.0, 0.0], 1), Some(&mut g))
            .unwrap();
        assert_eq!(g, [0.0, 1.0]);
    }
}
