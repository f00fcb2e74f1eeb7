//! The metrics a trainer tracks, from Keras's names (`compile(metrics=["accuracy"])`).

use core::fmt;

use super::{resolve_accuracy, Accuracy, Mean, Metric, UpdateState};
use super::{BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy};
use crate::train::{Batch, BatchError};

/// The most metrics one trainer tracks.
pub const MAX_METRICS: usize = 4;

/// Whether a larger value of a logged quantity is better (Keras's `_direction`), which
/// `mode = Auto` of the monitoring callbacks follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smaller is better (losses, errors).
    Down,
    /// Larger is better (accuracies).
    Up,
}

/// The metric names a trainer understands: Keras's name, the name of its validation figure,
/// and which way is better.
const NAMES: &[(&str, &str, Direction)] = &[
    ("accuracy", "val_accuracy", Direction::Up),
    ("acc", "val_acc", Direction::Up),
    ("binary_accuracy", "val_binary_accuracy", Direction::Up),
    (
        "categorical_accuracy",
        "val_categorical_accuracy",
        Direction::Up,
    ),
    (
        "sparse_categorical_accuracy",
        "val_sparse_categorical_accuracy",
        Direction::Up,
    ),
    ("mse", "val_mse", Direction::Down),
    (
        "mean_squared_error",
        "val_mean_squared_error",
        Direction::Down,
    ),
    ("mae", "val_mae", Direction::Down),
    (
        "mean_absolute_error",
        "val_mean_absolute_error",
        Direction::Down,
    ),
    ("loss", "val_loss", Direction::Down),
];

/// Which way is better for a logged quantity (`loss`, a metric, or their `val_` figures), as
/// Keras's monitoring callbacks decide in `mode="auto"`; `None` for a name that is neither.
///
/// ```
/// use static_keras_runtime::train::metrics::{direction, Direction};
/// assert_eq!(direction("val_loss"), Some(Direction::Down));
/// assert_eq!(direction("accuracy"), Some(Direction::Up));
/// assert_eq!(direction("learning_rate"), None);
/// ```
pub fn direction(name: &str) -> Option<Direction> {
    let name = name.strip_prefix("val_").unwrap_or(name);
    NAMES.iter().find(|e| e.0 == name).map(|e| e.2)
}

/// The name of a logged quantity's validation figure (`"val_accuracy"` for `"accuracy"`).
fn val_name(name: &str) -> Option<&'static str> {
    NAMES.iter().find(|e| e.0 == name).map(|e| e.1)
}

/// A metric named in [`MetricList::compile`] that cannot be tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricError {
    /// The metric as it was named.
    pub name: &'static str,
    /// Why it cannot be tracked.
    pub reason: &'static str,
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "metric \"{}\": {}", self.name, self.reason)
    }
}

impl core::error::Error for MetricError {}

/// The state of one tracked metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricKind {
    /// One of the accuracies (what `"accuracy"` resolved to, or one named directly).
    Accuracy(Accuracy),
    /// Keras's `MeanSquaredError` metric: the mean over positions of `mean₋₁((y − p)²)`.
    MeanSquaredError(Mean),
    /// Keras's `MeanAbsoluteError` metric: the mean over positions of `mean₋₁(|y − p|)`.
    MeanAbsoluteError(Mean),
}

/// One tracked metric: the name it is logged under (as it was given, like Keras) and its state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompiledMetric {
    /// The name in the logs and the history (`"accuracy"`, `"acc"`, `"mae"`, …).
    pub name: &'static str,
    /// The name of its validation figure (`"val_accuracy"`, …).
    pub val_name: &'static str,
    /// The running state.
    pub kind: MetricKind,
}

impl CompiledMetric {
    /// The metric's value so far.
    pub fn result(&self) -> f32 {
        match &self.kind {
            MetricKind::Accuracy(a) => a.result(),
            MetricKind::MeanSquaredError(m) | MetricKind::MeanAbsoluteError(m) => m.result(),
        }
    }

    fn reset(&mut self) {
        match &mut self.kind {
            MetricKind::Accuracy(a) => a.reset_state(),
            MetricKind::MeanSquaredError(m) | MetricKind::MeanAbsoluteError(m) => m.reset_state(),
        }
    }
}

/// The metrics of a trainer, in the order they were named (Keras's `metrics_names` after the
/// loss).
///
/// | name | metric |
/// |---|---|
/// | `"accuracy"`, `"acc"` | resolved from the shapes as Keras does ([`resolve_accuracy`]) |
/// | `"binary_accuracy"`, `"categorical_accuracy"`, `"sparse_categorical_accuracy"` | that accuracy |
/// | `"mse"`, `"mean_squared_error"` | Keras's `MeanSquaredError` metric |
/// | `"mae"`, `"mean_absolute_error"` | Keras's `MeanAbsoluteError` metric |
///
/// ```
/// use static_keras_runtime::train::metrics::MetricList;
/// use static_keras_runtime::train::Batch;
///
/// // A (3,) softmax output with one-hot targets.
/// let mut m = MetricList::compile(&["accuracy", "mae"], &[3], false)?;
/// m.update(&Batch::new(&[0.0f32, 1.0, 0.0], &[0.2, 0.7, 0.1], 3))?;
/// assert_eq!(m.get("accuracy"), Some(1.0));
/// assert!((m.get("mae").unwrap() - 0.2).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricList {
    items: [Option<CompiledMetric>; MAX_METRICS],
}

