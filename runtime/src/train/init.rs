//! Keras's default initial weights: every layer with variables implements [`Init`], and the
//! generated `Net::init(seed)` runs it over the layers in Keras's `model.layers` order from one
//! seeded [`Rng`].
//!
//! Keras's JAX backend draws from threefry keys, whose bits cannot be reproduced here; what
//! matches is the **distribution** of each variable (checked statistically against Keras by the
//! `init_stats` test with 4σ bounds):
//!
//! | variable | Keras default | here |
//! |---|---|---|
//! | `kernel`, `depthwise_kernel`, `pointwise_kernel` | `glorot_uniform`: `U(−L, L)`, `L = √(6/(fan_in+fan_out))` | same (fans below) |
//! | `recurrent_kernel` | `orthogonal(gain=1)`: the whole `(units, k·units)` matrix has orthonormal rows | Gaussian rows, Gram–Schmidt in place (Haar-distributed, like the sign-fixed QR) |
//! | `embeddings` | `uniform`: `U(−0.05, 0.05)` | same |
//! | `bias`, `beta`, `moving_mean`, `alpha` (PReLU), `mean`, `count` | zeros | same |
//! | `gamma`, `moving_variance`, `variance` | ones | same |
//! | LSTM `bias` (`unit_forget_bias=True`) | `[0]·u ‖ [1]·u ‖ [0]·2u` | same (all from the bias initializer with `unit_forget_bias=False`, [`NO_UNIT_FORGET_BIAS`]) |
//!
//! Fans (Keras's `compute_fans`): a 1-D shape has `fan_in = fan_out = shape[0]`; a 2-D shape
//! `(in, out)`; a kernel `(k₁,…,k_n, a, b)` has `fan_in = a·Πkᵢ`, `fan_out = b·Πkᵢ` — taken on
//! the variable's Keras shape, so transposed convolutions (`(k…, out, in)`) and depthwise kernels
//! (`(kh, kw, in, mult)`) get Keras's fans too.

use super::Rng;
use crate::Weights;

/// A layer's initial weights as Keras draws them by default (see the [module](self) table).
///
/// The provided method covers every variable by its Keras name through [`Weights`]; the
/// recurrent layers override it to make the recurrent kernel orthogonal (and LSTM's forget-gate
/// bias one).
pub trait Init: Weights {
    /// Sets every variable of the layer to a fresh draw of Keras's default initializer.
    fn init(&mut self, rng: &mut Rng) {
        self.init_with(rng, &[]);
    }

    /// [`Init::init`] with declared initializers (`kernel_initializer = "he_normal"` gives
    /// `("kernel", named("he_normal"))`) replacing the defaults of the variables they name.
    fn init_with(&mut self, rng: &mut Rng, overrides: &[(&str, Initializer)]) {
        init_variables(self, rng, overrides);
    }
}

/// The entry of an `overrides` list (its name; the initializer is unused) saying that an LSTM
/// was declared with `unit_forget_bias = False`: its forget gate's bias then comes from its bias
/// initializer like the rest, rather than starting at one.
pub const NO_UNIT_FORGET_BIAS: &str = "unit_forget_bias=False";

/// The prefix of the `overrides` entries meant for a `Bidirectional`'s backward layer (which
/// gets them without it); the forward layer gets the unprefixed ones.
pub const BACKWARD_LAYER: &str = "backward_layer/";

/// Whether `overrides` holds [`NO_UNIT_FORGET_BIAS`].
pub fn no_unit_forget_bias(overrides: &[(&str, Initializer)]) -> bool {
    overrides.iter().any(|(n, _)| *n == NO_UNIT_FORGET_BIAS)
}

/// Keras's `compute_fans(shape)`: `(fan_in, fan_out)`.
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape.len() {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        2 => (shape[0], shape[1]),
        n => {
            let rf: usize = shape[..n - 2].iter().product();
            (shape[n - 2] * rf, shape[n - 1] * rf)
        }
    }
}

/// `glorot_uniform`'s limit `L = √(6/(fan_in + fan_out))` for a variable of `shape`.
pub fn glorot_limit(shape: &[usize]) -> f32 {
    let (fan_in, fan_out) = fans(shape);
    libm::sqrtf(6.0 / (fan_in + fan_out).max(1) as f32)
}

/// A uniform value in `[−limit, limit)`.
pub fn uniform(rng: &mut Rng, limit: f32) -> f32 {
    (2.0 * rng.uniform() - 1.0) * limit
}

