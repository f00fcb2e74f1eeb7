//! The accuracies: binary (thresholded), categorical (argmax against argmax) and sparse
//! categorical (argmax against a class id).

use super::{Mean, Metric, UpdateState};
use crate::train::{Batch, BatchError};

/// The index of the largest value, the first one on ties; a NaN counts as the largest (as
/// `jnp.argmax`).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        let b = values[best];
        if !b.is_nan() && (v.is_nan() || v > b) {
            best = i;
        }
    }
    best
}

/// Keras `BinaryAccuracy(threshold=0.5)`: the share of elements with
/// `y_true == (y_pred > threshold)`, averaged over the last axis per position and then over the
/// positions.
///
/// `total` and `count` are Keras's variables for `(B, D)` outputs; for sequence outputs they
/// are `T` times Keras's (Keras first averages the `T` steps of a sample), and the
/// [`result`](Metric::result) is the same.
///
/// ```
/// use static_keras_runtime::train::metrics::{BinaryAccuracy, Metric, UpdateState};
/// use static_keras_runtime::train::Batch;
/// let mut m = BinaryAccuracy::default();
/// let (y_true, y_pred) = ([1.0, 1.0, 0.0, 0.0], [0.98, 1.0, 0.0, 0.6]);
/// m.update_state(&Batch::new(&y_true, &y_pred, 1))?;
/// assert_eq!(m.result(), 0.75); // Keras's docstring example
/// m.reset_state();
/// let w = [1.0, 0.0, 0.0, 1.0];
/// m.update_state(&Batch::new(&y_true, &y_pred, 1).with_sample_weight(&w))?;
/// assert_eq!(m.result(), 0.5);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryAccuracy {
    /// A prediction above it counts as 1 (default 0.5).
    pub threshold: f32,
    /// `Σ value·weight` so far.
    pub total: f32,
    /// `Σ weight` so far.
    pub count: f32,
}

impl Default for BinaryAccuracy {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            total: 0.0,
            count: 0.0,
        }
    }
}

impl BinaryAccuracy {
    const NAME: &'static str = "BinaryAccuracy";

    fn update<T: Copy>(
        &mut self,
        batch: &Batch<'_, T>,
        matches: impl Fn(T, bool) -> bool,
    ) -> Result<(), BatchError> {
        let threshold = self.threshold;
        let mut mean = Mean {
            total: self.total,
            count: self.count,
        };
        mean.update_positions(Self::NAME, batch, batch.last, |t, p| {
            let hits = t
                .iter()
                .zip(p)
                .filter(|&(&y, &x)| matches(y, x > threshold))
                .count();
            hits as f32 / p.len() as f32
        })?;
        (self.total, self.count) = (mean.total, mean.count);
        Ok(())
    }
}

impl UpdateState<f32> for BinaryAccuracy {
    fn update_state(&mut self, batch: &Batch<'_, f32>) -> Result<(), BatchError> {
        self.update(batch, |y, above| y == if above { 1.0 } else { 0.0 })
    }
}

/// Integer labels (`y_true == cast(y_pred > threshold, int)`).
impl UpdateState<u32> for BinaryAccuracy {
    fn update_state(&mut self, batch: &Batch<'_, u32>) -> Result<(), BatchError> {
        self.update(batch, |y, above| y == above as u32)
    }
}

impl Metric for BinaryAccuracy {
    fn result(&self) -> f32 {
        mean_result(self.total, self.count)
    }

    fn reset_state(&mut self) {
        (self.total, self.count) = (0.0, 0.0);
    }
}

fn mean_result(total: f32, count: f32) -> f32 {
    Mean { total, count }.result()
}

/// Keras `CategoricalAccuracy()`: the share of positions where `argmax(y_pred) ==
/// argmax(y_true)` (targets one-hot, or anything whose argmax is the class, e.g. for an MSE
/// model).
///
/// `total` and `count`: as for [`BinaryAccuracy`].
///
/// ```
/// use static_keras_runtime::train::metrics::{CategoricalAccuracy, Metric, UpdateState};
/// use static_keras_runtime::train::Batch;
/// let mut m = CategoricalAccuracy::default();
/// let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
/// let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
/// m.update_state(&Batch::new(&y_true, &y_pred, 3))?;
/// assert_eq!(m.result(), 0.5); // Keras's docstring example
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CategoricalAccuracy {
    /// `Σ value·weight` so far.
    pub total: f32,
    /// `Σ weight` so far.
    pub count: f32,
}

