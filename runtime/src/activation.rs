//! Keras 3 activation functions, bit-for-bit the same on every target.
//!
//! Every formula follows `keras.activations` (Keras 3): `hard_sigmoid` is `relu6(x + 3) / 6`,
//! `gelu` is the exact erf form, `leaky_relu` has slope 0.2. Transcendental functions come from
//! `libm` everywhere (never `std`'s), so the host and a microcontroller agree to the last bit,
//! with one exception: where the SIMD kernels run ([`crate::kernels::simd`]: x86_64 with AVX2
//! and FMA, `std`), `sigmoid` and `tanh` use vectorised polynomial versions, within 2.5e-7
//! (relative) of libm's; `kernels::with(Kernels::Portable, …)` restores libm's bits.

use libm::{erfcf, expf, expm1f, log1pf, logf, sqrtf, tanhf};

/// A Keras activation, by its Keras name.
///
/// `softmax`, `log_softmax` and `sparsemax` act along the last axis; every other one acts on each
/// value alone. `glu` halves the last axis and is therefore a layer of its own ([`crate::Glu`]).
///
/// ```
/// use static_keras_runtime::Activation;
/// let mut v = [-1.0f32, 0.0, 2.0];
/// Activation::from_keras_name("relu").unwrap().apply(&mut v, 3);
/// assert_eq!(v, [0.0, 0.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)] // each variant is the Keras activation of the same name
#[repr(u8)] // `Linear` is 0, so zero bytes are a valid activation (`Zeroable`)
pub enum Activation {
    #[default]
    Linear,
    Relu,
    Relu6,
    LeakyRelu,
    Elu,
    Selu,
    Celu,
    Sigmoid,
    Tanh,
    Softmax,
    LogSoftmax,
    Softplus,
    Softsign,
    Silu,
    Gelu,
    HardSigmoid,
    HardSilu,
    HardTanh,
    Exponential,
    Mish,
    LogSigmoid,
    TanhShrink,
    SoftShrink,
    HardShrink,
    Squareplus,
    SparsePlus,
    SparseSigmoid,
    Sparsemax,
}

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;

/// Every Keras name the runtime knows, with its variant (`swish` and `hard_swish` are aliases).
pub const NAMES: &[(&str, Activation)] = &[
    ("linear", Activation::Linear),
    ("relu", Activation::Relu),
    ("relu6", Activation::Relu6),
    ("leaky_relu", Activation::LeakyRelu),
    ("elu", Activation::Elu),
    ("selu", Activation::Selu),
    ("celu", Activation::Celu),
    ("sigmoid", Activation::Sigmoid),
    ("tanh", Activation::Tanh),
    ("softmax", Activation::Softmax),
    ("log_softmax", Activation::LogSoftmax),
    ("softplus", Activation::Softplus),
    ("softsign", Activation::Softsign),
    ("silu", Activation::Silu),
    ("swish", Activation::Silu),
    ("gelu", Activation::Gelu),
    ("hard_sigmoid", Activation::HardSigmoid),
    ("hard_silu", Activation::HardSilu),
    ("hard_swish", Activation::HardSilu),
    ("hard_tanh", Activation::HardTanh),
    ("exponential", Activation::Exponential),
    ("mish", Activation::Mish),
    ("log_sigmoid", Activation::LogSigmoid),
    ("tanh_shrink", Activation::TanhShrink),
    ("soft_shrink", Activation::SoftShrink),
    ("hard_shrink", Activation::HardShrink),
    ("squareplus", Activation::Squareplus),
    ("sparse_plus", Activation::SparsePlus),
    ("sparse_sigmoid", Activation::SparseSigmoid),
    ("sparsemax", Activation::Sparsemax),
];

