//! The cross-entropies: binary, categorical and sparse categorical, from probabilities (Keras
//! renormalises and clips them) or from logits.

use super::{
    check_axis, clip, ln, reduce, softplus, softplus_slope, Ignored, Loss, PositionGrad, Reduction,
    EPSILON, ONE_MINUS_EPSILON,
};
use crate::train::{Batch, BatchError};

/// Keras `BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1)`
/// (`loss="binary_crossentropy"`).
///
/// With `y' = y·(1 − ls) + ½·ls`:
/// - probabilities: `p̃ = clip(p, ε, 1 − ε)` (`ε = 1e-7`, `1 − ε = 0.99999988` in `f32`),
///   `−mean₋₁(y'·ln p̃ + (1 − y')·ln(1 − p̃))`;
/// - logits: `−mean₋₁(y'·logσ(z) + (1 − y')·logσ(−z))`, with a stable `log_sigmoid`.
///
/// Gradient (JAX's, through the clip): `(−y'/p̃ + (1 − y')/(1 − p̃)) / (N·D)` inside the clip
/// range, 0 outside it, half of it at exactly a bound; `(σ(z) − y') / (N·D)` from logits.
///
/// ```
/// use static_keras_runtime::train::losses::{BinaryCrossentropy, Loss};
/// use static_keras_runtime::train::Batch;
/// let bce = BinaryCrossentropy { from_logits: true, ..Default::default() };
/// let v = bce.value(&Batch::new(&[0.0, 1.0, 0.0, 0.0], &[-18.6, 0.51, 2.94, -12.8], 4))?;
/// assert!((v - 0.8654).abs() < 1e-4); // Keras's docstring example
/// // A probability of exactly 1 for a 0 label is clipped to 0.99999988: −ln(1.2e-7).
/// let v = BinaryCrossentropy::default().value(&Batch::new(&[0.0], &[1.0], 1))?;
/// assert!((v - 15.942385).abs() < 1e-5);
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryCrossentropy {
    /// Whether `y_pred` holds logits (default: probabilities).
    pub from_logits: bool,
    /// Squeezes the labels towards ½: `y·(1 − ls) + ½·ls` (default 0).
    pub label_smoothing: f32,
    /// The axis the mean runs over; only −1 (the default) is supported.
    pub axis: i32,
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Default for BinaryCrossentropy {
    fn default() -> Self {
        Self {
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
            reduction: Reduction::default(),
        }
    }
}

impl Loss for BinaryCrossentropy {
    type Target = f32;
    const NAME: &'static str = "BinaryCrossentropy";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        check_axis(Self::NAME, self.axis)?;
        let ls = self.label_smoothing;
        // Keras smooths only `if label_smoothing:`.
        let smooth = move |y: f32| {
            if ls != 0.0 {
                y * (1.0 - ls) + 0.5 * ls
            } else {
                y
            }
        };
        let from_logits = self.from_logits;
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                let d = p.len() as f32;
                let element = |y: f32, x: f32, cd: f32| {
                    if from_logits {
                        bce_logits(smooth(y), x, cd)
                    } else {
                        bce_probabilities(smooth(y), x, cd)
                    }
                };
                let mut sum = 0.0f32;
                match g {
                    None => t
                        .iter()
                        .zip(p)
                        .for_each(|(&y, &x)| sum += element(y, x, 0.0).0),
                    Some((g, c)) => {
                        let cd = c / d;
                        for ((&y, &x), g) in t.iter().zip(p).zip(g) {
                            let (v, slope) = element(y, x, cd);
                            sum += v;
                            *g = slope;
                        }
                    }
                }
                sum / d
            },
        )
    }
}

/// One element of Keras's probability BCE and the gradient reaching `p` from cotangent `cd`.
fn bce_probabilities(y: f32, p: f32, cd: f32) -> (f32, f32) {
    let (pc, gate) = clip(p, EPSILON, ONE_MINUS_EPSILON);
    let log_p = ln(pc);
    let one_minus = 1.0 - pc;
    let log_one_minus = ln(one_minus);
    let not_y = 1.0 - y;
    let bce = y * log_p + not_y * log_one_minus;
    // Backward through `−(y·ln p̃ + (1 − y)·ln(1 − p̃))` and the clip.
    let cot_bce = -cd;
    let cot_pc = (cot_bce * y) / pc - (cot_bce * not_y) / one_minus;
    (-bce, cot_pc * gate)
}

