//! `GroupNormalization`: per-sample statistics over groups of channels.

use super::channel_layout_ok;
use super::math::{affine, channel_sums, fma, rsqrt};
use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::train::{Params, Train, TrainCtx};
use crate::{zeros, Tensor};

/// Keras `GroupNormalization(groups=32, axis=-1, epsilon=1e-3, center=True, scale=True)`: the
/// `C` channels split into `G` contiguous groups; each group is normalized with the mean and
/// biased variance of all its values in the sample (every position, every channel of the
/// group), then scaled and shifted per channel: `y = (x − mean_g)/√(var_g + ε)·γ_c + β_c`.
///
/// The channel axis is followed by `INNER` values (`INNER = 1` when it is the last axis).
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, with `F = C` when `INNER = 1`.
/// - variables: `gamma (C,)` if `SCALE`, `beta (C,)` if `CENTER`.
///
/// ```
/// use static_keras_runtime::{zeros, GroupNorm, Layer, Tensor};
/// // Two groups of two channels; one position. Group 0 = [1, 3], group 1 = [4, 8].
/// let gn: GroupNorm<4, 2> = GroupNorm::from_parts([1.0; 4], [0.0, 0.0, 0.0, 0.5], 0.0);
/// let mut x: Tensor<4, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 3.0, 4.0, 8.0]);
/// assert_eq!(gn.forward(&x).as_slice(), &[-1.0, 1.0, -1.0, 1.5]);
/// ```
///
/// Channels that do not split into the groups do not build:
///
/// ```compile_fail
/// use static_keras_runtime::{zeros, GroupNorm, Layer, Tensor};
/// let gn: GroupNorm<6, 4> = GroupNorm::new(1e-3);
/// let y = gn.forward(&zeros::<6, 1>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupNorm<
    const C: usize,
    const G: usize,
    const INNER: usize = 1,
    const CENTER: bool = true,
    const SCALE: bool = true,
> {
    gamma: [f32; C],
    beta: [f32; C],
    epsilon: f32,
}

zeroable!([const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool] GroupNorm<C, G, INNER, CENTER, SCALE> => GroupNorm { gamma, beta, epsilon });

