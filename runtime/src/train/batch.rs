//! A training batch as losses and metrics see it, and what can be wrong with one.

use core::fmt;

/// One batch of predictions and targets, laid out flat, as a [`Loss`](super::losses::Loss) or a
/// [`Metric`](super::metrics::Metric) takes it.
///
/// `y_pred` holds the batch's predictions one sample after another, each sample in Keras's
/// row-major order; `last` is the size of its last axis (`D` for a `(B, D)` output, also `D` for a
/// `(B, T, D)` sequence output). A **position** is one entry of the per-sample loss tensor
/// `S = y_pred.shape[:-1]`: there are `y_pred.len() / last` of them (`B`, or `B·T`).
///
/// `y_true` has the layout of `y_pred` (element type `f32`), except for sparse targets
/// (`SparseCategoricalCrossentropy`, `SparseCategoricalAccuracy`), which hold one class id per
/// position. Keras's `(B,)` and `(B, 1)` label shapes are the same flat slice.
///
/// `sample_weight` and `mask` have one entry per position. The mask is the Keras mask of the
/// output (e.g. from `Embedding(mask_zero=True)`); it is combined with the sample weights as
/// Keras combines them (for the default reduction, a valid position weighs `|S| / Σmask`).
///
/// ```
/// use static_keras_runtime::train::Batch;
/// // Two samples of a (T=2, D=3) sequence output, the second sample's last step masked.
/// let y_pred = [0.0f32; 12];
/// let y_true = [0.0f32; 12];
/// let mask = [true, true, true, false];
/// let batch = Batch::new(&y_true, &y_pred, 3).with_mask(&mask);
/// assert_eq!(batch.positions(), Some(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch<'a, T = f32> {
    /// The targets: `y_pred`'s layout, or one class id per position for sparse targets.
    pub y_true: &'a [T],
    /// The model's outputs for the batch, flat.
    pub y_pred: &'a [f32],
    /// Size of the last axis of one output (`D`).
    pub last: usize,
    /// Keras's `sample_weight`, one per position; `None` weighs every position 1.
    pub sample_weight: Option<&'a [f32]>,
    /// The Keras mask of the output, one per position; `None` means no mask.
    pub mask: Option<&'a [bool]>,
}

impl<'a, T> Batch<'a, T> {
    /// A batch without sample weights or mask.
    pub const fn new(y_true: &'a [T], y_pred: &'a [f32], last: usize) -> Self {
        Self {
            y_true,
            y_pred,
            last,
            sample_weight: None,
            mask: None,
        }
    }

    /// The same batch with per-position sample weights.
    pub const fn with_sample_weight(mut self, sample_weight: &'a [f32]) -> Self {
        self.sample_weight = Some(sample_weight);
        self
    }

    /// The same batch with a per-position Keras mask.
    pub const fn with_mask(mut self, mask: &'a [bool]) -> Self {
        self.mask = Some(mask);
        self
    }

    /// The number of positions (`y_pred.len() / last`), or `None` when `last` is 0 or does not
    /// divide `y_pred.len()`.
    pub const fn positions(&self) -> Option<usize> {
        if self.last == 0 || !self.y_pred.len().is_multiple_of(self.last) {
            None
        } else {
            Some(self.y_pred.len() / self.last)
        }
    }

    /// Checks the layout: a non-empty `y_pred` made of whole positions, `y_true` with
    /// `targets_per_position` values per position, and weights and mask with one per position.
    /// Returns the number of positions.
    pub(crate) fn check(
        &self,
        what: &'static str,
        targets_per_position: usize,
    ) -> Result<usize, BatchError> {
        if self.y_pred.is_empty() {
            return Err(BatchError::Empty { what });
        }
        let positions = self.positions().ok_or(BatchError::Layout {
            what,
            len: self.y_pred.len(),
            last: self.last,
        })?;
        let length = |slice, expected, actual| {
            if expected == actual {
                Ok(())
            } else {
                Err(BatchError::Length {
                    what,
                    slice,
                    expected,
                    actual,
                })
            }
        };
        length(
            "y_true",
            positions * targets_per_position,
            self.y_true.len(),
        )?;
        if let Some(w) = self.sample_weight {
            length("sample_weight", positions, w.len())?;
        }
        if let Some(m) = self.mask {
            length("mask", positions, m.len())?;
        }
        Ok(positions)
    }
}

