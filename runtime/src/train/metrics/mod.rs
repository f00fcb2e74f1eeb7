//! Keras's training metrics: the loss tracker ([`Mean`]), the accuracies, and the resolution of
//! `metrics=["accuracy"]` from shapes ([`resolve_accuracy`]).
//!
//! A metric accumulates a running weighted mean over the batches of an epoch, as Keras's
//! `MeanMetricWrapper` does: [`update_state`](UpdateState::update_state) once per batch (with the
//! predictions from before that batch's update), [`result`](Metric::result) for the logs,
//! [`reset_state`](Metric::reset_state) at the start of each epoch.
//!
//! ```
//! use static_keras_runtime::train::metrics::{resolve_accuracy, Accuracy, Metric, UpdateState};
//! use static_keras_runtime::train::Batch;
//!
//! // Dense(3, softmax) with one-hot targets: "accuracy" is CategoricalAccuracy.
//! let mut acc = resolve_accuracy(&[3], &[3])?;
//! assert!(matches!(acc, Accuracy::Categorical(_)));
//! let y_true = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
//! let y_pred = [0.2, 0.7, 0.1, 0.3, 0.6, 0.1];
//! acc.update_state(&Batch::new(&y_true, &y_pred, 3))?;
//! assert_eq!(acc.result(), 0.5);
//! # Ok::<(), static_keras_runtime::train::BatchError>(())
//! ```

mod accuracy;
mod list;

pub use accuracy::{BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy};
pub use list::{
    direction, CompiledMetric, Direction, MetricError, MetricKind, MetricList, MetricTarget,
    MAX_METRICS,
};

use super::batch::Sum;
use super::{Batch, BatchError};

/// A metric's running state: what it reports and how it starts over. Every metric also
/// implements [`UpdateState`] for the target types it reads.
pub trait Metric {
    /// The weighted mean so far (`total / count`, 0 before any weight).
    fn result(&self) -> f32;

    /// Forgets every batch (Keras does this at the start of each epoch).
    fn reset_state(&mut self);
}

/// Adding a batch to a metric; `T` is the element type of the targets (`f32`, or `u32` class
/// ids for the sparse accuracy).
pub trait UpdateState<T: Copy = f32>: Metric {
    /// Adds one batch (Keras's `update_state(y_true, y_pred, sample_weight)`; the batch's mask,
    /// if any, weighs masked positions 0).
    ///
    /// # Errors
    /// A [`BatchError`] when the batch does not fit; the state is then unchanged.
    fn update_state(&mut self, batch: &Batch<'_, T>) -> Result<(), BatchError>;
}

/// Keras `keras.metrics.Mean()`: a weighted running mean. `fit` tracks the loss with one,
/// updated with the batch loss weighted by the batch size, so the epoch loss is
/// `Σ loss_b·n_b / Σ n_b`.
///
/// ```
/// use static_keras_runtime::train::metrics::Mean;
/// let mut loss = Mean::default();
/// loss.update_state(1.0, 3.0); // batch of 3
/// loss.update_state(5.59, 3.0);
/// loss.update_state(3.321, 1.0); // last, partial batch
/// assert!((loss.result() - (3.0 + 16.77 + 3.321) / 7.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Mean {
    /// Keras's `total` variable: `Σ value·weight`.
    pub total: f32,
    /// Keras's `count` variable: `Σ weight`.
    pub count: f32,
}

impl Mean {
    /// Adds `value` with weight `sample_weight` (Keras's `update_state(value, sample_weight)`
    /// for a scalar value).
    pub fn update_state(&mut self, value: f32, sample_weight: f32) {
        self.total += value * sample_weight;
        self.count += sample_weight;
    }

    /// `total / count`, or 0 while `count` is 0 (Keras's `divide_no_nan`).
    pub fn result(&self) -> f32 {
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }

    /// Back to zero.
    pub fn reset_state(&mut self) {
        *self = Self::default();
    }

    /// Adds one value per position, each weighted by its sample weight times its mask (0/1),
    /// as `MeanMetricWrapper` does. Returns an error if the batch does not fit.
    pub(crate) fn update_positions<T: Copy>(
        &mut self,
        what: &'static str,
        batch: &Batch<'_, T>,
        targets_per_position: usize,
        value: impl Fn(&[T], &[f32]) -> f32,
    ) -> Result<(), BatchError> {
        let positions = batch.check(what, targets_per_position)?;
        let last = batch.last;
        let (mut total, mut count) = (Sum::default(), Sum::default());
        for p in 0..positions {
            let v = value(
                &batch.y_true[p * targets_per_position..][..targets_per_position],
                &batch.y_pred[p * last..][..last],
            );
            let mask = batch.mask.map(|m| if m[p] { 1.0 } else { 0.0 });
            let w = match (batch.sample_weight, mask) {
                (None, None) => None,
                (Some(w), None) => Some(w[p]),
                (None, Some(m)) => Some(m),
                (Some(w), Some(m)) => Some(w[p] * m),
            };
            total.add(w.map_or(v, |w| v * w));
            count.add(w.unwrap_or(1.0));
        }
        self.total += total.value();
        self.count += count.value();
        Ok(())
    }
}
/// The metric Keras's `"accuracy"` (or `"acc"`) stands for, from [`resolve_accuracy`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Accuracy {
    /// A one-unit output: `BinaryAccuracy(threshold=0.5)`.
    Binary(BinaryAccuracy),
    /// Targets with the output's shape: `CategoricalAccuracy`.
    Categorical(CategoricalAccuracy),
    /// Class-id targets: `SparseCategoricalAccuracy`.
    SparseCategorical(SparseCategoricalAccuracy),
}