impl UpdateState<f32> for CategoricalAccuracy {
    fn update_state(&mut self, batch: &Batch<'_, f32>) -> Result<(), BatchError> {
        let mut mean = Mean {
            total: self.total,
            count: self.count,
        };
        mean.update_positions("CategoricalAccuracy", batch, batch.last, |t, p| {
            if argmax(t) == argmax(p) {
                1.0
            } else {
                0.0
            }
        })?;
        (self.total, self.count) = (mean.total, mean.count);
        Ok(())
    }
}

impl Metric for CategoricalAccuracy {
    fn result(&self) -> f32 {
        mean_result(self.total, self.count)
    }

    fn reset_state(&mut self) {
        *self = Self::default();
    }
}

/// Keras `SparseCategoricalAccuracy()`: the share of positions where `argmax(y_pred) == y_true`,
/// with one class id per position (`u32`, or `f32` labels as Keras compares them: a label that
/// is not a whole number never matches).
///
/// `total` and `count`: as for [`BinaryAccuracy`].
///
/// ```
/// use static_keras_runtime::train::metrics::{Metric, SparseCategoricalAccuracy, UpdateState};
/// use static_keras_runtime::train::Batch;
/// let mut m = SparseCategoricalAccuracy::default();
/// let y_pred = [0.1, 0.6, 0.3, 0.05, 0.95, 0.0];
/// m.update_state(&Batch::new(&[2u32, 1], &y_pred, 3))?;
/// assert_eq!(m.result(), 0.5); // Keras's docstring example
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SparseCategoricalAccuracy {
    /// `Σ value·weight` so far.
    pub total: f32,
    /// `Σ weight` so far.
    pub count: f32,
}

impl SparseCategoricalAccuracy {
    fn update<T: Copy>(
        &mut self,
        batch: &Batch<'_, T>,
        matches: impl Fn(T, usize) -> bool,
    ) -> Result<(), BatchError> {
        let mut mean = Mean {
            total: self.total,
            count: self.count,
        };
        mean.update_positions("SparseCategoricalAccuracy", batch, 1, |t, p| {
            if matches(t[0], argmax(p)) {
                1.0
            } else {
                0.0
            }
        })?;
        (self.total, self.count) = (mean.total, mean.count);
        Ok(())
    }
}

impl UpdateState<u32> for SparseCategoricalAccuracy {
    fn update_state(&mut self, batch: &Batch<'_, u32>) -> Result<(), BatchError> {
        self.update(batch, |y, k| y as usize == k)
    }
}

/// Float labels, compared as Keras compares them (`y_true == float(argmax)`).
impl UpdateState<f32> for SparseCategoricalAccuracy {
    fn update_state(&mut self, batch: &Batch<'_, f32>) -> Result<(), BatchError> {
        self.update(batch, |y, k| y == k as f32)
    }
}

impl Metric for SparseCategoricalAccuracy {
    fn result(&self) -> f32 {
        mean_result(self.total, self.count)
    }

    fn reset_state(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[1.0, f32::NAN, 5.0]), 1);
        assert_eq!(argmax(&[2.0]), 0);
    }

    #[test]
    fn masked_positions_weigh_zero() {
        // Sequence output (T = 3, D = 2): positions 0 and 2 right, 1 wrong but masked.
        let y_true = [1u32, 0, 1];
        let y_pred = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7];
        let mask = [true, false, true];
        let mut m = SparseCategoricalAccuracy::default();
        m.update_state(&Batch::new(&y_true, &y_pred, 2).with_mask(&mask))
            .unwrap();
        assert_eq!(m.result(), 1.0);
        m.update_state(&Batch::new(&y_true, &y_pred, 2)).unwrap();
        assert_eq!(m.result(), 4.0 / 5.0); // running mean: (2 + 2) / (2 + 3)
        m.reset_state();
        assert_eq!(m.result(), 0.0);
    }

    #[test]
    fn binary_accuracy_averages_the_last_axis() {
        let mut m = BinaryAccuracy::default();
        // One position of D = 4: 3 of 4 right; weight 2.
        let w = [2.0];
        UpdateState::<f32>::update_state(
            &mut m,
            &Batch::new(&[1.0, 0.0, 1.0, 1.0], &[0.9, 0.1, 0.7, 0.2], 4).with_sample_weight(&w),
        )
        .unwrap();
        assert_eq!((m.total, m.count), (1.5, 2.0));
        assert_eq!(m.result(), 0.75);
    }
}
