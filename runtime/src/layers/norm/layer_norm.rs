//! `LayerNormalization`: per-sample statistics over the normalized axes.

use crate::memory::zeroable;
use core::marker::PhantomData;

use super::math::{rsqrt, sum, sum_sq_dev};
use super::{channel_layout_ok, volume, VarShape};
use crate::layer::{Layer, Variable, Weights};
use crate::train::{Params, Train, TrainCtx};
use crate::{zeros, Tensor};

/// Keras `LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False)`:
/// for each sample and each position outside the normalized axes,
/// `y = (x − mean)/√(var + ε)·γ + β`, with `mean` and the biased `var` taken over the
/// normalized axes. With `RMS` (Keras's deprecated `rms_scaling=True`) it is
/// `y = x/√(var + ε)·γ` (still the variance, as Keras computes it) and there is no β.
///
/// The normalized axes are a contiguous block of `N` values, followed by `INNER` values
/// (`INNER = 1` when the block ends with the last axis). `S` is the Keras shape of γ and β
/// ([`Dims1`](super::Dims1)`<N>` for one axis), whose values are read in row-major order
/// over the normalized axes, as Keras reshapes them.
///
/// # Shapes
/// - input and output: `Tensor<F, P>` (any Keras shape), with `F = N` for the last axis alone.
/// - variables: `gamma S` if `SCALE` or `RMS`, `beta S` if `CENTER` and not `RMS`.
///
/// ```
/// use static_keras_runtime::{zeros, Dims1, Layer, LayerNorm, Tensor};
/// let ln: LayerNorm<Dims1<2>, 2> = LayerNorm::from_parts([1.0, 2.0], [0.0, 0.5], 0.0);
/// let mut x: Tensor<2, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 3.0]); // mean 2, variance 1
/// assert_eq!(ln.forward(&x).as_slice(), &[-1.0, 2.5]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm<
    S,
    const N: usize,
    const INNER: usize = 1,
    const CENTER: bool = true,
    const SCALE: bool = true,
    const RMS: bool = false,
> {
    gamma: [f32; N],
    beta: [f32; N],
    epsilon: f32,
    shape: PhantomData<S>,
}

zeroable!([S, const N: usize, const INNER: usize, const CENTER: bool, const SCALE: bool, const RMS: bool] LayerNorm<S, N, INNER, CENTER, SCALE, RMS> => LayerNorm { gamma, beta, epsilon, shape });

impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    const HAS_GAMMA: bool = SCALE || RMS;
    const HAS_BETA: bool = CENTER && !RMS;
    const GAMMA: Variable = Variable {
        name: "gamma",
        shape: S::SHAPE,
    };
    const BETA: Variable = Variable {
        name: "beta",
        shape: S::SHAPE,
    };
    const BOTH: &'static [Variable] = &[Self::GAMMA, Self::BETA];
    const ONLY_GAMMA: &'static [Variable] = &[Self::GAMMA];
    const ONLY_BETA: &'static [Variable] = &[Self::BETA];
    const VARIABLES: &'static [Variable] = match (Self::HAS_GAMMA, Self::HAS_BETA) {
        (true, true) => Self::BOTH,
        (true, false) => Self::ONLY_GAMMA,
        (false, true) => Self::ONLY_BETA,
        (false, false) => &[],
    };

    /// A layer with zero γ and β and the given `epsilon`.
    pub const fn new(epsilon: f32) -> Self {
        Self::from_parts([0.0; N], [0.0; N], epsilon)
    }

    /// The layer from γ and β (in row-major order over the normalized axes; one the layer does
    /// not have is ignored).
    pub const fn from_parts(gamma: [f32; N], beta: [f32; N], epsilon: f32) -> Self {
        Self {
            gamma: if Self::HAS_GAMMA { gamma } else { [0.0; N] },
            beta: if Self::HAS_BETA { beta } else { [0.0; N] },
            epsilon,
            shape: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (in `variables()` order), at
    /// compile time.
    pub const fn from_le_bytes_const(bytes: &[u8], epsilon: f32) -> Self {
        let count = Self::HAS_GAMMA as usize + Self::HAS_BETA as usize;
        assert!(
            bytes.len() == 4 * count * N,
            "LayerNorm: weight byte count does not match 4 * N per variable"
        );
        let mut gamma = [0.0f32; N];
        let mut beta = [0.0f32; N];
        let (first, second) = bytes.split_at(if count == 0 { 0 } else { 4 * N });
        if Self::HAS_GAMMA {
            crate::fill_from_le_bytes(&mut gamma, first);
            if Self::HAS_BETA {
                crate::fill_from_le_bytes(&mut beta, second);
            }
        } else if Self::HAS_BETA {
            crate::fill_from_le_bytes(&mut beta, first);
        }
        Self::from_parts(gamma, beta, epsilon)
    }

    /// ε, added to the variance.
    pub const fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// Sets ε in place: how a model allocated as zero bytes gets the `epsilon` it declares
    /// without building the layer by value.
    pub fn set_epsilon(&mut self, epsilon: f32) {
        self.epsilon = epsilon;
    }

    /// Normalizes one `(N, INNER)` block (one sample's values at one outer position).
    #[inline]
    fn block(&self, x: &[f32], y: &mut [f32]) {
        let n = N as f32;
        if INNER == 1 {
            let mean = sum(x) / n;
            let inv = rsqrt(sum_sq_dev(x, mean) / n + self.epsilon);
            if RMS {
                for ((y, &x), &g) in y.iter_mut().zip(x).zip(&self.gamma) {
                    *y = x * inv * g;
                }
                return;
            }
            for (i, (y, &x)) in y.iter_mut().zip(x).enumerate() {
                let a = if SCALE { inv * self.gamma[i] } else { inv };
                let mut b = -mean * a;
                if CENTER {
                    b += self.beta[i];
                }
                *y = x * a + b;
            }
            return;
        }
        // Statistics per inner index, over the N rows of INNER values.
        let mut mean = [0.0f32; INNER];
        for row in x.chunks_exact(INNER) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut inv = [0.0f32; INNER];
        for row in x.chunks_exact(INNER) {
            for ((s, &v), &m) in inv.iter_mut().zip(row).zip(&mean) {
                let d = v - m;
                *s += d * d;
            }
        }
        inv.iter_mut()
            .for_each(|s| *s = rsqrt(*s / n + self.epsilon));
        for (k, (ys, xs)) in y
            .chunks_exact_mut(INNER)
            .zip(x.chunks_exact(INNER))
            .enumerate()
        {
            let (g, beta) = (self.gamma[k], self.beta[k]);
            for (((y, &x), &inv), &mean) in ys.iter_mut().zip(xs).zip(&inv).zip(&mean) {
                if RMS {
                    *y = x * inv * g;
                } else {
                    let a = if SCALE { inv * g } else { inv };
                    let mut b = -mean * a;
                    if CENTER {
                        b += beta;
                    }
                    *y = x * a + b;
                }
            }
        }
    }
}

impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > Default for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    /// Zero variables and Keras's default `epsilon = 1e-3`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
        const F: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>) {
        const {
            assert!(
                volume(S::SHAPE) == N,
                "LayerNorm: N must be the number of values of the shape S"
            );
            assert!(
                channel_layout_ok(F, P, N, INNER),
                "LayerNorm<S, N, INNER> does not fit this tensor: the N values of the normalized axes must line up with its axes (see the type docs)"
            );
        };
        for (xs, ys) in x
            .as_slice()
            .chunks_exact(N * INNER)
            .zip(y.as_mut_slice().chunks_exact_mut(N * INNER))
        {
            self.block(xs, ys);
        }
    }
}

impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > Weights for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        let target = if index == 0 && Self::HAS_GAMMA {
            &mut self.gamma
        } else {
            &mut self.beta
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = if index == 0 && Self::HAS_GAMMA {
            &self.gamma
        } else {
            &self.beta
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > crate::train::Init for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
}

impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    /// The backward pass of one `(N, INNER)` block: the statistics of each inner index `i`
    /// (over the `N` values `k·INNER + i`) computed again as [`Self::block`] computes them.
    fn block_backward(
        &self,
        x: &[f32],
        dy: &[f32],
        mut dx: Option<&mut [f32]>,
        mut grads: Option<&mut Self>,
    ) {
        let n = N as f32;
        for i in 0..INNER {
            let at = |k: usize| k * INNER + i;
            let mut mean = 0.0f32;
            for k in 0..N {
                mean += x[at(k)];
            }
            mean /= n;
            let mut var = 0.0f32;
            for k in 0..N {
                let d = x[at(k)] - mean;
                var += d * d;
            }
            let r = rsqrt(var / n + self.epsilon);
            // g = ∂y·γ, the gradient of the normalized value.
            let g = |k: usize| {
                if SCALE || RMS {
                    dy[at(k)] * self.gamma[k]
                } else {
                    dy[at(k)]
                }
            };
            if RMS {
                // y = x·r·γ: ∂x = r·g − r³·(x − mean)·Σ(g·x)/N; ∂γ = Σ ∂y·x·r.
                let mut gx = 0.0f32;
                for k in 0..N {
                    gx += g(k) * x[at(k)];
                }
                if let Some(dx) = dx.as_deref_mut() {
                    let c = r * r * r * gx / n;
                    for k in 0..N {
                        dx[at(k)] += r * g(k) - c * (x[at(k)] - mean);
                    }
                }
                if let Some(grads) = grads.as_deref_mut() {
                    for k in 0..N {
                        grads.gamma[k] += dy[at(k)] * x[at(k)] * r;
                    }
                }
                continue;
            }
            // y = x̂·γ + β with x̂ = (x − mean)·r: ∂x = r·(g − Σg/N − x̂·Σ(g·x̂)/N).
            let (mut sum_g, mut sum_gx) = (0.0f32, 0.0f32);
            for k in 0..N {
                let xhat = (x[at(k)] - mean) * r;
                sum_g += g(k);
                sum_gx += g(k) * xhat;
            }
            if let Some(dx) = dx.as_deref_mut() {
                let (mean_g, mean_gx) = (sum_g / n, sum_gx / n);
                for k in 0..N {
                    let xhat = (x[at(k)] - mean) * r;
                    dx[at(k)] += r * (g(k) - mean_g - xhat * mean_gx);
                }
            }
            if let Some(grads) = grads.as_deref_mut() {
                for k in 0..N {
                    if SCALE {
                        grads.gamma[k] += dy[at(k)] * (x[at(k)] - mean) * r;
                    }
                    if CENTER {
                        grads.beta[k] += dy[at(k)];
                    }
                }
            }
        }
    }
}

/// The training path: the forward pass is inference's (the statistics are per sample); the
/// backward pass goes through the mean and the variance, block by block.
impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
        const F: usize,
        const P: usize,
    > Train<Tensor<F, P>> for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    type Cache = ();

    fn forward_train(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>, _: &mut (), _: &mut TrainCtx) {
        self.forward_into(x, y);
    }

    fn backward(
        &self,
        x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        _: &mut (),
        dy: &Tensor<F, P>,
        mut dx: Option<&mut Tensor<F, P>>,
        mut grads: Option<&mut Self>,
    ) {
        let block = N * INNER;
        for (b, (x, dy)) in x
            .as_slice()
            .chunks_exact(block)
            .zip(dy.as_slice().chunks_exact(block))
            .enumerate()
        {
            let dx = dx
                .as_deref_mut()
                .map(|dx| &mut dx.as_mut_slice()[b * block..][..block]);
            self.block_backward(x, dy, dx, grads.as_deref_mut());
        }
    }
}