/// One element of Keras's logits BCE, `−y·logσ(z) − (1 − y)·logσ(−z)`, and its gradient.
fn bce_logits(y: f32, z: f32, cd: f32) -> (f32, f32) {
    // jax.nn.log_sigmoid(x) = −softplus(−x)
    let sp_neg = softplus(-z);
    let sp_pos = softplus(z);
    let log_sig = -sp_neg;
    let log_sig_neg = -sp_pos;
    let not_y = 1.0 - y;
    let value = -y * log_sig - not_y * log_sig_neg;
    let cot_log_sig = cd * -y;
    let cot_log_sig_neg = -(cd * not_y);
    // log_sig = −softplus(u), u = −z; log_sig_neg = −softplus(z).
    let from_u = -((-cot_log_sig) * softplus_slope(-z, sp_neg));
    let from_z = (-cot_log_sig_neg) * softplus_slope(z, sp_pos);
    (value, from_u + from_z)
}

/// Keras `CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1)`
/// (`loss="categorical_crossentropy"`).
///
/// With `y' = y·(1 − ls) + ls/K` (`K = last`):
/// - probabilities: `q = p / Σp` (unnormalised outputs are accepted), then
///   `−Σ₋₁ y'·ln clip(q, ε, 1 − ε)`;
/// - logits: `−Σ₋₁ y'·log_softmax(z)`.
///
/// Gradient (JAX's, through the normalisation and the clip): from probabilities
/// `−(t_j − Σ_k t_k q_k) / (N·S)` with `S = Σp`, `t_k = y'_k·clip'(q_k)/q̃_k` (a class whose `q`
/// is clipped passes nothing, a class exactly at a bound passes half); from logits
/// `(softmax(z)·Σy' − y') / N`.
///
/// ```
/// use static_keras_runtime::train::losses::{CategoricalCrossentropy, Loss};
/// use static_keras_runtime::train::Batch;
/// let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// let v = CategoricalCrossentropy::default().value(&Batch::new(&y_true, &y_pred, 3))?;
/// assert!((v - 1.177).abs() < 1e-3); // Keras's docstring example
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoricalCrossentropy {
    /// Whether `y_pred` holds logits (default: probabilities).
    pub from_logits: bool,
    /// Smooths one-hot labels: `y·(1 − ls) + ls/K` (default 0).
    pub label_smoothing: f32,
    /// The class axis; only −1 (the default) is supported.
    pub axis: i32,
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Default for CategoricalCrossentropy {
    fn default() -> Self {
        Self {
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
            reduction: Reduction::default(),
        }
    }
}

impl Loss for CategoricalCrossentropy {
    type Target = f32;
    const NAME: &'static str = "CategoricalCrossentropy";

    fn compute(&self, batch: &Batch<'_>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        check_axis(Self::NAME, self.axis)?;
        let ls = self.label_smoothing;
        let classes = batch.last as f32;
        let from_logits = self.from_logits;
        reduce(
            Self::NAME,
            batch,
            batch.last,
            self.reduction,
            None,
            grad,
            |t, p, g| {
                let target = |k: usize| {
                    if ls != 0.0 {
                        t[k] * (1.0 - ls) + ls / classes
                    } else {
                        t[k]
                    }
                };
                if from_logits {
                    cce_logits(target, p, g)
                } else {
                    cce_probabilities(target, p, g)
                }
            },
        )
    }
}

/// `−Σ y'_k·ln clip(p_k/Σp, ε, 1 − ε)` and its gradient, JAX's backward pass written out.
fn cce_probabilities(target: impl Fn(usize) -> f32, p: &[f32], grad: PositionGrad<'_>) -> f32 {
    let sum: f32 = p.iter().sum();
    let mut acc = 0.0f32;
    for (k, &x) in p.iter().enumerate() {
        let (qc, _) = clip(x / sum, EPSILON, ONE_MINUS_EPSILON);
        acc += target(k) * ln(qc);
    }
    if let Some((g, c)) = grad {
        // ∂/∂q_k first (kept in g), then through q = p/S: g_j = cot_q_j/S + Σ_k −cot_q_k·p_k/S².
        let inv_sq = 1.0 / (sum * sum);
        let mut cot_sum = 0.0f32;
        for (k, (g, &x)) in g.iter_mut().zip(p).enumerate() {
            let (qc, gate) = clip(x / sum, EPSILON, ONE_MINUS_EPSILON);
            let cot_q = ((-c * target(k)) / qc) * gate;
            *g = cot_q;
            cot_sum += -cot_q * x * inv_sq;
        }
        g.iter_mut().for_each(|g| *g = *g / sum + cot_sum);
    }
    -acc
}

/// `−Σ y'_k·log_softmax(z)_k` and its gradient, with JAX's max-shifted log-sum-exp.
fn cce_logits(target: impl Fn(usize) -> f32, z: &[f32], grad: PositionGrad<'_>) -> f32 {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &x| {
        if m.is_nan() || x.is_nan() {
            f32::NAN
        } else if x > m {
            x
        } else {
            m
        }
    });
    let sum_exp: f32 = z.iter().map(|&x| libm::expf(x - max)).sum();
    let lse = ln(sum_exp);
    let mut acc = 0.0f32;
    for (k, &x) in z.iter().enumerate() {
        acc += target(k) * ((x - max) - lse);
    }
    if let Some((g, c)) = grad {
        // cot of log_softmax_k is −c·y'_k; the log-sum-exp gets −Σ of them.
        let mut cot_lse = 0.0f32;
        for k in 0..z.len() {
            cot_lse -= -c * target(k);
        }
        let cot_sum_exp = cot_lse / sum_exp;
        for (k, (g, &x)) in g.iter_mut().zip(z).enumerate() {
            *g = -c * target(k) + cot_sum_exp * libm::expf(x - max);
        }
    }
    -acc
}

