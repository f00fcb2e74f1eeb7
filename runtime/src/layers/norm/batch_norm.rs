//! `BatchNormalization`: at inference one fused pass `y = x·a + b` per channel; in training the
//! batch's statistics, the backward pass through them, and the moving statistics' update.

use super::channel_layout_ok;
use super::math::{affine_dispatch, affine_in_place_dispatch, channel_sums, fma, rsqrt};
use crate::layer::{Layer, Variable, Weights};
use crate::memory::{zeroable, InPlace};
use crate::train::{Params, Train, TrainCtx};
use crate::{zeros, Tensor};

/// Keras `BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True)` at
/// inference: `y = (x − moving_mean) / √(moving_variance + ε) · γ + β` per index of `axis`.
///
/// The layer keeps Keras's four variables and, beside them, the per-channel factors
/// `a = γ · rsqrt(σ² + ε)` and `b = β − μ·a`, computed whenever a variable is loaded (and by
/// the compiler in [`BatchNorm::from_le_bytes_const`]), in Keras's JAX order and rounding, so
/// the forward pass is one multiply-add per value. `SCALE = false` drops γ (a = rsqrt(σ² + ε)),
/// `CENTER = false` drops β; the variables that remain keep Keras's order.
///
/// The tensor is seen as `(outer, C, INNER)`: `C` is the size of the normalized axis and
/// `INNER` the number of values after it (1 when the axis is the last one, as after a
/// convolution).
///
/// In training ([`Train`]) the layer normalizes with the mean and the biased variance of the
/// whole batch (every axis but `axis`), and after the step updates the moving statistics with
/// `momentum` ([`BatchNorm::with_momentum`], Keras's default 0.99):
/// `moving = moving·momentum + batch·(1 − momentum)`. A frozen layer (Keras's
/// `trainable = False`, [`BatchNorm::frozen`]) runs in inference mode inside training too, as
/// Keras 3 does: moving statistics, no update, the gradient still flowing to its input.
///
/// # Shapes
/// - input and output: `Tensor<F, P>` (any Keras shape), with `F = C` when `INNER = 1`.
/// - variables: `gamma (C,)` if `SCALE`, `beta (C,)` if `CENTER`, `moving_mean (C,)`,
///   `moving_variance (C,)`.
///
/// ```
/// use static_keras_runtime::{zeros, BatchNorm, Layer, Tensor, Weights};
/// let mut bn: BatchNorm<2> = BatchNorm::new(1e-3);
/// bn.load_variable(0, &mut [2.0, 1.0].into_iter()); // gamma
/// bn.load_variable(1, &mut [0.5, 0.0].into_iter()); // beta
/// bn.load_variable(2, &mut [1.0, -1.0].into_iter()); // moving_mean
/// bn.load_variable(3, &mut [3.999, 0.999].into_iter()); // moving_variance
/// let mut x: Tensor<2, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[3.0, 1.0]);
/// let y = bn.forward(&x);
/// assert_eq!(y.as_slice(), &[2.5, 2.0]); // (3 − 1)/2·2 + 0.5, (1 + 1)/1
/// ```
///
/// A tensor whose channels do not match does not build:
///
/// ```compile_fail
/// use static_keras_runtime::{zeros, BatchNorm, Layer, Tensor};
/// let bn: BatchNorm<3> = BatchNorm::new(1e-3);
/// let y = bn.forward(&zeros::<4, 2>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm<
    const C: usize,
    const INNER: usize = 1,
    const CENTER: bool = true,
    const SCALE: bool = true,
> {
    gamma: [f32; C],
    beta: [f32; C],
    moving_mean: [f32; C],
    moving_variance: [f32; C],
    /// `y = x·a + b`, from the four above and `epsilon`.
    a: [f32; C],
    b: [f32; C],
    epsilon: f32,
    /// Training only: the weight of the old moving statistics, and `1 − momentum` as Keras
    /// rounds it (computed in f64 from the Python float, then cast).
    momentum: f32,
    one_minus_momentum: f32,
    /// Keras's `trainable = False`: inference mode inside training too.
    frozen: bool,
}

zeroable!([const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool] BatchNorm<C, INNER, CENTER, SCALE> => BatchNorm { gamma, beta, moving_mean, moving_variance, a, b, epsilon, momentum, one_minus_momentum, frozen });