/// γ and β, those the layer has.
impl<
        S: VarShape,
        const N: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const RMS: bool,
    > Params for LayerNorm<S, N, INNER, CENTER, SCALE, RMS>
{
    fn trainable_count(&self) -> usize {
        usize::from(Self::HAS_GAMMA) + usize::from(Self::HAS_BETA)
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        if Self::HAS_GAMMA {
            f(&mut self.gamma);
        }
        if Self::HAS_BETA {
            f(&mut self.beta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dims1, Dims2};

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t: Tensor<F, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn each_position_is_normalized_over_the_last_axis() {
        // Rows [1, 3] (mean 2, var 1) and [0, 4] (mean 2, var 4); ε = 0.
        let ln: LayerNorm<Dims1<2>, 2> = LayerNorm::from_parts([1.0, 1.0], [0.0, 0.0], 0.0);
        let y = ln.forward(&tensor::<2, 2>(&[1.0, 3.0, 0.0, 4.0]));
        assert_eq!(y.as_slice(), &[-1.0, 1.0, -1.0, 1.0]);
    }

    #[test]
    fn rms_scaling_divides_by_the_standard_deviation_only() {
        let ln: LayerNorm<Dims1<2>, 2, 1, true, true, true> =
            LayerNorm::from_parts([1.0, 0.5], [9.0, 9.0], 0.0);
        assert_eq!(ln.variables().len(), 1);
        let y = ln.forward(&tensor::<2, 1>(&[1.0, 3.0]));
        assert_eq!(y.as_slice(), &[1.0, 1.5]);
    }

    #[test]
    fn a_block_of_axes_and_a_middle_axis() {
        // Keras (2, 2) normalized over both axes: one block of 4 values.
        let ln: LayerNorm<Dims2<2, 2>, 4, 1, false, false> = LayerNorm::new(0.0);
        assert!(ln.variables().is_empty());
        let y = ln.forward(&tensor::<2, 2>(&[1.0, 3.0, 1.0, 3.0]));
        assert_eq!(y.as_slice(), &[-1.0, 1.0, -1.0, 1.0]);
        // Keras (2, 2) normalized over axis 1 (the rows): per column.
        let ln: LayerNorm<Dims1<2>, 2, 2, true, false> =
            LayerNorm::from_parts([0.0; 2], [0.0, 10.0], 0.0);
        let y = ln.forward(&tensor::<2, 2>(&[1.0, 4.0, 3.0, 6.0]));
        assert_eq!(y.as_slice(), &[-1.0, -1.0, 11.0, 11.0]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        let mut ln: LayerNorm<Dims1<3>, 3> = LayerNorm::default();
        fill(&mut ln, 1);
        gradients::<_, Tensor<3, 2>>(&ln, 2);
        let mut rms: LayerNorm<Dims1<3>, 3, 1, true, true, true> = LayerNorm::default();
        fill(&mut rms, 3);
        gradients::<_, Tensor<3, 2>>(&rms, 4);
        // Keras (2, 3, 2) normalized over axis 2: N = 3, INNER = 2.
        let mut middle: LayerNorm<Dims1<3>, 3, 2, true, false> = LayerNorm::default();
        fill(&mut middle, 5);
        gradients::<_, Tensor<2, 6>>(&middle, 6);
        // Over axes (1, 2) of (2, 3, 2), without γ and β.
        let plain: LayerNorm<Dims2<3, 2>, 6, 1, false, false> = LayerNorm::new(1e-3);
        gradients::<_, Tensor<2, 6>>(&plain, 7);
        let mut rms_middle: LayerNorm<Dims1<3>, 3, 2, false, false, true> = LayerNorm::default();
        fill(&mut rms_middle, 8);
        gradients::<_, Tensor<2, 6>>(&rms_middle, 9);
    }
}