impl<const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    GroupNorm<C, G, INNER, CENTER, SCALE>
{
    const GAMMA: Variable = Variable {
        name: "gamma",
        shape: &[C],
    };
    const BETA: Variable = Variable {
        name: "beta",
        shape: &[C],
    };
    const BOTH: &'static [Variable] = &[Self::GAMMA, Self::BETA];
    const ONLY_GAMMA: &'static [Variable] = &[Self::GAMMA];
    const ONLY_BETA: &'static [Variable] = &[Self::BETA];
    const VARIABLES: &'static [Variable] = match (SCALE, CENTER) {
        (true, true) => Self::BOTH,
        (true, false) => Self::ONLY_GAMMA,
        (false, true) => Self::ONLY_BETA,
        (false, false) => &[],
    };

    /// A layer with zero γ and β and the given `epsilon`.
    pub const fn new(epsilon: f32) -> Self {
        Self::from_parts([0.0; C], [0.0; C], epsilon)
    }

    /// The layer from γ and β (one the layer does not have is ignored).
    pub const fn from_parts(gamma: [f32; C], beta: [f32; C], epsilon: f32) -> Self {
        Self {
            gamma: if SCALE { gamma } else { [0.0; C] },
            beta: if CENTER { beta } else { [0.0; C] },
            epsilon,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (in `variables()` order), at
    /// compile time.
    pub const fn from_le_bytes_const(bytes: &[u8], epsilon: f32) -> Self {
        let count = SCALE as usize + CENTER as usize;
        assert!(
            bytes.len() == 4 * count * C,
            "GroupNorm: weight byte count does not match 4 * C per variable"
        );
        let mut gamma = [0.0f32; C];
        let mut beta = [0.0f32; C];
        let (first, second) = bytes.split_at(if count == 0 { 0 } else { 4 * C });
        if SCALE {
            crate::fill_from_le_bytes(&mut gamma, first);
            if CENTER {
                crate::fill_from_le_bytes(&mut beta, second);
            }
        } else if CENTER {
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

    /// Per-channel sums of `f(x)` over one sample, `x` seen as `(outer, C, INNER)`: positions
    /// are summed in blocks of 64 before being added up, which keeps long sums accurate.
    #[inline(always)]
    fn channel_sums(x: &[f32], f: impl Fn(usize, f32) -> f32) -> [f32; C] {
        let mut total = [0.0f32; C];
        if INNER == 1 {
            let (positions, _) = x.as_chunks::<C>();
            for block in positions.chunks(64) {
                let mut acc = [0.0f32; C];
                for p in block {
                    for c in 0..C {
                        acc[c] += f(c, p[c]);
                    }
                }
                for c in 0..C {
                    total[c] += acc[c];
                }
            }
        } else {
            for outer in x.chunks_exact(C * INNER) {
                for (c, values) in outer.chunks_exact(INNER).enumerate() {
                    let mut acc = 0.0f32;
                    for &v in values {
                        acc += f(c, v);
                    }
                    total[c] += acc;
                }
            }
        }
        total
    }

    /// Per-channel values of the group statistic from per-channel sums.
    fn per_group(sums: &[f32; C], count: f32) -> [f32; C] {
        let width = C / G;
        let mut out = [0.0f32; C];
        for (sums, out) in sums.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            let value = sums.iter().sum::<f32>() / count;
            out.iter_mut().for_each(|o| *o = value);
        }
        out
    }
}

impl<const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    Default for GroupNorm<C, G, INNER, CENTER, SCALE>
{
    /// Zero variables and Keras's default `epsilon = 1e-3`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl<
        const C: usize,
        const G: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for GroupNorm<C, G, INNER, CENTER, SCALE>
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
                G > 0 && C.is_multiple_of(G),
                "GroupNorm: the channels C must split into G groups"
            );
            assert!(
                channel_layout_ok(F, P, C, INNER),
                "GroupNorm<C, G, INNER> does not fit this tensor: the C values of the normalized axis must line up with its axes (see the type docs)"
            );
        };
        let x = x.as_slice();
        // Values per group in the sample.
        let count = (x.len() / C * (C / G)) as f32;
        let mean = Self::per_group(&Self::channel_sums(x, |_, v| v), count);
        let var = Self::per_group(
            &Self::channel_sums(x, |c, v| {
                let d = v - mean[c];
                d * d
            }),
            count,
        );
        // Keras: inv = rsqrt(var + ε)·γ; res = −mean·inv + β; y = x·inv + res.
        let mut a = [0.0f32; C];
        let mut b = [0.0f32; C];
        for c in 0..C {
            let mut inv = rsqrt(var[c] + self.epsilon);
            if SCALE {
                inv *= self.gamma[c];
            }
            a[c] = inv;
            b[c] = if CENTER {
                fma(-mean[c], inv, self.beta[c])
            } else {
                -mean[c] * inv
            };
        }
        affine::<C, INNER>(x, y.as_mut_slice(), &a, &b);
    }
}