/// Which stored array a variable index names.
#[derive(Clone, Copy)]
enum Slot {
    Gamma,
    Beta,
    Mean,
    Variance,
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    BatchNorm<C, INNER, CENTER, SCALE>
{
    const GAMMA: Variable = Variable {
        name: "gamma",
        shape: &[C],
    };
    const BETA: Variable = Variable {
        name: "beta",
        shape: &[C],
    };
    const MEAN: Variable = Variable {
        name: "moving_mean",
        shape: &[C],
    };
    const VARIANCE: Variable = Variable {
        name: "moving_variance",
        shape: &[C],
    };
    const ALL: &'static [Variable] = &[Self::GAMMA, Self::BETA, Self::MEAN, Self::VARIANCE];
    const NO_BETA: &'static [Variable] = &[Self::GAMMA, Self::MEAN, Self::VARIANCE];
    const NO_GAMMA: &'static [Variable] = &[Self::BETA, Self::MEAN, Self::VARIANCE];
    const STATS: &'static [Variable] = &[Self::MEAN, Self::VARIANCE];
    /// Keras's variables: gamma and beta only when present, the moving statistics always.
    const VARIABLES: &'static [Variable] = match (SCALE, CENTER) {
        (true, true) => Self::ALL,
        (true, false) => Self::NO_BETA,
        (false, true) => Self::NO_GAMMA,
        (false, false) => Self::STATS,
    };

    /// Variable `index` in Keras's order.
    const fn slot(index: usize) -> Slot {
        let skip = !SCALE as usize;
        let index = index + skip;
        let index = if !CENTER && index >= 1 {
            index + 1
        } else {
            index
        };
        match index {
            0 => Slot::Gamma,
            1 => Slot::Beta,
            2 => Slot::Mean,
            _ => Slot::Variance,
        }
    }

    /// A layer with zero variables (γ, β, μ and σ² all 0) and the given `epsilon`.
    pub const fn new(epsilon: f32) -> Self {
        Self::from_parts([0.0; C], [0.0; C], [0.0; C], [0.0; C], epsilon)
    }

    /// The layer from its variables (a γ or β the layer does not have is ignored).
    pub const fn from_parts(
        gamma: [f32; C],
        beta: [f32; C],
        moving_mean: [f32; C],
        moving_variance: [f32; C],
        epsilon: f32,
    ) -> Self {
        let mut layer = Self {
            gamma: if SCALE { gamma } else { [0.0; C] },
            beta: if CENTER { beta } else { [0.0; C] },
            moving_mean,
            moving_variance,
            a: [0.0; C],
            b: [0.0; C],
            epsilon,
            momentum: 0.99,
            one_minus_momentum: (1.0 - 0.99f64) as f32,
            frozen: false,
        };
        layer.fold();
        layer
    }