/// Keras `SparseCategoricalCrossentropy(from_logits=False, ignore_class=None, axis=-1)`
/// (`loss="sparse_categorical_crossentropy"`): [`CategoricalCrossentropy`] against
/// `one_hot(y_true)`, without label smoothing.
///
/// **Targets are `u32` class ids, one per position** (Keras's `(B,)`, `(B, 1)`, `(B, T)` or
/// `(B, T, 1)` labels, flat). A class id `>= last` is an error at an unmasked position (Keras
/// would silently score it 0). With `ignore_class = Some(c)`, positions labelled `c` have loss 0
/// and gradient 0 and are masked, so the default reduction divides by the number of the others.
///
/// ```
/// use static_keras_runtime::train::losses::{Loss, SparseCategoricalCrossentropy};
/// use static_keras_runtime::train::Batch;
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// let scce = SparseCategoricalCrossentropy::default();
/// let v = scce.value(&Batch::new(&[1u32, 2], &y_pred, 3))?;
/// assert!((v - 1.177).abs() < 1e-3); // Keras's docstring example
/// let ignore = SparseCategoricalCrossentropy { ignore_class: Some(2), ..Default::default() };
/// let v = ignore.value(&Batch::new(&[1u32, 2], &y_pred, 3))?;
/// assert!((v + 0.95f32.ln()).abs() < 1e-6); // the mean over the one position left
/// # Ok::<(), static_keras_runtime::train::BatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseCategoricalCrossentropy {
    /// Whether `y_pred` holds logits (default: probabilities).
    pub from_logits: bool,
    /// A class id to leave out of the loss (Keras's `ignore_class`, default `None`).
    pub ignore_class: Option<u32>,
    /// The class axis; only −1 (the default) is supported.
    pub axis: i32,
    /// Keras's `reduction` (default `"sum_over_batch_size"`).
    pub reduction: Reduction,
}

impl Default for SparseCategoricalCrossentropy {
    fn default() -> Self {
        Self {
            from_logits: false,
            ignore_class: None,
            axis: -1,
            reduction: Reduction::default(),
        }
    }
}

impl Loss for SparseCategoricalCrossentropy {
    type Target = u32;
    const NAME: &'static str = "SparseCategoricalCrossentropy";

    fn targets_per_position(_last: usize) -> usize {
        1
    }