impl Activation {
    /// Looks up a Keras activation name (`None` for unknown names and for `glu`, which changes
    /// the shape).
    pub fn from_keras_name(name: &str) -> Option<Activation> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }

    /// The canonical Keras name of this activation.
    pub fn keras_name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("linear")
    }

    /// Applies the activation in place. `axis` is the length of the last axis, along which
    /// `softmax`, `log_softmax` and `sparsemax` normalise; `values.len()` is a multiple of it.
    pub fn apply(self, values: &mut [f32], axis: usize) {
        match self {
            Activation::Linear => {}
            Activation::Softmax => {
                if !crate::kernels::softmax_simd(values, axis) {
                    values.chunks_exact_mut(axis).for_each(softmax)
                }
            }
            Activation::LogSoftmax => values.chunks_exact_mut(axis).for_each(log_softmax),
            Activation::Sparsemax => values.chunks_exact_mut(axis).for_each(sparsemax),
            // One loop per variant, so the match is outside the loop and each body vectorises.
            Activation::Relu => map(values, relu),
            Activation::Relu6 => map(values, relu6),
            Activation::LeakyRelu => map(values, |x| if x >= 0.0 { x } else { 0.2 * x }),
            Activation::Elu => map(values, |x| elu(x, 1.0)),
            Activation::Selu => map(values, |x| SELU_SCALE * elu(x, SELU_ALPHA)),
            Activation::Celu => map(values, |x| if x > 0.0 { x } else { expm1f(x) }),
            Activation::Sigmoid => {
                if !crate::kernels::sigmoid_simd(values) {
                    map(values, sigmoid)
                }
            }
            Activation::Tanh => {
                if !crate::kernels::tanh_simd(values) {
                    map(values, tanhf)
                }
            }
            Activation::Softplus => map(values, softplus),
            Activation::Softsign => map(values, |x| x / (1.0 + x.abs())),
            Activation::Silu => map(values, |x| x * sigmoid(x)),
            Activation::Gelu => map(values, gelu),
            Activation::HardSigmoid => map(values, hard_sigmoid),
            Activation::HardSilu => map(values, |x| x * hard_sigmoid(x)),
            Activation::HardTanh => map(values, |x| x.clamp(-1.0, 1.0)),
            Activation::Exponential => map(values, expf),
            Activation::Mish => map(values, |x| x * tanhf(softplus(x))),
            Activation::LogSigmoid => map(values, |x| -softplus(-x)),
            Activation::TanhShrink => map(values, |x| x - tanhf(x)),
            Activation::SoftShrink => map(values, |x| {
                if x > 0.5 {
                    x - 0.5
                } else if x < -0.5 {
                    x + 0.5
                } else {
                    0.0
                }
            }),
            Activation::HardShrink => map(values, |x| if x.abs() > 0.5 { x } else { 0.0 }),
            Activation::Squareplus => map(values, |x| (x + sqrtf(x * x + 4.0)) / 2.0),
            Activation::SparsePlus => map(values, |x| {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    x
                } else {
                    (x + 1.0) * (x + 1.0) / 4.0
                }
            }),
            Activation::SparseSigmoid => map(values, |x| {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    (x + 1.0) / 2.0
                }
            }),
        }
    }

    /// Applies an element-wise activation to one value. Returns `None` for the activations that
    /// act along an axis (`softmax`, `log_softmax`, `sparsemax`).
    pub fn scalar(self, x: f32) -> Option<f32> {
        match self {
            Activation::Softmax | Activation::LogSoftmax | Activation::Sparsemax => None,
            _ => {
                let mut v = [x];
                self.apply(&mut v, 1);
                Some(v[0])
            }
        }
    }
}

