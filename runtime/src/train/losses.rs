//! Keras's losses (stand-in until the full set lands): the trait the trainer calls and the mean
//! squared error.

/// A Keras loss over a whole batch laid out flat: the predictions one sample after another,
/// each in Keras's row-major order, `last` the size of the last axis.
pub trait Loss {
    /// One target value: `f32`, or a class id for the sparse losses.
    type Target: Copy;

    /// The loss reduced as Keras's default `sum_over_batch_size` does (the mean over the batch
    /// and every position), and, when `grad` is given, `∂loss/∂y_pred` written into it.
    fn compute(
        &self,
        y_true: &[Self::Target],
        y_pred: &[f32],
        last: usize,
        grad: Option<&mut [f32]>,
    ) -> f32;
}

/// Keras `MeanSquaredError()`: `mean((y − p)²)` over the last axis, then over the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanSquaredError {}

impl Loss for MeanSquaredError {
    type Target = f32;

    fn compute(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        last: usize,
        grad: Option<&mut [f32]>,
    ) -> f32 {
        let n = y_pred.len() as f32;
        let rows = (y_pred.len() / last) as f32;
        let mut total = 0.0f32;
        for (t, p) in y_true.chunks_exact(last).zip(y_pred.chunks_exact(last)) {
            let s: f32 = t.iter().zip(p).map(|(t, p)| (t - p) * (t - p)).sum();
            total += s / last as f32;
        }
        if let Some(g) = grad {
            for ((g, t), p) in g.iter_mut().zip(y_true).zip(y_pred) {
                *g = 2.0 * (p - t) / n;
            }
        }
        total / rows
    }
}