/// An initializer of one variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Initializer {
    /// `glorot_uniform` on the variable's shape.
    GlorotUniform,
    /// Keras's `VarianceScaling(scale, mode, distribution)` with `distribution` `"uniform"`
    /// (`U(−L, L)`, `L = √(3·scale/n)`) or `"truncated_normal"` (`N(0, σ)` cut at ±2σ,
    /// `σ = √(scale/n) / 0.87962566103423978`), `n` the fan of `mode`.
    VarianceScaling {
        /// Keras's `scale`.
        scale: f32,
        /// Keras's `mode`.
        mode: FanMode,
        /// `true`: uniform; `false`: truncated normal.
        uniform: bool,
    },
    /// `orthogonal` over the whole variable flattened to `(Π shape[:-1], shape[-1])` — drawn
    /// by the layer in its own storage (recurrent kernels).
    Orthogonal,
    /// `U(−limit, limit)` (Embedding's `uniform`, `random_uniform`: 0.05).
    Uniform(f32),
    /// `N(0, stddev)` (`random_normal`: 0.05).
    Normal(f32),
    /// `N(0, stddev)` cut at ±2·stddev (`truncated_normal`: 0.05).
    TruncatedNormal(f32),
    /// A constant (zeros, ones).
    Constant(f32),
}

/// The fan a [`Initializer::VarianceScaling`] divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// `fan_in`.
    In,
    /// `fan_out`.
    Out,
    /// `(fan_in + fan_out) / 2`.
    Avg,
}

/// The initializer Keras names `name` (the strings `kernel_initializer = "…"` takes), for the
/// ones supported here.
pub fn named(name: &str) -> Option<Initializer> {
    use Initializer::*;
    let vs = |scale, mode, uniform| VarianceScaling {
        scale,
        mode,
        uniform,
    };
    Some(match name {
        "glorot_uniform" => GlorotUniform,
        "glorot_normal" => vs(1.0, FanMode::Avg, false),
        "he_normal" => vs(2.0, FanMode::In, false),
        "he_uniform" => vs(2.0, FanMode::In, true),
        "lecun_normal" => vs(1.0, FanMode::In, false),
        "lecun_uniform" => vs(1.0, FanMode::In, true),
        "orthogonal" => Orthogonal,
        "random_normal" => Normal(0.05),
        "random_uniform" | "uniform" => Uniform(0.05),
        "truncated_normal" => TruncatedNormal(0.05),
        "zeros" => Constant(0.0),
        "ones" => Constant(1.0),
        _ => return None,
    })
}

/// The default initializer Keras uses for a variable named `name`, or `None` for a name this
/// table does not know.
pub fn default_for(name: &str) -> Option<Initializer> {
    Some(match name {
        "kernel" | "depthwise_kernel" | "pointwise_kernel" => Initializer::GlorotUniform,
        "recurrent_kernel" => Initializer::Orthogonal,
        "embeddings" => Initializer::Uniform(0.05),
        "bias" | "beta" | "moving_mean" | "alpha" | "mean" | "count" => Initializer::Constant(0.0),
        "gamma" | "moving_variance" | "variance" => Initializer::Constant(1.0),
        _ => return None,
    })
}

/// The initializer of variable `name`: the declared one from `overrides`, else Keras's default.
pub fn initializer_for(name: &str, overrides: &[(&str, Initializer)]) -> Initializer {
    overrides
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, init)| init)
        .or_else(|| default_for(name))
        .unwrap_or_else(|| panic!("no default initializer for the variable `{name}`"))
}