impl Default for MetricList {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricList {
    /// No metrics.
    pub const fn new() -> Self {
        Self {
            items: [None; MAX_METRICS],
        }
    }

    /// The metrics `names` for a model whose output has shape `output_shape` (without the batch
    /// axis), trained on class ids (`class_ids`: the sparse losses' `u32` targets) or on targets
    /// with the output's layout.
    ///
    /// # Errors
    /// An unknown name, more than [`MAX_METRICS`] metrics, a name given twice, or a metric that
    /// cannot read these targets (a categorical accuracy or an error metric on class ids, a
    /// sparse accuracy on one-hot targets).
    pub fn compile(
        names: &[&'static str],
        output_shape: &[usize],
        class_ids: bool,
    ) -> Result<Self, MetricError> {
        let mut list = Self::new();
        if names.len() > MAX_METRICS {
            return Err(MetricError {
                name: names[MAX_METRICS],
                reason: "too many metrics: a trainer tracks at most 4",
            });
        }
        let last = output_shape.last().copied().unwrap_or(1);
        let err = |name, reason| Err(MetricError { name, reason });
        for (i, &name) in names.iter().enumerate() {
            if names[..i].contains(&name) {
                return err(name, "named twice");
            }
            let Some(val_name) = val_name(name).filter(|_| name != "loss") else {
                return err(
                    name,
                    "unknown metric; known: accuracy, acc, binary_accuracy, categorical_accuracy, \
                     sparse_categorical_accuracy, mse, mean_squared_error, mae, mean_absolute_error",
                );
            };
            let kind = match name {
                "accuracy" | "acc" => {
                    let y_true: &[usize] = if class_ids {
                        &output_shape[..output_shape.len().saturating_sub(1)]
                    } else {
                        output_shape
                    };
                    match resolve_accuracy(y_true, output_shape) {
                        Ok(a) => MetricKind::Accuracy(a),
                        Err(_) => return err(name, "the output shape has no axis"),
                    }
                }
                "binary_accuracy" => {
                    if class_ids && last != 1 {
                        return err(
                            name,
                            "needs targets with the output's layout, not class ids (use \"accuracy\" or \"sparse_categorical_accuracy\")",
                        );
                    }
                    MetricKind::Accuracy(Accuracy::Binary(BinaryAccuracy::default()))
                }
                "categorical_accuracy" => {
                    if class_ids {
                        return err(
                            name,
                            "needs one-hot targets, not class ids (use \"sparse_categorical_accuracy\")",
                        );
                    }
                    MetricKind::Accuracy(Accuracy::Categorical(CategoricalAccuracy::default()))
                }
                "sparse_categorical_accuracy" => {
                    if !class_ids && last != 1 {
                        return err(
                            name,
                            "needs class-id targets (a sparse loss), not one-hot targets (use \"categorical_accuracy\")",
                        );
                    }
                    MetricKind::Accuracy(Accuracy::SparseCategorical(
                        SparseCategoricalAccuracy::default(),
                    ))
                }
                _ => {
                    if class_ids {
                        return err(
                            name,
                            "needs targets with the output's layout, not class ids",
                        );
                    }
                    if name.contains("squared") || name == "mse" {
                        MetricKind::MeanSquaredError(Mean::default())
                    } else {
                        MetricKind::MeanAbsoluteError(Mean::default())
                    }
                }
            };
            list.items[i] = Some(CompiledMetric {
                name,
                val_name,
                kind,
            });
        }
        Ok(list)
    }

    /// The metrics, in the order they were named.
    pub fn iter(&self) -> impl Iterator<Item = &CompiledMetric> {
        self.items.iter().map_while(Option::as_ref)
    }

    /// How many metrics there are.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items[0].is_none()
    }

    /// The value so far of the metric logged as `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.iter()
            .find(|m| m.name == name)
            .map(CompiledMetric::result)
    }

    /// Forgets every batch (the start of an epoch, of `evaluate`, of `train_on_batch`).
    pub fn reset(&mut self) {
        self.items
            .iter_mut()
            .flatten()
            .for_each(CompiledMetric::reset);
    }

    /// Adds one batch to every metric.
    ///
    /// # Errors
    /// A [`BatchError`] when the batch does not fit a metric; that metric is unchanged (metrics
    /// before it in the list have taken the batch).
    pub fn update<T: MetricTarget>(&mut self, batch: &Batch<'_, T>) -> Result<(), BatchError> {
        for m in self.items.iter_mut().flatten() {
            T::update(&mut m.kind, batch)?;
        }
        Ok(())
    }
}