impl<const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    Weights for GroupNorm<C, G, INNER, CENTER, SCALE>
{
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        let target = if index == 0 && SCALE {
            &mut self.gamma
        } else {
            &mut self.beta
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = if index == 0 && SCALE {
            &self.gamma
        } else {
            &self.beta
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    crate::train::Init for GroupNorm<C, G, INNER, CENTER, SCALE>
{
}

/// The training path: the forward pass is inference's (the statistics are per sample); the
/// backward pass goes through each group's mean and variance. With `g = ∂y·γ`,
/// `x̂ = (x − mean)·r` and `n` values per group: `∂x = r·(g − Σg/n − x̂·Σ(g·x̂)/n)`,
/// `∂γ = Σ ∂y·x̂` and `∂β = Σ ∂y` per channel.
impl<
        const C: usize,
        const G: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > Train<Tensor<F, P>> for GroupNorm<C, G, INNER, CENTER, SCALE>
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
        dx: Option<&mut Tensor<F, P>>,
        grads: Option<&mut Self>,
    ) {
        let (x, dy) = (x.as_slice(), dy.as_slice());
        let count = (x.len() / C * (C / G)) as f32;
        // The statistics as the forward pass computes them.
        let mean = Self::per_group(&Self::channel_sums(x, |_, v| v), count);
        let var = Self::per_group(
            &Self::channel_sums(x, |c, v| {
                let d = v - mean[c];
                d * d
            }),
            count,
        );
        let r: [f32; C] = core::array::from_fn(|c| rsqrt(var[c] + self.epsilon));
        let gamma = |c: usize| if SCALE { self.gamma[c] } else { 1.0 };
        let xhat = |c: usize, i: usize| (x[i] - mean[c]) * r[c];
        let sum_dy = channel_sums::<C, INNER>(x.len(), |_, i| dy[i]);
        let sum_dy_xhat = channel_sums::<C, INNER>(x.len(), |c, i| dy[i] * xhat(c, i));
        if let Some(g) = grads {
            for c in 0..C {
                if SCALE {
                    g.gamma[c] += sum_dy_xhat[c];
                }
                if CENTER {
                    g.beta[c] += sum_dy[c];
                }
            }
        }
        let Some(dx) = dx else { return };
        // Σg and Σg·x̂ per group, from the channel sums (γ is constant over a channel).
        let mean_g = Self::per_group(&core::array::from_fn(|c| sum_dy[c] * gamma(c)), count);
        let mean_gx = Self::per_group(&core::array::from_fn(|c| sum_dy_xhat[c] * gamma(c)), count);
        let dx = dx.as_mut_slice();
        for base in (0..x.len()).step_by(C * INNER) {
            for c in 0..C {
                for i in base + c * INNER..base + (c + 1) * INNER {
                    let g = dy[i] * gamma(c);
                    dx[i] += r[c] * (g - mean_g[c] - xhat(c, i) * mean_gx[c]);
                }
            }
        }
    }
}

/// γ and β, those the layer has.
impl<const C: usize, const G: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    Params for GroupNorm<C, G, INNER, CENTER, SCALE>
{
    fn trainable_count(&self) -> usize {
        usize::from(SCALE) + usize::from(CENTER)
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        if SCALE {
            f(&mut self.gamma);
        }
        if CENTER {
            f(&mut self.beta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t: Tensor<F, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn groups_span_every_position() {
        // (2 positions, 4 channels), 2 groups: group 0 = {1, 3, 1, 3}, group 1 = {0, 0, 4, 4}.
        let gn: GroupNorm<4, 2> =
            GroupNorm::from_parts([1.0, 2.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0], 0.0);
        let y = gn.forward(&tensor::<4, 2>(&[1.0, 3.0, 0.0, 0.0, 1.0, 3.0, 4.0, 4.0]));
        assert_eq!(y.as_slice(), &[-1.0, 2.0, -1.0, 0.0, -1.0, 2.0, 1.0, 2.0]);
    }

    #[test]
    fn one_group_per_channel_and_a_middle_axis() {
        // Keras (2, 2) with axis=1 (the rows are the channels), groups = 2: each row alone.
        let gn: GroupNorm<2, 2, 2, false, false> = GroupNorm::new(0.0);
        assert!(gn.variables().is_empty());
        let y = gn.forward(&tensor::<2, 2>(&[1.0, 3.0, 5.0, 9.0]));
        assert_eq!(y.as_slice(), &[-1.0, 1.0, -1.0, 1.0]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        let mut gn: GroupNorm<4, 2> = GroupNorm::default();
        fill(&mut gn, 1);
        gradients::<_, Tensor<4, 3>>(&gn, 2);
        let mut one_group: GroupNorm<4, 1, 1, false> = GroupNorm::default();
        fill(&mut one_group, 3);
        gradients::<_, Tensor<4, 3>>(&one_group, 4);
        // Keras (3, 2) with axis=1: three channels of two values, one group each.
        let mut middle: GroupNorm<3, 3, 2, true, false> = GroupNorm::default();
        fill(&mut middle, 5);
        gradients::<_, Tensor<2, 3>>(&middle, 6);
    }
}