    fn compute(&self, batch: &Batch<'_, u32>, grad: Option<&mut [f32]>) -> Result<f32, BatchError> {
        check_axis(Self::NAME, self.axis)?;
        let positions = batch.check(Self::NAME, 1)?;
        let ignore = self.ignore_class;
        for (position, &class) in batch.y_true.iter().enumerate().take(positions) {
            let masked = batch.mask.is_some_and(|m| !m[position]);
            if Some(class) != ignore && !masked && class as usize >= batch.last {
                return Err(BatchError::ClassOutOfRange {
                    what: Self::NAME,
                    position,
                    class,
                    classes: batch.last,
                });
            }
        }
        let ignored = move |t: &[u32]| Some(t[0]) == ignore;
        let ignored: Ignored<'_, u32> = match ignore {
            Some(_) => Some(&ignored),
            None => None,
        };
        let from_logits = self.from_logits;
        reduce(
            Self::NAME,
            batch,
            1,
            self.reduction,
            ignored,
            grad,
            |t, p, g| {
                let class = t[0] as usize;
                let target = |k: usize| if k == class { 1.0 } else { 0.0 };
                if from_logits {
                    cce_logits(target, p, g)
                } else {
                    cce_probabilities(target, p, g)
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bce_clip_edges() {
        let bce = BinaryCrossentropy::default();
        let mut g = [0.0f32; 4];
        // p=1,y=0 and p=0,y=1 are clipped (gradient 0); p=1e-7 sits on the bound (half).
        let v = bce
            .compute(
                &Batch::new(&[0.0, 1.0, 1.0, 0.0], &[1.0, 0.0, 1e-7, 0.5], 1),
                Some(&mut g),
            )
            .unwrap();
        let want = (15.942385 + 16.118095 + 16.118095 + core::f32::consts::LN_2) / 4.0;
        assert!((v - want).abs() < 2e-6, "{v} {want}");
        assert_eq!(g[0], 0.0);
        assert_eq!(g[1], 0.0);
        assert!((g[2] + 0.5 / 1e-7 / 4.0).abs() < 1.0);
        assert!((g[3] - 0.5).abs() < 1e-6); // (1/(1 − 0.5)) / 4
    }

    #[test]
    fn bce_logits_gradient_is_sigmoid_minus_label() {
        let bce = BinaryCrossentropy {
            from_logits: true,
            ..Default::default()
        };
        let z = [-30.0f32, -2.0, 0.0, 3.0];
        let y = [1.0f32, 0.0, 1.0, 0.25];
        let mut g = [0.0f32; 4];
        bce.compute(&Batch::new(&y, &z, 4), Some(&mut g)).unwrap();
        for i in 0..4 {
            let s = 1.0 / (1.0 + (-z[i] as f64).exp());
            assert!((g[i] as f64 - (s - y[i] as f64) / 4.0).abs() < 1e-7);
        }
    }

    #[test]
    fn cce_saturated_probability_has_no_gradient() {
        // True-class probability below ε: the loss is clamped at −ln ε and nothing flows back.
        let cce = CategoricalCrossentropy::default();
        let mut g = [1.0f32; 3];
        let v = cce
            .compute(
                &Batch::new(&[1.0, 0.0, 0.0], &[1e-9, 0.5, 0.5], 3),
                Some(&mut g),
            )
            .unwrap();
        assert!((v - 16.118095).abs() < 1e-5);
        assert_eq!(g, [0.0; 3]);
    }

    #[test]
    fn cce_logits_gradient_is_softmax_minus_label() {
        let cce = CategoricalCrossentropy {
            from_logits: true,
            label_smoothing: 0.3,
            ..Default::default()
        };
        let z = [1.0f32, -2.0, 0.5];
        let y = [0.0f32, 0.0, 1.0];
        let mut g = [0.0f32; 3];
        let v = cce.compute(&Batch::new(&y, &z, 3), Some(&mut g)).unwrap();
        let e: [f64; 3] = z.map(|x| (x as f64).exp());
        let s: f64 = e.iter().sum();
        let ys = y.map(|y| y as f64 * 0.7 + 0.1);
        let want: f64 = -(0..3).map(|k| ys[k] * (e[k] / s).ln()).sum::<f64>();
        assert!((v as f64 - want).abs() < 1e-6);
        for k in 0..3 {
            assert!((g[k] as f64 - (e[k] / s - ys[k])).abs() < 1e-6);
        }
    }

    #[test]
    fn scce_checks_classes_and_ignores() {
        let scce = SparseCategoricalCrossentropy::default();
        let p = [0.2f32, 0.3, 0.5, 0.1, 0.1, 0.8];
        let err = scce.value(&Batch::new(&[0u32, 3], &p, 3)).unwrap_err();
        assert_eq!(
            err,
            BatchError::ClassOutOfRange {
                what: "SparseCategoricalCrossentropy",
                position: 1,
                class: 3,
                classes: 3
            }
        );
        // A masked position may hold any id.
        let mask = [true, false];
        let v = scce
            .value(&Batch::new(&[0u32, 7], &p, 3).with_mask(&mask))
            .unwrap();
        assert!((v + 0.2f32.ln()).abs() < 1e-6);
        let ignore = SparseCategoricalCrossentropy {
            ignore_class: Some(255),
            from_logits: true,
            ..Default::default()
        };
        let mut g = [1.0f32; 6];
        ignore
            .compute(&Batch::new(&[255u32, 2], &p, 3), Some(&mut g))
            .unwrap();
        assert_eq!(&g[..3], &[0.0; 3]);
        assert!(g[5] < 0.0);
    }

    #[test]
    fn only_the_last_axis() {
        let cce = CategoricalCrossentropy {
            axis: 1,
            ..Default::default()
        };
        assert_eq!(
            cce.value(&Batch::new(&[1.0, 0.0], &[0.5, 0.5], 2)),
            Err(BatchError::Axis {
                what: "CategoricalCrossentropy",
                axis: 1
            })
        );
    }
}