impl Activation {
    /// The backward pass: `dx = ∂loss/∂x` from `dy = ∂loss/∂y`, given the input `x` and the
    /// output `y = activation(x)` (every slice of one length, a multiple of `axis`). Each
    /// derivative is JAX's derivative of Keras's expression, conventions at kinks included:
    /// `relu` has slope 0 at 0, `leaky_relu` slope 1, `relu6` and `hard_sigmoid` slope 0 at
    /// both corners, a `clip` or `maximum` at exactly its bound passes half the gradient.
    /// `dx` is overwritten.
    pub fn backward(self, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32], axis: usize) {
        let each = |dx: &mut [f32], f: &dyn Fn(f32, f32) -> f32| {
            for ((d, (&x, &y)), &g) in dx.iter_mut().zip(x.iter().zip(y)).zip(dy) {
                *d = g * f(x, y);
            }
        };
        match self {
            Activation::Linear => dx.copy_from_slice(dy),
            Activation::Softmax => {
                for ((d, y), g) in dx
                    .chunks_exact_mut(axis)
                    .zip(y.chunks_exact(axis))
                    .zip(dy.chunks_exact(axis))
                {
                    let dot: f32 = y.iter().zip(g).map(|(y, g)| y * g).sum();
                    for ((d, &y), &g) in d.iter_mut().zip(y).zip(g) {
                        *d = y * (g - dot);
                    }
                }
            }
            Activation::LogSoftmax => {
                for ((d, y), g) in dx
                    .chunks_exact_mut(axis)
                    .zip(y.chunks_exact(axis))
                    .zip(dy.chunks_exact(axis))
                {
                    let sum: f32 = g.iter().sum();
                    for ((d, &y), &g) in d.iter_mut().zip(y).zip(g) {
                        *d = g - expf(y) * sum;
                    }
                }
            }
            Activation::Sparsemax => {
                for ((d, x), g) in dx
                    .chunks_exact_mut(axis)
                    .zip(x.chunks_exact(axis))
                    .zip(dy.chunks_exact(axis))
                {
                    sparsemax_backward(x, g, d);
                }
            }
            Activation::Relu => each(dx, &|x, _| if x > 0.0 { 1.0 } else { 0.0 }),
            Activation::Relu6 => each(dx, &|x, _| if x > 0.0 && x < 6.0 { 1.0 } else { 0.0 }),
            Activation::LeakyRelu => each(dx, &|x, _| if x >= 0.0 { 1.0 } else { 0.2 }),
            Activation::Elu => each(dx, &|x, _| if x > 0.0 { 1.0 } else { expf(x) }),
            Activation::Selu => each(dx, &|x, _| {
                SELU_SCALE * if x > 0.0 { 1.0 } else { SELU_ALPHA * expf(x) }
            }),
            Activation::Celu => each(dx, &|x, _| if x > 0.0 { 1.0 } else { expf(x) }),
            Activation::Sigmoid => each(dx, &|_, y| y * (1.0 - y)),
            Activation::Tanh => each(dx, &|_, y| 1.0 - y * y),
            Activation::Softplus => each(dx, &|x, _| sigmoid(x)),
            Activation::Softsign => each(dx, &|x, _| {
                let d = 1.0 + x.abs();
                1.0 / (d * d)
            }),
            Activation::Silu => each(dx, &|x, _| {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }),
            Activation::Gelu => each(dx, &|x, _| {
                0.5 * erfcf(-x * core::f32::consts::FRAC_1_SQRT_2)
                    + x * expf(-0.5 * x * x) * 0.398_942_3
            }),
            Activation::HardSigmoid => each(dx, &|x, _| hard_sigmoid_slope(x)),
            Activation::HardSilu => each(dx, &|x, _| hard_sigmoid(x) + x * hard_sigmoid_slope(x)),
            Activation::HardTanh => each(dx, &|x, _| if x.abs() <= 1.0 { 1.0 } else { 0.0 }),
            Activation::Exponential => each(dx, &|_, y| y),
            Activation::Mish => each(dx, &|x, _| {
                let t = tanhf(softplus(x));
                t + x * (1.0 - t * t) * sigmoid(x)
            }),
            Activation::LogSigmoid => each(dx, &|x, _| sigmoid(-x)),
            Activation::TanhShrink => each(dx, &|x, _| {
                let t = tanhf(x);
                t * t
            }),
            Activation::SoftShrink | Activation::HardShrink => {
                each(dx, &|x, _| if x.abs() > 0.5 { 1.0 } else { 0.0 })
            }
            Activation::Squareplus => each(dx, &|x, _| (1.0 + x / sqrtf(x * x + 4.0)) / 2.0),
            Activation::SparsePlus => each(dx, &|x, _| {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    (x + 1.0) / 2.0
                }
            }),
            // `0.5 · clip(x + 1, 0, 2)`: a clip at exactly its bound passes half the gradient.
            Activation::SparseSigmoid => each(dx, &|x, _| {
                let v = x + 1.0;
                if v > 0.0 && v < 2.0 {
                    0.5
                } else if v == 0.0 || v == 2.0 {
                    0.25
                } else {
                    0.0
                }
            }),
        }
    }
}