/// A batch that does not fit the loss or metric it was given to.
///
/// Every variant names the loss or metric (`what`, its Keras class name) and the offending slice
/// or value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// `y_pred` is empty.
    Empty {
        /// The loss or metric.
        what: &'static str,
    },
    /// `last` is 0 or does not divide the length of `y_pred`.
    Layout {
        /// The loss or metric.
        what: &'static str,
        /// Length of `y_pred`.
        len: usize,
        /// The `last` that was given.
        last: usize,
    },
    /// A slice of the wrong length.
    Length {
        /// The loss or metric.
        what: &'static str,
        /// Which slice: `y_true`, `sample_weight`, `mask` or `grad`.
        slice: &'static str,
        /// The length the batch needs.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A sparse target that is not a class of the output (and not `ignore_class`). Keras would
    /// silently count it as loss 0.
    ClassOutOfRange {
        /// The loss or metric.
        what: &'static str,
        /// The position (index into `y_true`).
        position: usize,
        /// The class id found.
        class: u32,
        /// The number of classes (`last`).
        classes: usize,
    },
    /// An `axis` other than the last one, which this implementation does not support.
    Axis {
        /// The loss.
        what: &'static str,
        /// The `axis` that was set.
        axis: i32,
    },
    /// Targets of a kind the metric cannot read (class ids given to `CategoricalAccuracy`).
    TargetKind {
        /// The metric.
        what: &'static str,
    },
    /// A shape that `"accuracy"` cannot be resolved from.
    Shape {
        /// What is being resolved.
        what: &'static str,
        /// The problem.
        reason: &'static str,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Empty { what } => write!(f, "{what}: the batch is empty (y_pred has no values)"),
            BatchError::Layout { what, len, last } => write!(
                f,
                "{what}: y_pred has {len} values, which is not a whole number of outputs whose last axis has size {last}"
            ),
            BatchError::Length {
                what,
                slice,
                expected,
                actual,
            } => write!(
                f,
                "{what}: `{slice}` has {actual} values but the batch needs {expected}"
            ),
            BatchError::ClassOutOfRange {
                what,
                position,
                class,
                classes,
            } => write!(
                f,
                "{what}: y_true[{position}] is class {class} but the output has {classes} classes (0..{classes})"
            ),
            BatchError::Axis { what, axis } => write!(
                f,
                "{what}: axis={axis} is not supported; only the last axis (axis=-1) is"
            ),
            BatchError::TargetKind { what } => write!(
                f,
                "{what}: needs targets with the output's layout (f32), not class ids"
            ),
            BatchError::Shape { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl core::error::Error for BatchError {}

/// `Σ values` with Neumaier's compensation, so a long batch sums as exactly as Keras's reduction
/// does, whatever order XLA reduces in.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sum {
    sum: f32,
    compensation: f32,
}

impl Sum {
    pub(crate) fn add(&mut self, x: f32) {
        let t = self.sum + x;
        if !t.is_finite() {
            // Infinities and NaN: no compensation to track (it would turn into NaN).
            self.sum = t;
            self.compensation = 0.0;
            return;
        }
        if abs(self.sum) >= abs(x) {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn value(&self) -> f32 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

/// `|x|` without std.
#[inline(always)]
pub(crate) fn abs(x: f32) -> f32 {
    libm::fabsf(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reports_each_slice() {
        let p = [0.0f32; 6];
        let t = [0.0f32; 6];
        assert_eq!(Batch::new(&t, &p, 3).check("X", 3), Ok(2));
        assert_eq!(
            Batch::new(&t, &p, 4).check("X", 4),
            Err(BatchError::Layout {
                what: "X",
                len: 6,
                last: 4
            })
        );
        assert_eq!(
            Batch::new(&t, &p, 0).check("X", 0),
            Err(BatchError::Layout {
                what: "X",
                len: 6,
                last: 0
            })
        );
        assert_eq!(
            Batch::new(&t[..5], &p, 3).check("X", 3),
            Err(BatchError::Length {
                what: "X",
                slice: "y_true",
                expected: 6,
                actual: 5
            })
        );
        let w = [1.0f32; 3];
        let err = Batch::new(&t, &p, 3)
            .with_sample_weight(&w)
            .check("X", 3)
            .unwrap_err();
        assert_eq!(
            err,
            BatchError::Length {
                what: "X",
                slice: "sample_weight",
                expected: 2,
                actual: 3
            }
        );
        let m = [true];
        assert!(Batch::new(&t, &p, 3).with_mask(&m).check("X", 3).is_err());
        assert_eq!(
            Batch::<f32>::new(&[], &[], 3).check("X", 3),
            Err(BatchError::Empty { what: "X" })
        );
    }

    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut s = Sum::default();
        s.add(1.0e8);
        for _ in 0..1000 {
            s.add(1.0);
        }
        s.add(-1.0e8);
        assert_eq!(s.value(), 1000.0);
    }
}