/// A `N(0, 1)` value cut at ±2 (redrawn outside).
fn truncated(rng: &mut Rng) -> f32 {
    loop {
        let z = rng.normal();
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

/// Fills every variable of `layer` from its initializer (`overrides` by variable name, else
/// Keras's default), streaming the values through [`Weights::load_variable`] in Keras's order.
/// Orthogonal variables are filled with `N(0, 1)` values here; the layer orthonormalises them in
/// its own storage afterwards ([`orthonormalize_rows`]).
///
/// # Panics
/// On a variable name without a known default — a runtime layer type added without extending
/// [`default_for`], caught by the `init` tests of every layer family.
pub fn init_variables<L: Weights + ?Sized>(
    layer: &mut L,
    rng: &mut Rng,
    overrides: &[(&str, Initializer)],
) {
    for (index, variable) in layer.variables().iter().enumerate() {
        let n = variable.len();
        let mut fill = |f: &mut dyn FnMut(&mut Rng) -> f32| {
            layer.load_variable(index, &mut (0..n).map(|_| f(rng)));
        };
        match initializer_for(variable.name, overrides) {
            Initializer::GlorotUniform => {
                let limit = glorot_limit(variable.shape);
                fill(&mut |r| uniform(r, limit));
            }
            Initializer::VarianceScaling {
                scale,
                mode,
                uniform: is_uniform,
            } => {
                let (fan_in, fan_out) = fans(variable.shape);
                let fan = match mode {
                    FanMode::In => fan_in as f32,
                    FanMode::Out => fan_out as f32,
                    FanMode::Avg => (fan_in + fan_out) as f32 / 2.0,
                };
                let scale = scale / fan.max(1.0);
                if is_uniform {
                    let limit = libm::sqrtf(3.0 * scale);
                    fill(&mut |r| uniform(r, limit));
                } else {
                    let std = libm::sqrtf(scale) / 0.879_625_7;
                    fill(&mut |r| std * truncated(r));
                }
            }
            Initializer::Uniform(limit) => fill(&mut |r| uniform(r, limit)),
            Initializer::Normal(std) => fill(&mut |r| std * r.normal()),
            Initializer::TruncatedNormal(std) => fill(&mut |r| std * truncated(r)),
            Initializer::Orthogonal => fill(&mut |r| r.normal()),
            Initializer::Constant(c) => fill(&mut |_| c),
        }
    }
}

/// Makes a `rows × cols` row-major matrix (`rows ≤ cols`) of Gaussian values into one with
/// orthonormal rows, in place (modified Gram–Schmidt, run twice for f32 accuracy). With i.i.d.
/// `N(0, 1)` input the result is Haar-distributed, the distribution of Keras's `orthogonal`
/// (`Q` of a QR with `sign(diag R)` fixed, transposed when rows < cols). When `rows > cols`
/// the columns are made orthonormal instead (through the transpose, without allocation).
pub fn orthonormalize_rows(m: &mut [f32], rows: usize, cols: usize) {
    debug_assert_eq!(m.len(), rows * cols);
    if rows <= cols {
        gram_schmidt(m, rows, cols, cols, 1);
    } else {
        // Columns as vectors: element j of vector i is m[j·cols + i].
        gram_schmidt(m, cols, rows, 1, cols);
    }
}

/// Orthonormalises `count` vectors of `len` elements; vector `i`'s element `j` is at
/// `i·vstride + j·estride`.
fn gram_schmidt(m: &mut [f32], count: usize, len: usize, vstride: usize, estride: usize) {
    let at = |i: usize, j: usize| i * vstride + j * estride;
    for i in 0..count {
        for _pass in 0..2 {
            for k in 0..i {
                let dot: f64 = (0..len)
                    .map(|j| m[at(i, j)] as f64 * m[at(k, j)] as f64)
                    .sum();
                for j in 0..len {
                    m[at(i, j)] -= (dot * m[at(k, j)] as f64) as f32;
                }
            }
        }
        let norm = libm::sqrt(
            (0..len)
                .map(|j| {
                    let v = m[at(i, j)] as f64;
                    v * v
                })
                .sum(),
        );
        let scale = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
        for j in 0..len {
            m[at(i, j)] *= scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_fans() {
        assert_eq!(fans(&[200, 300]), (200, 300));
        assert_eq!(fans(&[3, 3, 16, 32]), (144, 288));
        assert_eq!(fans(&[5, 4, 8]), (20, 40));
        assert_eq!(fans(&[7]), (7, 7));
        assert!((glorot_limit(&[200, 300]) - libm::sqrtf(6.0 / 500.0)).abs() < 1e-7);
    }

    #[test]
    fn orthonormal_rows_and_columns() {
        let mut rng = Rng::new(3);
        for (rows, cols) in [(8, 32), (16, 16), (20, 6)] {
            let mut m = [0.0f32; 400];
            let m = &mut m[..rows * cols];
            m.iter_mut().for_each(|v| *v = rng.normal());
            orthonormalize_rows(m, rows, cols);
            let (count, len, vs, es) = if rows <= cols {
                (rows, cols, cols, 1)
            } else {
                (cols, rows, 1, cols)
            };
            for a in 0..count {
                for b in 0..count {
                    let dot: f32 = (0..len)
                        .map(|j| m[a * vs + j * es] * m[b * vs + j * es])
                        .sum();
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-5, "{rows}x{cols} ({a},{b}): {dot}");
                }
            }
        }
    }
}
