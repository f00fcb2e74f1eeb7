//! The regression losses: mean squared and absolute error, Huber, log-cosh and Poisson. Each is a
//! mean over the last axis of an element-wise term.

use super::{ln, reduce, softplus, softplus_slope, Loss, PositionGrad, Reduction, EPSILON};
use crate::train::batch::abs;
use crate::train::{Batch, BatchError};

/// `mean₋₁(term(y_true, y_pred))` with its gradient: `term` returns the element's value and
/// `∂term/∂y_pred`, which is scaled by `c / D` (the mean's and the reduction's factors).
fn elementwise_mean(
    y_true: &[f32],
    y_pred: &[f32],
    grad: PositionGrad<'_>,
    term: impl Fn(f32, f32) -> (f32, f32),
) -> f32 {
    let d = y_pred.len() as f32;
    let mut sum = 0.0f32;
    match grad {
        None => y_true
            .iter()
            .zip(y_pred)
            .for_each(|(&t, &p)| sum += term(t, p).0),
        Some((g, c)) => {
            let cd = c / d;
            for ((&t, &p), g) in y_true.iter().zip(y_pred).zip(g) {
                let (v, slope) = term(t, p);
                sum += v;
                *g = cd * slope;
            }
        }
    }
    sum / d
}

/// Keras `MeanSquaredError()` (`loss="mse"`): `mean₋₁((y_true − y_pred)²)`.
///
/// Gradient: `2·(y_pred − y_true) / (N·D)` for `N` positions and `D = last`.
///
/// ```
/// use static_keras_runtime::train::losses::{Loss, MeanSquaredError};
/// use static_keras_runtime::train::Batch;
/// let mut grad = [0.0f32; 3];
/// let v = MeanSquaredError::default()
///     .compute(&Batch::new(&[1.0, 0.0, 1.0], &[0.9, 0.1, 0.8], 3), Some(&mut grad))?;
/// assert!((v - 0.02).abs() < 1e-7); // Keras's docstring example
/// assert!((grad[2] + 0.4 / 3.0).abs() < 1e-7);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeanSquaredError {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for MeanSquaredError {
    type Target = f32;
    const NAME: &'static str = "MeanSquaredError";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                elementwise_mean(t, p, g, |t, p| {
                    let diff = t - p;
                    (diff * diff, -(2.0 * diff))
                })
            },
        )
    }
}

/// Keras `MeanAbsoluteError()` (`loss="mae"`): `mean₋₁(|y_true − y_pred|)`.
///
/// Gradient: `sign(y_pred − y_true) / (N·D)`; where `y_pred == y_true` it is `−1/(N·D)`, as JAX
/// takes `d|x|/dx` at 0 as 1 (applied to `y_true − y_pred`).
///
/// ```
/// use static_keras_runtime::train::losses::{Loss, MeanAbsoluteError};
/// use static_keras_runtime::train::Batch;
/// let v = MeanAbsoluteError::default().value(&Batch::new(&[1.0, 0.3, 1.0], &[1.9, 0.3, 1.8], 3))?;
/// assert!((v - 0.5666667).abs() < 1e-6); // Keras's docstring example
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeanAbsoluteError {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for MeanAbsoluteError {
    type Target = f32;
    const NAME: &'static str = "MeanAbsoluteError";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                elementwise_mean(t, p, g, |t, p| {
                    let diff = t - p;
                    // d|x|/dx = select(x >= 0, 1, −1), then ∂(t − p)/∂p = −1.
                    (abs(diff), if diff >= 0.0 { -1.0 } else { 1.0 })
                })
            },
        )
    }
}

/// Keras `Huber(delta=1.0)`: with `e = y_pred − y_true`,
/// `mean₋₁(|e| ≤ δ ? ½e² : δ·|e| − ½δ²)`.
///
/// Gradient: `clip(e, −δ, δ) / (N·D)` (at `|e| = δ` the quadratic branch is taken; both give
/// the same slope there).
///
/// ```
/// use static_keras_runtime::train::losses::{Huber, Loss};
/// use static_keras_runtime::train::Batch;
/// let huber = Huber { delta: 0.5, ..Default::default() };
/// // e = 0.25 (quadratic: 0.03125) and e = −2 (linear: 0.5·2 − 0.125 = 0.875).
/// let v = huber.value(&Batch::new(&[0.0, 2.0], &[0.25, 0.0], 2))?;
/// assert!((v - 0.453125).abs() < 1e-7);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Huber {
    /// Keras's `delta`: where the loss turns from quadratic to linear (default 1.0).
    pub delta: f32,
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Default for Huber {
    fn default() -> Self {
        Self {
            delta: 1.0,
            reduction: Reduction::default(),
        }
    }
}

impl Loss for Huber {
    type Target = f32;
    const NAME: &'static str = "Huber";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        let delta = self.delta;
        let half_delta_sq = 0.5 * (delta * delta);
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                elementwise_mean(t, p, g, |t, p| {
                    let error = p - t;
                    let abs_error = abs(error);
                    if abs_error <= delta {
                        (0.5 * (error * error), 0.5 * (2.0 * error))
                    } else {
                        let slope = if error >= 0.0 { delta } else { -delta };
                        (delta * abs_error - half_delta_sq, slope)
                    }
                })
            },
        )
    }
}