/// `d hard_sigmoid / dx`: `relu6(x + 3) / 6` has slope 1/6 strictly inside its ramp.
#[inline(always)]
fn hard_sigmoid_slope(x: f32) -> f32 {
    let v = x + 3.0;
    if v > 0.0 && v < 6.0 {
        1.0 / 6.0
    } else {
        0.0
    }
}

/// The backward pass of Keras 3.15's sparsemax (see [`sparsemax`]): with `τ` built from the
/// cumulative sums over the support, `∂τ/∂z_(r) = (k − r + 1)/k` for the element of descending
/// rank `r ≤ k`, and the output `max(z − τ, 0)` passes the gradient where `z > τ` (half of it
/// where `z == τ`, as JAX's `maximum` does at a tie).
fn sparsemax_backward(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    let n = x.len();
    let k = x.iter().filter(|&&z| in_support(x, z)).count().max(1);
    // τ as the forward pass computes it.
    let mut weighted = 0.0f32;
    let rank = |i: usize| {
        let z = x[i];
        x.iter()
            .enumerate()
            .filter(|&(j, &v)| v > z || (v == z && j < i))
            .count()
    };
    for i in 0..n {
        if in_support(x, x[i]) {
            weighted += (k - rank(i)) as f32 * x[i];
        }
    }
    let tau = (weighted - 1.0) / k as f32;
    let pass = |z: f32| {
        if z > tau {
            1.0
        } else if z == tau {
            0.5
        } else {
            0.0
        }
    };
    let through: f32 = x.iter().zip(dy).map(|(&z, &g)| g * pass(z)).sum();
    for i in 0..n {
        let slope = if in_support(x, x[i]) {
            (k - rank(i)) as f32 / k as f32
        } else {
            0.0
        };
        dx[i] = dy[i] * pass(x[i]) - through * slope;
    }
}

#[inline(always)]
fn map(values: &mut [f32], f: impl Fn(f32) -> f32) {
    for v in values {
        *v = f(*v);
    }
}

#[inline(always)]
fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[inline(always)]
fn relu6(x: f32) -> f32 {
    relu(x).min(6.0)
}

#[inline(always)]
fn elu(x: f32, alpha: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        alpha * expm1f(x)
    }
}

/// `1 / (1 + exp(-x))`, as JAX's `lax.logistic`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + expf(-x))
}

/// `relu6(x + 3) / 6`, the Keras 3 hard sigmoid.
#[inline(always)]
pub fn hard_sigmoid(x: f32) -> f32 {
    relu6(x + 3.0) / 6.0
}

/// `log(1 + exp(x))` computed as `logaddexp(x, 0)`, exact for large |x|.
#[inline(always)]
fn softplus(x: f32) -> f32 {
    relu(x) + log1pf(expf(-x.abs()))
}

/// Exact GELU, `0.5·x·erfc(−x/√2)` as JAX computes it.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * erfcf(-x * core::f32::consts::FRAC_1_SQRT_2)
}