    /// The same layer with Keras's `momentum` (training only: the moving statistics become
    /// `moving·momentum + batch·(1 − momentum)` after each step; the default is 0.99). Taken as
    /// the f64 Keras holds, so `1 − momentum` rounds as Keras's does.
    pub const fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum as f32;
        self.one_minus_momentum = (1.0 - momentum) as f32;
        self
    }

    /// The same layer frozen or not (Keras's `trainable = False`): a frozen layer runs in
    /// inference mode inside training too (moving statistics, no update; the gradient still
    /// reaches its input), as Keras 3 does.
    pub const fn frozen(mut self, frozen: bool) -> Self {
        self.frozen = frozen;
        self
    }

    /// Keras's `momentum`.
    pub const fn momentum(&self) -> f32 {
        self.momentum
    }

    /// Whether the layer is frozen ([`BatchNorm::frozen`]).
    pub const fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// The layer from its Keras variables as raw little-endian f32 (in `variables()` order), at
    /// compile time: `static` models built this way keep their weights and the folded factors
    /// in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], epsilon: f32) -> Self {
        let count = 2 + SCALE as usize + CENTER as usize;
        assert!(
            bytes.len() == 4 * count * C,
            "BatchNorm: weight byte count does not match 4 * C per variable"
        );
        let mut arrays = [[0.0f32; C]; 4];
        let mut v = 0;
        let mut rest = bytes;
        while v < count {
            let (head, tail) = rest.split_at(4 * C);
            let target = match Self::slot(v) {
                Slot::Gamma => 0,
                Slot::Beta => 1,
                Slot::Mean => 2,
                Slot::Variance => 3,
            };
            crate::fill_from_le_bytes(&mut arrays[target], head);
            rest = tail;
            v += 1;
        }
        let [gamma, beta, mean, variance] = arrays;
        Self::from_parts(gamma, beta, mean, variance, epsilon)
    }

    /// Computes `a` and `b` as Keras's JAX backend does: `inv = rsqrt(σ² + ε) · γ`,
    /// `res = −μ·inv + β` (contracted to one rounding by XLA).
    const fn fold(&mut self) {
        let mut c = 0;
        while c < C {
            let mut inv = rsqrt(self.moving_variance[c] + self.epsilon);
            if SCALE {
                inv *= self.gamma[c];
            }
            self.a[c] = inv;
            self.b[c] = if CENTER {
                fma(-self.moving_mean[c], inv, self.beta[c])
            } else {
                -self.moving_mean[c] * inv
            };
            c += 1;
        }
    }

    /// ε, added to the variance.
    pub const fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// Sets ε (and the folded factors with it), in place: how a model allocated as zero bytes
    /// gets the `epsilon` it declares without building the layer by value.
    pub fn set_epsilon(&mut self, epsilon: f32) {
        self.epsilon = epsilon;
        self.fold();
    }

    /// [`with_momentum`](Self::with_momentum) and [`frozen`](Self::frozen) in place, for a
    /// model allocated as zero bytes (whose momentum would otherwise be 0).
    pub fn set_training(&mut self, momentum: f64, frozen: bool) {
        self.momentum = momentum as f32;
        self.one_minus_momentum = (1.0 - momentum) as f32;
        self.frozen = frozen;
    }

    /// The per-channel factors of `y = x·a + b`.
    pub const fn factors(&self) -> (&[f32; C], &[f32; C]) {
        (&self.a, &self.b)
    }
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> Default
    for BatchNorm<C, INNER, CENTER, SCALE>
{
    /// Zero variables and Keras's default `epsilon = 1e-3`.
    fn default() -> Self {
        Self::new(1e-3)
    }
}

impl<
        const C: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for BatchNorm<C, INNER, CENTER, SCALE>
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
                channel_layout_ok(F, P, C, INNER),
                "BatchNorm<C, INNER> does not fit this tensor: the C values of the normalized axis must line up with its axes (see the type docs)"
            )
        };
        affine_dispatch::<C, INNER>(x.as_slice(), y.as_mut_slice(), &self.a, &self.b);
    }
}