/// Keras `LogCosh()`: with `x = y_pred − y_true`, `mean₋₁(x + softplus(−2x) − ln 2)`, Keras's
/// overflow-safe form of `ln cosh x`.
///
/// Gradient: `(1 − 2·softplus'(−2x)) / (N·D)` = `tanh(x) / (N·D)`.
///
/// ```
/// use static_keras_runtime::train::losses::{LogCosh, Loss};
/// use static_keras_runtime::train::Batch;
/// let v = LogCosh::default().value(&Batch::new(&[0.0, 0.0], &[1.0, 100.0], 2))?;
/// let expected = (1.0f64.cosh().ln() + 100.0 - 2f64.ln()) / 2.0;
/// assert!((v as f64 - expected).abs() < 1e-5);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LogCosh {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for LogCosh {
    type Target = f32;
    const NAME: &'static str = "LogCosh";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        // `ops.log(2.0)` evaluated in f32.
        let log2 = ln(2.0);
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                elementwise_mean(t, p, g, |t, p| {
                    let x = p - t;
                    let z = x * -2.0;
                    let sp = softplus(z);
                    (x + sp - log2, 1.0 + softplus_slope(z, sp) * -2.0)
                })
            },
        )
    }
}

/// Keras `Poisson()`: `mean₋₁(y_pred − y_true·ln(y_pred + ε))`, `ε = 1e-7`.
///
/// Gradient: `(1 − y_true/(y_pred + ε)) / (N·D)`.
///
/// ```
/// use static_keras_runtime::train::losses::{Loss, Poisson};
/// use static_keras_runtime::train::Batch;
/// let v = Poisson::default().value(&Batch::new(&[2.0], &[1.0], 1))?;
/// assert!((v - 1.0).abs() < 1e-6); // 1 − 2·ln(1 + 1e-7)
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Poisson {
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Loss for Poisson {
    type Target = f32;
    const NAME: &'static str = "Poisson";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                elementwise_mean(t, p, g, |t, p| {
                    let u = p + EPSILON;
                    (p - t * ln(u), 1.0 + (-t) / u)
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<L: Loss<Target = f32>>(loss: L, t: &[f32], p: &[f32], last: usize) -> (f32, [f32; 4]) {
        let mut g = [0.0f32; 4];
        let v = loss
            .compute(&Batch::new(t, p, last), Some(&mut g[..p.len()]))
            .unwrap();
        (v, g)
    }

    #[test]
    fn mse_and_mae_by_hand() {
        // Two positions of D = 2: errors (1, −2) and (0, 3).
        let t = [0.0, 2.0, 1.0, 0.0];
        let p = [1.0, 0.0, 1.0, 3.0];
        let (v, g) = run(MeanSquaredError::default(), &t, &p, 2);
        assert_eq!(v, (2.5 + 4.5) / 2.0);
        assert_eq!(g, [0.5, -1.0, 0.0, 1.5]); // 2e/(N·D), N·D = 4
        let (v, g) = run(MeanAbsoluteError::default(), &t, &p, 2);
        assert_eq!(v, (1.5 + 1.5) / 2.0);
        // At p == y JAX's |x|' at 0 is +1 on y − p, so −1/(N·D).
        assert_eq!(g, [0.25, -0.25, -0.25, 0.25]);
    }

    #[test]
    fn huber_branches() {
        let t = [0.0; 4];
        let p = [0.5, 1.0, 2.0, -3.0];
        let (v, g) = run(Huber::default(), &t, &p, 4);
        // 0.125, 0.5 (|e| = δ is quadratic), 1.5, 2.5
        assert_eq!(v, 4.625 / 4.0);
        assert_eq!(g, [0.125, 0.25, 0.25, -0.25]);
    }

    #[test]
    fn log_cosh_gradient_is_tanh() {
        let t = [0.0; 4];
        let p = [0.3, -1.2, 5.0, -40.0];
        let (v, g) = run(LogCosh::default(), &t, &p, 4);
        let want: f64 = p.iter().map(|&x| (x as f64).cosh().ln()).sum::<f64>() / 4.0;
        assert!((v as f64 - want).abs() < 2e-6, "{v} {want}");
        for (g, &x) in g.iter().zip(&p) {
            assert!((*g as f64 - (x as f64).tanh() / 4.0).abs() < 1e-6);
        }
    }

    #[test]
    fn poisson_by_hand() {
        let (v, g) = run(Poisson::default(), &[2.0, 0.0], &[1.0, 3.0], 2);
        assert!((v - 2.0).abs() < 1e-6); // (1 − 2 ln 1 + 3) / 2
        assert!((g[0] - (1.0 - 2.0) / 2.0).abs() < 1e-6);
        assert_eq!(g[1], 0.5);
    }
}