/// The element type of a loss's targets, as the metrics read it: `f32` (the output's layout) or
/// `u32` (class ids). Implemented for those two only.
pub trait MetricTarget: Copy + sealed::Sealed {
    /// Whether these are class ids (one per position).
    const CLASS_IDS: bool;

    /// Adds `batch` to `metric`.
    ///
    /// # Errors
    /// When the batch does not fit the metric.
    fn update(metric: &mut MetricKind, batch: &Batch<'_, Self>) -> Result<(), BatchError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u32 {}
}

impl MetricTarget for f32 {
    const CLASS_IDS: bool = false;

    fn update(metric: &mut MetricKind, batch: &Batch<'_, f32>) -> Result<(), BatchError> {
        match metric {
            MetricKind::Accuracy(a) => UpdateState::<f32>::update_state(a, batch),
            MetricKind::MeanSquaredError(m) => {
                m.update_positions("MeanSquaredError", batch, batch.last, |t, p| {
                    mean(t.iter().zip(p).map(|(y, x)| (y - x) * (y - x)), p.len())
                })
            }
            MetricKind::MeanAbsoluteError(m) => {
                m.update_positions("MeanAbsoluteError", batch, batch.last, |t, p| {
                    mean(t.iter().zip(p).map(|(y, x)| libm::fabsf(y - x)), p.len())
                })
            }
        }
    }
}

impl MetricTarget for u32 {
    const CLASS_IDS: bool = true;

    fn update(metric: &mut MetricKind, batch: &Batch<'_, u32>) -> Result<(), BatchError> {
        match metric {
            MetricKind::Accuracy(a) => UpdateState::<u32>::update_state(a, batch),
            MetricKind::MeanSquaredError(_) => Err(BatchError::TargetKind {
                what: "MeanSquaredError",
            }),
            MetricKind::MeanAbsoluteError(_) => Err(BatchError::TargetKind {
                what: "MeanAbsoluteError",
            }),
        }
    }
}

/// `Σ values / n` in f32, as `ops.mean` over the last axis.
fn mean(values: impl Iterator<Item = f32>, n: usize) -> f32 {
    values.fold(0.0, |a, v| a + v) / n as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_keras() {
        let kind = |names: &[&'static str], shape: &[usize], ids| {
            MetricList::compile(names, shape, ids)
                .map(|m| m.iter().next().map(|c| c.kind))
                .unwrap()
                .unwrap()
        };
        let acc = |k| match k {
            MetricKind::Accuracy(a) => a.class_name(),
            _ => "other",
        };
        assert_eq!(acc(kind(&["accuracy"], &[3], false)), "CategoricalAccuracy");
        assert_eq!(acc(kind(&["acc"], &[3], true)), "SparseCategoricalAccuracy");
        assert_eq!(acc(kind(&["accuracy"], &[1], false)), "BinaryAccuracy");
        assert_eq!(
            acc(kind(&["accuracy"], &[4, 3], true)),
            "SparseCategoricalAccuracy"
        );
        assert!(matches!(
            kind(&["mse"], &[2], false),
            MetricKind::MeanSquaredError(_)
        ));
        assert!(matches!(
            kind(&["mean_absolute_error"], &[2], false),
            MetricKind::MeanAbsoluteError(_)
        ));
    }

    #[test]
    fn bad_names_are_errors() {
        let e = MetricList::compile(&["accuracy", "f1"], &[3], false).unwrap_err();
        assert_eq!(e.name, "f1");
        assert!(std::format!("{e}").starts_with("metric \"f1\": unknown metric"));
        assert!(MetricList::compile(&["loss"], &[3], false).is_err());
        assert!(MetricList::compile(&["acc", "acc"], &[3], false).is_err());
        assert!(MetricList::compile(&["categorical_accuracy"], &[3], true).is_err());
        assert!(MetricList::compile(&["sparse_categorical_accuracy"], &[3], false).is_err());
        assert!(MetricList::compile(&["mse"], &[3], true).is_err());
        assert!(MetricList::compile(
            &["acc", "mse", "mae", "binary_accuracy", "accuracy"],
            &[1],
            false
        )
        .is_err());
    }

    #[test]
    fn error_metrics_average_positions() {
        let mut m = MetricList::compile(&["mse", "mae"], &[2], false).unwrap();
        let (t, p) = ([0.0f32, 1.0, 2.0, 2.0], [1.0f32, 1.0, 0.0, 2.0]);
        m.update(&Batch::new(&t, &p, 2)).unwrap();
        assert_eq!(m.get("mse"), Some((0.5 + 2.0) / 2.0));
        assert_eq!(m.get("mae"), Some((0.5 + 1.0) / 2.0));
        m.reset();
        assert_eq!(m.get("mse"), Some(0.0));
        assert_eq!(direction("val_mse"), Some(Direction::Down));
        assert_eq!(val_name("acc"), Some("val_acc"));
    }
}