/// The largest value (NaN only if all are NaN).
pub(crate) fn max_of(v: &[f32]) -> f32 {
    v.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// Softmax of one row: `e^(x − max)`, divided by their sum.
fn softmax(v: &mut [f32]) {
    let m = max_of(v);
    for x in v.iter_mut() {
        *x = expf(*x - m);
    }
    divide_by_sum(v);
}

/// Each value divided by the sum of all, summed in order: softmax's last step, shared with the
/// SIMD softmax ([`crate::kernels::softmax_simd`]), which computes the exponentials before it.
#[inline(always)]
pub(crate) fn divide_by_sum(v: &mut [f32]) {
    let mut sum = 0.0;
    for x in v.iter() {
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

fn log_softmax(v: &mut [f32]) {
    let m = max_of(v);
    let sum: f32 = v.iter().map(|x| expf(x - m)).sum();
    let log_sum = logf(sum);
    for x in v.iter_mut() {
        *x = *x - m - log_sum;
    }
}

/// Sparsemax as Keras 3.15 computes it, without sorting or scratch memory.
///
/// The support is Martins & Astudillo's: an element `z` is in it iff `1 + g·z > S`, where `g`
/// counts and `S` sums the elements strictly greater than `z` (ties enter or leave together).
/// The threshold is **Keras's**, not the paper's: Keras 3.15 (`keras/src/backend/*/nn.py`)
/// divides the sum of the *cumulative sums* over the support, `τ = (Σ_{r≤k} cumsum_r − 1) / k`,
/// where the paper has `(cumsum_k − 1) / k` (keras-team/keras issue #23425). The two agree when
/// one element survives; elsewhere we follow the Keras release users train with, because its
/// numbers are the ones their models were trained and validated against.
fn sparsemax(v: &mut [f32]) {
    let n = v.len();
    let mut k = 0usize;
    for &z in v.iter() {
        if in_support(v, z) {
            k += 1;
        }
    }
    // Σ_{r≤k} cumsum_r = Σ over the support of (k − r + 1)·z_(r), r the descending rank (ties
    // ranked by position, which does not change the sum).
    let mut weighted = 0.0f32;
    for i in 0..n {
        let z = v[i];
        if !in_support(v, z) {
            continue;
        }
        let before = v
            .iter()
            .enumerate()
            .filter(|&(j, &y)| y > z || (y == z && j < i))
            .count();
        weighted += (k - before) as f32 * z;
    }
    let tau = (weighted - 1.0) / k.max(1) as f32;
    for x in v.iter_mut() {
        *x = relu(*x - tau);
    }
}

fn in_support(v: &[f32], z: f32) -> bool {
    let (mut greater, mut sum) = (0usize, 0.0f32);
    for &y in v {
        if y > z {
            greater += 1;
            sum += y;
        }
    }
    1.0 + greater as f32 * z > sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for (name, act) in NAMES {
            assert_eq!(Activation::from_keras_name(name), Some(*act));
            let canonical = act.keras_name();
            assert_eq!(Activation::from_keras_name(canonical), Some(*act));
        }
        assert_eq!(Activation::from_keras_name("glu"), None);
    }

    #[test]
    fn sparsemax_follows_keras_3_15() {
        // One survivor: Keras and the paper agree, tau = z_max - 1.
        let mut v = [0.1f32, 2.0, 0.8];
        sparsemax(&mut v);
        assert_eq!(v, [0.0, 1.0, 0.0]);
        // z = [1.0, 0.8, 0.1]: support {1.0, 0.8}; Keras's tau = ((1.0) + (1.8) - 1) / 2 = 0.9.
        let mut v = [0.1f32, 1.0, 0.8];
        sparsemax(&mut v);
        for (got, want) in v.iter().zip([0.0, 0.1, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{v:?}");
        }
        // Four ties: support of four, tau = (1 + 2 + 3 + 4 - 1) / 4 = 2.25 -> all zero in Keras.
        let mut ties = [1.0f32; 4];
        sparsemax(&mut ties);
        assert_eq!(ties, [0.0; 4]);
    }

    #[test]
    fn softplus_does_not_overflow() {
        assert_eq!(softplus(100.0), 100.0);
        assert!(softplus(-100.0) < 1e-40);
        assert!((softplus(0.0) - core::f32::consts::LN_2).abs() < 1e-7);
    }
}