impl<
        const C: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > InPlace<Tensor<F, P>> for BatchNorm<C, INNER, CENTER, SCALE>
{
    fn forward_in_place(&self, x: &mut Tensor<F, P>) {
        const {
            assert!(
                channel_layout_ok(F, P, C, INNER),
                "BatchNorm<C, INNER> does not fit this tensor: the C values of the normalized axis must line up with its axes (see the type docs)"
            )
        };
        affine_in_place_dispatch::<C, INNER>(x.as_mut_slice(), &self.a, &self.b);
    }
}

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> Weights
    for BatchNorm<C, INNER, CENTER, SCALE>
{
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        let target = match Self::slot(index) {
            Slot::Gamma => &mut self.gamma,
            Slot::Beta => &mut self.beta,
            Slot::Mean => &mut self.moving_mean,
            Slot::Variance => &mut self.moving_variance,
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
        self.fold();
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match Self::slot(index) {
            Slot::Gamma => &self.gamma,
            Slot::Beta => &self.beta,
            Slot::Mean => &self.moving_mean,
            Slot::Variance => &self.moving_variance,
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> crate::train::Init
    for BatchNorm<C, INNER, CENTER, SCALE>
{
}

/// The batch's statistics, kept by the training forward pass for the backward pass and the
/// moving statistics' update: `[mean, variance]` per channel (every sample's cache holds the
/// same values).
type BatchStats<const C: usize> = [[f32; C]; 2];

impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool>
    BatchNorm<C, INNER, CENTER, SCALE>
{
    /// `γ` of channel `c`, 1 without `SCALE`.
    #[inline(always)]
    fn gamma_of(&self, c: usize) -> f32 {
        if SCALE {
            self.gamma[c]
        } else {
            1.0
        }
    }
}

/// Every value of `(outer, C, INNER)`-laid-out `values` with its channel.
#[inline(always)]
fn each_channel<const C: usize, const INNER: usize>(len: usize, mut f: impl FnMut(usize, usize)) {
    for base in (0..len).step_by(C * INNER) {
        for c in 0..C {
            for i in base + c * INNER..base + (c + 1) * INNER {
                f(c, i);
            }
        }
    }
}

/// The training path. The statistics span the batch, so the batch variants do the work and the
/// per-sample methods are a batch of one.
///
/// Forward, as Keras's JAX backend: `μ` and the biased `σ²` per channel over the batch,
/// `inv = rsqrt(σ² + ε)·γ`, `y = x·inv + (β − μ·inv)`. Backward (through `μ` and `σ²`), with
/// `x̂ = (x − μ)·rsqrt(σ² + ε)` and `N` values per channel: `∂β = Σ ∂y`, `∂γ = Σ ∂y·x̂`,
/// `∂x = γ·rsqrt(σ² + ε)·(∂y − Σ∂y/N − x̂·Σ(∂y·x̂)/N)`.
impl<
        const C: usize,
        const INNER: usize,
        const CENTER: bool,
        const SCALE: bool,
        const F: usize,
        const P: usize,
    > Train<Tensor<F, P>> for BatchNorm<C, INNER, CENTER, SCALE>
{
    type Cache = BatchStats<C>;

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<F, P>,
        cache: &mut BatchStats<C>,
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_batch(
            core::slice::from_ref(x),
            core::slice::from_mut(y),
            core::slice::from_mut(cache),
            ctx,
        );
    }

    fn backward(
        &self,
        x: &Tensor<F, P>,
        y: &Tensor<F, P>,
        cache: &mut BatchStats<C>,
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        grads: Option<&mut Self>,
    ) {
        self.backward_batch(
            core::slice::from_ref(x),
            core::slice::from_ref(y),
            core::slice::from_mut(cache),
            core::slice::from_ref(dy),
            dx.map(core::slice::from_mut),
            grads,
        );
    }

    fn forward_train_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<F, P>],
        caches: &mut [BatchStats<C>],
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_strided(xs, ys, caches, (0, 1), ctx);
    }

    fn backward_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &[Tensor<F, P>],
        caches: &mut [BatchStats<C>],
        dys: &[Tensor<F, P>],
        dxs: Option<&mut [Tensor<F, P>]>,
        grads: Option<&mut Self>,
    ) {
        self.backward_strided(xs, ys, caches, dys, dxs, grads, (0, 1));
    }

    const BATCH_STATISTICS: bool = true;

    /// The statistics of the selected samples only (one step of a `TimeDistributed` batch, which
    /// Keras normalizes over the batch on its own).
    fn forward_train_strided(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<F, P>],
        caches: &mut [BatchStats<C>],
        (start, stride): (usize, usize),
        _ctx: &mut TrainCtx,
    ) {
        let xs_sel = || xs.iter().skip(start).step_by(stride);
        if self.frozen {
            for (x, y) in xs_sel().zip(ys.iter_mut().skip(start).step_by(stride)) {
                self.forward_into(x, y);
            }
            return;
        }
        let count = xs_sel().count();
        if count == 0 {
            return;
        }
        let n = (count * (F * P / C)) as f32;
        let mut mean = [0.0f32; C];
        for x in xs_sel() {
            let x = x.as_slice();
            let sums = channel_sums::<C, INNER>(x.len(), |_, i| x[i]);
            mean.iter_mut().zip(sums).for_each(|(m, s)| *m += s);
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = [0.0f32; C];
        for x in xs_sel() {
            let x = x.as_slice();
            let sums = channel_sums::<C, INNER>(x.len(), |c, i| {
                let d = x[i] - mean[c];
                d * d
            });
            var.iter_mut().zip(sums).for_each(|(v, s)| *v += s);
        }
        var.iter_mut().for_each(|v| *v /= n);
        let mut a = [0.0f32; C];
        let mut b = [0.0f32; C];
        for c in 0..C {
            let inv = rsqrt(var[c] + self.epsilon) * self.gamma_of(c);
            a[c] = inv;
            b[c] = if CENTER {
                fma(-mean[c], inv, self.beta[c])
            } else {
                -mean[c] * inv
            };
        }
        for (x, y) in xs_sel().zip(ys.iter_mut().skip(start).step_by(stride)) {
            affine_dispatch::<C, INNER>(x.as_slice(), y.as_mut_slice(), &a, &b);
        }
        caches
            .iter_mut()
            .skip(start)
            .step_by(stride)
            .for_each(|cache| *cache = [mean, var]);
    }

    fn backward_strided(
        &self,
        xs: &[Tensor<F, P>],
        _ys: &[Tensor<F, P>],
        caches: &mut [BatchStats<C>],
        dys: &[Tensor<F, P>],
        dxs: Option<&mut [Tensor<F, P>]>,
        grads: Option<&mut Self>,
        (start, stride): (usize, usize),
    ) {
        let dys_sel = || dys.iter().skip(start).step_by(stride);
        if self.frozen {
            // Inference mode: y = x·a + b with constant a and b.
            if let Some(dxs) = dxs {
                for (dx, dy) in dxs.iter_mut().skip(start).step_by(stride).zip(dys_sel()) {
                    let (dx, dy) = (dx.as_mut_slice(), dy.as_slice());
                    each_channel::<C, INNER>(dx.len(), |c, i| dx[i] += dy[i] * self.a[c]);
                }
            }
            return;
        }
        let Some(&[mean, var]) = caches.get(start) else {
            return;
        };
        let xs_sel = || xs.iter().skip(start).step_by(stride);
        let n = (xs_sel().count() * (F * P / C)) as f32;
        let r: [f32; C] = core::array::from_fn(|c| rsqrt(var[c] + self.epsilon));
        let mut sum_dy = [0.0f32; C];
        let mut sum_dy_xhat = [0.0f32; C];
        for (x, dy) in xs_sel().zip(dys_sel()) {
            let (x, dy) = (x.as_slice(), dy.as_slice());
            let s = channel_sums::<C, INNER>(x.len(), |_, i| dy[i]);
            sum_dy.iter_mut().zip(s).for_each(|(t, s)| *t += s);
            let s = channel_sums::<C, INNER>(x.len(), |c, i| dy[i] * (x[i] - mean[c]) * r[c]);
            sum_dy_xhat.iter_mut().zip(s).for_each(|(t, s)| *t += s);
        }
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
        if let Some(dxs) = dxs {
            let k: [f32; C] = core::array::from_fn(|c| self.gamma_of(c) * r[c]);
            let mean_dy: [f32; C] = core::array::from_fn(|c| sum_dy[c] / n);
            let mean_dy_xhat: [f32; C] = core::array::from_fn(|c| sum_dy_xhat[c] / n);
            for ((dx, dy), x) in dxs
                .iter_mut()
                .skip(start)
                .step_by(stride)
                .zip(dys_sel())
                .zip(xs_sel())
            {
                let (dx, dy, x) = (dx.as_mut_slice(), dy.as_slice(), x.as_slice());
                each_channel::<C, INNER>(dx.len(), |c, i| {
                    let xhat = (x[i] - mean[c]) * r[c];
                    dx[i] += k[c] * (dy[i] - mean_dy[c] - xhat * mean_dy_xhat[c]);
                });
            }
        }
    }

    /// Keras's update, once per step: `moving·momentum + batch·(1 − momentum)`, the biased
    /// batch variance included; then the fused factors again. Nothing for a frozen layer.
    fn update_state(&mut self, caches: &[BatchStats<C>]) {
        let Some(&[mean, var]) = caches.first() else {
            return;
        };
        if self.frozen {
            return;
        }
        let (m, rest) = (self.momentum, self.one_minus_momentum);
        for c in 0..C {
            self.moving_mean[c] = self.moving_mean[c] * m + mean[c] * rest;
            self.moving_variance[c] = self.moving_variance[c] * m + var[c] * rest;
        }
        self.fold();
    }
}