impl Accuracy {
    /// The Keras class name of the metric it resolved to.
    pub fn class_name(&self) -> &'static str {
        match self {
            Accuracy::Binary(_) => "BinaryAccuracy",
            Accuracy::Categorical(_) => "CategoricalAccuracy",
            Accuracy::SparseCategorical(_) => "SparseCategoricalAccuracy",
        }
    }

    fn as_mean(&self) -> Mean {
        let (total, count) = match self {
            Accuracy::Binary(m) => (m.total, m.count),
            Accuracy::Categorical(m) => (m.total, m.count),
            Accuracy::SparseCategorical(m) => (m.total, m.count),
        };
        Mean { total, count }
    }

    fn reset(&mut self) {
        match self {
            Accuracy::Binary(m) => (m.total, m.count) = (0.0, 0.0),
            Accuracy::Categorical(m) => *m = CategoricalAccuracy::default(),
            Accuracy::SparseCategorical(m) => *m = SparseCategoricalAccuracy::default(),
        }
    }
}

impl UpdateState<f32> for Accuracy {
    fn update_state(&mut self, batch: &Batch<'_, f32>) -> Result<(), BatchError> {
        match self {
            Accuracy::Binary(m) => UpdateState::<f32>::update_state(m, batch),
            Accuracy::Categorical(m) => m.update_state(batch),
            Accuracy::SparseCategorical(m) => UpdateState::<f32>::update_state(m, batch),
        }
    }
}

/// Class-id targets; `Categorical` cannot read them and reports [`BatchError::TargetKind`].
impl UpdateState<u32> for Accuracy {
    fn update_state(&mut self, batch: &Batch<'_, u32>) -> Result<(), BatchError> {
        match self {
            Accuracy::Binary(m) => UpdateState::<u32>::update_state(m, batch),
            Accuracy::Categorical(_) => Err(BatchError::TargetKind {
                what: "CategoricalAccuracy",
            }),
            Accuracy::SparseCategorical(m) => UpdateState::<u32>::update_state(m, batch),
        }
    }
}

impl Metric for Accuracy {
    fn result(&self) -> f32 {
        self.as_mean().result()
    }

    fn reset_state(&mut self) {
        self.reset();
    }
}

/// Resolves Keras's `metrics=["accuracy"]` from the shapes of one target and one output
/// (without the batch axis), exactly as Keras does, from shapes only and not from the loss:
///
/// 1. the output's last axis is 1 → `BinaryAccuracy` (`y_pred > 0.5`; an MSE regressor too);
/// 2. the target has fewer axes than the output, or its last axis is 1 while the output's is
///    not → `SparseCategoricalAccuracy`;
/// 3. otherwise `CategoricalAccuracy` (even for targets that are not one-hot).
///
/// ```
/// use static_keras_runtime::train::metrics::resolve_accuracy;
/// assert_eq!(resolve_accuracy(&[1], &[1])?.class_name(), "BinaryAccuracy");
/// assert_eq!(resolve_accuracy(&[], &[3])?.class_name(), "SparseCategoricalAccuracy");
/// assert_eq!(resolve_accuracy(&[1], &[3])?.class_name(), "SparseCategoricalAccuracy");
/// assert_eq!(resolve_accuracy(&[2], &[2])?.class_name(), "CategoricalAccuracy");
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
///
/// # Errors
/// [`BatchError::Shape`] for an output shape without axes (Keras would then look at the batch
/// axis).
pub fn resolve_accuracy(
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> Result<Accuracy, BatchError> {
    let Some(&pred_last) = y_pred_shape.last() else {
        return Err(BatchError::Shape {
            what: "accuracy",
            reason: "the output shape has no axis besides the batch axis",
        });
    };
    if pred_last == 1 {
        return Ok(Accuracy::Binary(BinaryAccuracy::default()));
    }
    let sparse = y_true_shape.len() < y_pred_shape.len() || y_true_shape.last() == Some(&1);
    Ok(if sparse {
        Accuracy::SparseCategorical(SparseCategoricalAccuracy::default())
    } else {
        Accuracy::Categorical(CategoricalAccuracy::default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_batches_leave_the_state_alone() {
        let mut m = CategoricalAccuracy::default();
        assert!(m.update_state(&Batch::new(&[1.0], &[0.5, 0.5], 2)).is_err());
        assert_eq!((m.total, m.count), (0.0, 0.0));
        let mut a = Accuracy::Categorical(m);
        assert_eq!(
            UpdateState::<u32>::update_state(&mut a, &Batch::new(&[1u32], &[0.5, 0.5], 2)),
            Err(BatchError::TargetKind {
                what: "CategoricalAccuracy"
            })
        );
        assert!(resolve_accuracy(&[], &[]).is_err());
    }

    #[test]
    fn resolution_rows() {
        let name = |t: &[usize], p: &[usize]| resolve_accuracy(t, p).unwrap().class_name();
        assert_eq!(name(&[3], &[1]), "BinaryAccuracy");
        assert_eq!(name(&[], &[1]), "BinaryAccuracy");
        assert_eq!(name(&[5], &[5, 1]), "BinaryAccuracy");
        assert_eq!(name(&[5], &[5, 4]), "SparseCategoricalAccuracy");
        assert_eq!(name(&[5, 1], &[5, 4]), "SparseCategoricalAccuracy");
        assert_eq!(name(&[5, 4], &[5, 4]), "CategoricalAccuracy");
        assert_eq!(name(&[2, 3, 4], &[5, 4]), "CategoricalAccuracy");
    }
}