/// γ and β, those the layer has (the moving statistics are not trainable).
impl<const C: usize, const INNER: usize, const CENTER: bool, const SCALE: bool> Params
    for BatchNorm<C, INNER, CENTER, SCALE>
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

    /// γ or β changed: the fused inference factors follow.
    fn after_update(&mut self) {
        self.fold();
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
    fn variables_shift_with_center_and_scale() {
        let names = |vars: &[Variable]| {
            let mut out = [""; 4];
            vars.iter().zip(&mut out).for_each(|(v, o)| *o = v.name);
            out
        };
        assert_eq!(
            names(BatchNorm::<3, 1, true, true>::default().variables()),
            ["gamma", "beta", "moving_mean", "moving_variance"]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, false, true>::default().variables()),
            ["gamma", "moving_mean", "moving_variance", ""]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, true, false>::default().variables()),
            ["beta", "moving_mean", "moving_variance", ""]
        );
        assert_eq!(
            names(BatchNorm::<3, 1, false, false>::default().variables()),
            ["moving_mean", "moving_variance", "", ""]
        );
        assert_eq!(BatchNorm::<3, 1, false, false>::default().param_count(), 6);
    }

    #[test]
    fn every_combination_normalizes_by_hand() {
        // x = 5, μ = 1, σ² = 4 − ε  →  (x − μ)/2 = 2; γ = 3, β = −1.
        let x = tensor::<1, 1>(&[5.0]);
        let var = 4.0 - 1e-3;
        let full = BatchNorm::<1>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(full.forward(&x).as_slice(), &[5.0]);
        let no_center = BatchNorm::<1, 1, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(no_center.forward(&x).as_slice(), &[6.0]);
        let no_scale =
            BatchNorm::<1, 1, true, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(no_scale.forward(&x).as_slice(), &[1.0]);
        let neither =
            BatchNorm::<1, 1, false, false>::from_parts([3.0], [-1.0], [1.0], [var], 1e-3);
        assert_eq!(neither.forward(&x).as_slice(), &[2.0]);
    }

    #[test]
    fn loading_in_keras_order_and_storing_back() {
        // center=False: gamma, moving_mean, moving_variance.
        let mut bn = BatchNorm::<2, 1, false, true>::new(0.0);
        bn.load_variable(0, &mut [2.0, 4.0].into_iter());
        bn.load_variable(1, &mut [1.0, 0.0].into_iter());
        bn.load_variable(2, &mut [4.0, 16.0].into_iter());
        assert_eq!(bn.factors(), (&[1.0, 1.0], &[-1.0, -0.0]));
        let mut seen = [0.0; 6];
        let mut n = 0;
        for i in 0..3 {
            bn.store_variable(i, &mut |v| {
                seen[n] = v;
                n += 1;
            });
        }
        assert_eq!(seen, [2.0, 4.0, 1.0, 0.0, 4.0, 16.0]);
    }

    #[test]
    fn a_middle_axis_uses_inner() {
        // Keras shape (2, 3) normalized over axis 1 of (batch, 2, 3)... i.e. the rows: C = 2,
        // INNER = 3. Row 0 scaled by 2, row 1 shifted by 1.
        let bn = BatchNorm::<2, 3>::from_parts([2.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0], 0.0);
        let y = bn.forward(&tensor::<3, 2>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(y.as_slice(), &[2.0, 4.0, 6.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn the_const_constructor_matches_loading() {
        const BYTES: [u8; 24] = {
            let values = [1.5f32, -0.5, 0.25, 0.75, 2.0, 0.5];
            let mut out = [0u8; 24];
            let mut i = 0;
            while i < 6 {
                let b = values[i].to_le_bytes();
                out[4 * i] = b[0];
                out[4 * i + 1] = b[1];
                out[4 * i + 2] = b[2];
                out[4 * i + 3] = b[3];
                i += 1;
            }
            out
        };
        // scale=False: beta, moving_mean, moving_variance.
        static BN: BatchNorm<2, 1, true, false> = BatchNorm::from_le_bytes_const(&BYTES, 1e-3);
        let mut loaded = BatchNorm::<2, 1, true, false>::new(1e-3);
        for (i, pair) in [[1.5, -0.5], [0.25, 0.75], [2.0, 0.5]]
            .into_iter()
            .enumerate()
        {
            loaded.load_variable(i, &mut pair.into_iter());
        }
        assert_eq!(BN, loaded);
        assert_eq!(BN.factors().0[0], rsqrt(2.0 + 1e-3));
    }
    /// `Σ_s Σ w_s·y_s` over a batch in training mode, and its gradients by backward.
    fn batch_loss<const C: usize, const INNER: usize, const CE: bool, const SC: bool>(
        bn: &BatchNorm<C, INNER, CE, SC>,
        xs: &[Tensor<3, 4>],
        w: &[Tensor<3, 4>],
    ) -> f32 {
        let mut ys = [zeros::<3, 4>(); 3];
        let mut caches = [[[0.0; C]; 2]; 3];
        bn.forward_train_batch(xs, &mut ys, &mut caches, &mut TrainCtx::new(0));
        ys.iter()
            .zip(w)
            .map(|(y, w)| y.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f32>())
            .sum()
    }

    /// Backward over a batch of three against central differences of [`batch_loss`]: the
    /// statistics span the samples, so each input's gradient depends on the others.
    fn check_batch<const C: usize, const INNER: usize, const CE: bool, const SC: bool>(
        bn: &BatchNorm<C, INNER, CE, SC>,
    ) {
        let mut rng = crate::train::Rng::new(3);
        let mut tensor = |scale: f32, shift: f32| {
            let mut t = zeros::<3, 4>();
            t.iter_mut()
                .for_each(|v| *v = (rng.uniform() - shift) * scale);
            t
        };
        let xs = [tensor(2.0, 0.5), tensor(2.0, 0.2), tensor(3.0, 0.7)];
        let w = [tensor(1.0, 0.5), tensor(1.0, 0.5), tensor(1.0, 0.5)];
        let mut ys = [zeros::<3, 4>(); 3];
        let mut caches = [[[0.0; C]; 2]; 3];
        bn.forward_train_batch(&xs, &mut ys, &mut caches, &mut TrainCtx::new(0));
        let mut dxs = [zeros::<3, 4>(); 3];
        let mut grads = BatchNorm::<C, INNER, CE, SC>::new(0.0);
        bn.backward_batch(&xs, &ys, &mut caches, &w, Some(&mut dxs), Some(&mut grads));
        let h = 1e-2;
        let close = |analytic: f32, numeric: f32, what: &str| {
            let err = (analytic - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 1e-2,
                "{what}: backward {analytic}, differences {numeric}"
            );
        };
        for s in 0..3 {
            for i in 0..12 {
                let (mut plus, mut minus) = (xs, xs);
                plus[s][i] += h;
                minus[s][i] -= h;
                let numeric = (batch_loss(bn, &plus, &w) - batch_loss(bn, &minus, &w)) / (2.0 * h);
                close(dxs[s][i], numeric, "input");
            }
        }
        let trainable = usize::from(SC) + usize::from(CE);
        for v in 0..trainable {
            let mut analytic = [0.0; C];
            let mut k = 0;
            grads.store_variable(v, &mut |g| {
                analytic[k] = g;
                k += 1;
            });
            for c in 0..C {
                let at = |delta: f32| {
                    let mut values = [0.0; C];
                    let mut k = 0;
                    bn.store_variable(v, &mut |g| {
                        values[k] = g;
                        k += 1;
                    });
                    values[c] += delta;
                    let mut l = bn.clone();
                    l.load_variable(v, &mut values.into_iter());
                    batch_loss(&l, &xs, &w)
                };
                close(analytic[c], (at(h) - at(-h)) / (2.0 * h), "variable");
            }
        }
    }

    fn trained<const C: usize, const INNER: usize, const CE: bool, const SC: bool>(
    ) -> BatchNorm<C, INNER, CE, SC> {
        let gamma: [f32; C] = core::array::from_fn(|c| 0.5 + c as f32 * 0.25);
        let beta: [f32; C] = core::array::from_fn(|c| c as f32 * 0.1 - 0.2);
        BatchNorm::from_parts(gamma, beta, [0.0; C], [1.0; C], 1e-3)
    }

    #[test]
    fn gradients_match_finite_differences() {
        // One sample: the statistics over its four positions.
        crate::train::check::gradients::<_, Tensor<3, 4>>(&trained::<3, 1, true, true>(), 5);
        crate::train::check::gradients::<_, Tensor<3, 4>>(&trained::<3, 1, false, true>(), 6);
        // Keras (2, 2, 3) normalized over axis 2: C = 2, INNER = 3.
        crate::train::check::gradients::<_, Tensor<3, 4>>(&trained::<2, 3, true, false>(), 7);
        // A batch of three: the statistics span the samples.
        check_batch(&trained::<3, 1, true, true>());
        check_batch(&trained::<2, 3, true, true>());
        check_batch(&trained::<4, 3, false, true>());
        check_batch(&trained::<3, 1, true, false>());
        check_batch(&trained::<3, 1, false, false>());
    }

    #[test]
    fn training_uses_the_batch_statistics_and_updates_the_moving_ones() {
        // One channel, two samples of two positions: values 1, 3, 5, 7 (mean 4, variance 5).
        let mut bn =
            BatchNorm::<1>::from_parts([2.0], [1.0], [10.0], [3.0], 0.0).with_momentum(0.9);
        let xs = [tensor::<1, 2>(&[1.0, 3.0]), tensor::<1, 2>(&[5.0, 7.0])];
        let mut ys = [zeros::<1, 2>(); 2];
        let mut caches = [[[0.0; 1]; 2]; 2];
        bn.forward_train_batch(&xs, &mut ys, &mut caches, &mut TrainCtx::new(0));
        let inv = 2.0 * rsqrt(5.0);
        for (y, x) in ys
            .iter()
            .flat_map(|y| y.iter())
            .zip([1.0f32, 3.0, 5.0, 7.0])
        {
            assert!((y - ((x - 4.0) * inv + 1.0)).abs() < 1e-6, "{ys:?}");
        }
        assert_eq!(caches[1], [[4.0], [5.0]]);
        Train::<Tensor<1, 2>>::update_state(&mut bn, &caches);
        // 10·0.9 + 4·f32(1 − 0.9), 3·0.9 + 5·f32(1 − 0.9): the biased variance.
        let rest = (1.0 - 0.9f64) as f32;
        let mut stats = [0.0; 2];
        bn.store_variable(2, &mut |v| stats[0] = v);
        bn.store_variable(3, &mut |v| stats[1] = v);
        assert_eq!(stats, [10.0 * 0.9 + 4.0 * rest, 3.0 * 0.9 + 5.0 * rest]);
        // The fused inference factors follow the new statistics.
        assert_eq!(bn.factors().0[0], 2.0 * rsqrt(stats[1] + 0.0));
    }

    #[test]
    fn a_frozen_layer_runs_in_inference_mode() {
        let mut bn = BatchNorm::<3>::from_parts(
            [1.0, 2.0, 0.5],
            [0.0, 1.0, -1.0],
            [0.5, -0.5, 2.0],
            [4.0, 0.25, 1.0],
            1e-3,
        )
        .frozen(true);
        let before = bn.clone();
        let xs = [tensor::<3, 2>(&[1.0, 2.0, 3.0, -1.0, 0.0, 4.0]); 2];
        let mut ys = [zeros::<3, 2>(); 2];
        let mut caches = [[[0.0; 3]; 2]; 2];
        bn.forward_train_batch(&xs, &mut ys, &mut caches, &mut TrainCtx::new(0));
        assert_eq!(ys[0], bn.forward(&xs[0]));
        let dys = [tensor::<3, 2>(&[1.0; 6]); 2];
        let mut dxs = [zeros::<3, 2>(); 2];
        bn.backward_batch(&xs, &ys, &mut caches, &dys, Some(&mut dxs), None);
        let a = *bn.factors().0;
        assert_eq!(dxs[1].as_slice(), &[a[0], a[1], a[2], a[0], a[1], a[2]]);
        Train::<Tensor<3, 2>>::update_state(&mut bn, &caches);
        assert_eq!(bn, before);
    }

    #[test]
    fn the_factors_follow_an_optimizer_step() {
        let mut bn = BatchNorm::<2>::from_parts([1.0, 1.0], [0.0, 0.0], [0.0; 2], [1.0; 2], 0.0);
        assert_eq!(bn.trainable_count(), 2);
        bn.trainable_mut(&mut |v| v[0] += 1.0);
        bn.after_update();
        assert_eq!(bn.factors(), (&[2.0, 1.0], &[1.0, 0.0]));
        assert_eq!(
            BatchNorm::<2, 1, false, false>::default().trainable_count(),
            0
        );
    }
}
