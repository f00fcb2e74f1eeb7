//! `MaxPooling1D/2D/3D` and `AveragePooling1D/2D/3D`: one N-d window reduction over each channel.

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::layer::{no_weights, Layer, Weights};
use crate::shape::{AxisGeometry, NoAxis, Window};
use crate::train::{no_params, stateless_train, Params};
use crate::Tensor;

/// Keras `MaxPooling1D/2D/3D(pool_size, strides=None, padding="valid")`: the maximum of each
/// window, per channel. With `"same"` the padding is never selected (Keras pads with −∞).
///
/// Each spatial axis is an [`Axis<N, POOL, STRIDE, 1, P>`](crate::shape::Axis) (dilation 1,
/// padding `Valid` or `Same`), or [`NoAxis`] for the axes a lower-rank layer
/// does not have; `POUT` is the number of output positions, checked at compile time. Use the
/// aliases [`MaxPool1d`], [`MaxPool2d`], [`MaxPool3d`].
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`); output: `Tensor<C, POUT>`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Same};
/// use static_keras_runtime::{Layer, MaxPool1d, Tensor};
/// // Keras: MaxPooling1D(2, strides=2, padding="same") on [-1, -2, -3, -4, -5].
/// let pool = MaxPool1d::<1, Axis<5, 2, 2, 1, Same>, 3>::default();
/// let y = pool.forward(&Tensor::<1, 5>::from_slice(&[-1.0, -2.0, -3.0, -4.0, -5.0]));
/// assert_eq!(y.as_slice(), &[-1.0, -3.0, -5.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaxPool<const C: usize, D, H, W, const POUT: usize>(PhantomData<(D, H, W)>);

zeroable!([const C: usize, D, H, W, const POUT: usize] MaxPool<C, D, H, W, POUT> => MaxPool(marker));

impl<const C: usize, D, H, W, const POUT: usize> MaxPool<C, D, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Keras `AveragePooling1D/2D/3D(pool_size, strides=None, padding="valid")`: the mean of each
/// window, per channel. With `"same"` it divides by the number of real (non-padding) elements
/// in the window, as Keras does.
///
/// Axes as for [`MaxPool`]. Use the aliases [`AvgPool1d`], [`AvgPool2d`], [`AvgPool3d`].
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`); output: `Tensor<C, POUT>`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Same};
/// use static_keras_runtime::{AvgPool1d, Layer, Tensor};
/// // Keras: AveragePooling1D(3, strides=1, padding="same") on [1, 2, 3, 4, 5].
/// let pool = AvgPool1d::<1, Axis<5, 3, 1, 1, Same>, 5>::default();
/// let y = pool.forward(&Tensor::<1, 5>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0]));
/// assert_eq!(y.as_slice(), &[1.5, 2.0, 3.0, 4.0, 4.5]);
/// ```
///
/// A window that does not fit its input does not build:
///
/// ```compile_fail
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{AvgPool1d, Layer, Tensor};
/// let pool = AvgPool1d::<1, Axis<2, 3, 3, 1, Valid>, 1>::default();
/// let y = pool.forward(&Tensor::<1, 2>::zeros());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AvgPool<const C: usize, D, H, W, const POUT: usize>(PhantomData<(D, H, W)>);

zeroable!([const C: usize, D, H, W, const POUT: usize] AvgPool<C, D, H, W, POUT> => AvgPool(marker));

impl<const C: usize, D, H, W, const POUT: usize> AvgPool<C, D, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Keras `MaxPooling1D`: input `(steps, C)`.
pub type MaxPool1d<const C: usize, W, const POUT: usize> = MaxPool<C, NoAxis, NoAxis, W, POUT>;
/// Keras `MaxPooling2D`: input `(rows, cols, C)`.
pub type MaxPool2d<const C: usize, H, W, const POUT: usize> = MaxPool<C, NoAxis, H, W, POUT>;
/// Keras `MaxPooling3D`: input `(depth, rows, cols, C)`.
pub type MaxPool3d<const C: usize, D, H, W, const POUT: usize> = MaxPool<C, D, H, W, POUT>;
/// Keras `AveragePooling1D`: input `(steps, C)`.
pub type AvgPool1d<const C: usize, W, const POUT: usize> = AvgPool<C, NoAxis, NoAxis, W, POUT>;
/// Keras `AveragePooling2D`: input `(rows, cols, C)`.
pub type AvgPool2d<const C: usize, H, W, const POUT: usize> = AvgPool<C, NoAxis, H, W, POUT>;
/// Keras `AveragePooling3D`: input `(depth, rows, cols, C)`.
pub type AvgPool3d<const C: usize, D, H, W, const POUT: usize> = AvgPool<C, D, H, W, POUT>;

/// The axes of a pooling layer, checked: dilation 1, absent axes first, `POUT` and `PIN` right.
const fn axes<D: Window, H: Window, W: Window>(pin: usize, pout: usize) -> [AxisGeometry; 3] {
    let axes = [D::AXIS, H::AXIS, W::AXIS];
    assert!(
        W::PRESENT && (H::PRESENT || !D::PRESENT),
        "the absent axes (NoAxis) of a pooling layer come first"
    );
    assert!(
        axes[0].dilation == 1 && axes[1].dilation == 1 && axes[2].dilation == 1,
        "pooling windows have dilation 1"
    );
    assert!(
        pin == axes[0].n * axes[1].n * axes[2].n,
        "the input has a different number of positions than the axes say"
    );
    assert!(
        pout == axes[0].out * axes[1].out * axes[2].out,
        "POUT must be the number of output positions"
    );
    axes
}

/// [`pool`] with the widest vectors the CPU has: compiled for AVX-512 (or AVX2) where the SIMD
/// kernels run, the channel loops take 16 (or 8) lanes rather than SSE's 4 (NEON's are the
/// baseline's 4). The same operations in the same order per value, so the same bits.
fn pool_dispatch<const C: usize>(axes: &[AxisGeometry; 3], x: &[f32], y: &mut [f32], max: bool) {
    #[cfg(simd_kernels)]
    {
        let call = Pool::<C> {
            axes,
            x,
            y: &mut *y,
            max,
        };
        if crate::kernels::run_simd(call).is_some() {
            return;
        }
    }
    pool::<C>(axes, x, y, max)
}

/// [`pool`]'s arguments, run as a SIMD kernel: the portable code compiled with the instruction
/// set's target features (the vectors themselves are the compiler's).
#[cfg(simd_kernels)]
struct Pool<'a, const C: usize> {
    axes: &'a [AxisGeometry; 3],
    x: &'a [f32],
    y: &'a mut [f32],
    max: bool,
}

#[cfg(simd_kernels)]
impl<const C: usize> crate::kernels::vector::Kernel for Pool<'_, C> {
    type Output = ();

    #[inline(always)]
    fn run<V: crate::kernels::vector::Vector>(self, _: V::Token) {
        pool::<C>(self.axes, self.x, self.y, self.max)
    }
}

/// Reduces every window of `x` into `y` (channels_last, `C` values per position).
#[inline(always)]
fn pool<const C: usize>(axes: &[AxisGeometry; 3], x: &[f32], y: &mut [f32], max: bool) {
    let [ad, ah, aw] = *axes;
    let (columns, rest) = x.as_chunks::<C>();
    let (outputs, tail) = y.as_chunks_mut::<C>();
    assert!(rest.is_empty() && tail.is_empty() && outputs.len() == ad.out * ah.out * aw.out);
    let mut outputs = outputs.iter_mut();
    for od in 0..ad.out {
        let (d0, d1) = inside(ad, od);
        for oh in 0..ah.out {
            let (h0, h1) = inside(ah, oh);
            for ow in 0..aw.out {
                let (w0, w1) = inside(aw, ow);
                let mut acc = [if max { f32::NEG_INFINITY } else { 0.0 }; C];
                for kd in d0..d1 {
                    let id = od * ad.stride + kd - ad.before;
                    for kh in h0..h1 {
                        let ih = oh * ah.stride + kh - ah.before;
                        let row = (id * ah.n + ih) * aw.n;
                        let first = row + ow * aw.stride + w0 - aw.before;
                        for column in &columns[first..first + (w1 - w0)] {
                            if max {
                                for (o, &v) in acc.iter_mut().zip(column) {
                                    *o = if v > *o { v } else { *o };
                                }
                            } else {
                                for (o, &v) in acc.iter_mut().zip(column) {
                                    *o += v;
                                }
                            }
                        }
                    }
                }
                if !max {
                    // Real elements only: with "same", padding is not counted (Keras divides
                    // by a window count); with "valid" this is the pool volume.
                    let count = ((d1 - d0) * (h1 - h0) * (w1 - w0)) as f32;
                    acc.iter_mut().for_each(|o| *o /= count);
                }
                *outputs.next().expect("y holds every output position") = acc;
            }
        }
    }
}

impl<const C: usize, D: Window, H: Window, W: Window, const POUT: usize, const PIN: usize>
    Layer<Tensor<C, PIN>> for MaxPool<C, D, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = Tensor::<C, POUT>::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let axes = const { axes::<D, H, W>(PIN, POUT) };
        pool_dispatch::<C>(&axes, x.as_slice(), y.as_mut_slice(), true);
    }
}

impl<const C: usize, D: Window, H: Window, W: Window, const POUT: usize, const PIN: usize>
    Layer<Tensor<C, PIN>> for AvgPool<C, D, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = Tensor::<C, POUT>::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let axes = const { axes::<D, H, W>(PIN, POUT) };
        pool_dispatch::<C>(&axes, x.as_slice(), y.as_mut_slice(), false);
    }
}

no_weights!(<const C: usize, D, H, W, const POUT: usize> Weights for MaxPool<C, D, H, W, POUT>);
no_weights!(<const C: usize, D, H, W, const POUT: usize> Weights for AvgPool<C, D, H, W, POUT>);

/// The taps `lo..hi` of output `o` inside the input, without the divisions of
/// `AxisGeometry::taps_inside` (pooling windows have dilation 1).
#[inline(always)]
fn inside(a: AxisGeometry, o: usize) -> (usize, usize) {
    let start = o * a.stride;
    let lo = a.before.saturating_sub(start);
    let hi = (a.n + a.before).saturating_sub(start).min(a.k);
    (lo, hi.max(lo))
}

/// Adds `∂x` of [`pool`] given `dy` into `dx`. Max: each output's gradient goes to the first
/// maximum of its window in row-major window order, as the JAX backend's `reduce_window` max
/// gradient (XLA's select-and-scatter keeping the selected element while it is `>=` the next)
/// sends it; overlapping windows add up. Average:
/// spread evenly over the window's real (non-padding) elements.
fn pool_backward<const C: usize>(
    axes: &[AxisGeometry; 3],
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    max: bool,
) {
    let [ad, ah, aw] = *axes;
    let (columns, _) = x.as_chunks::<C>();
    let (grads, _) = dx.as_chunks_mut::<C>();
    let (outputs, _) = dy.as_chunks::<C>();
    let mut outputs = outputs.iter();
    for od in 0..ad.out {
        let (d0, d1) = inside(ad, od);
        for oh in 0..ah.out {
            let (h0, h1) = inside(ah, oh);
            for ow in 0..aw.out {
                let (w0, w1) = inside(aw, ow);
                let g = outputs.next().expect("dy holds every output position");
                let count = ((d1 - d0) * (h1 - h0) * (w1 - w0)) as f32;
                let mut best = [f32::NEG_INFINITY; C];
                let mut at = [usize::MAX; C];
                for kd in d0..d1 {
                    let id = od * ad.stride + kd - ad.before;
                    for kh in h0..h1 {
                        let ih = oh * ah.stride + kh - ah.before;
                        let first = (id * ah.n + ih) * aw.n + ow * aw.stride + w0 - aw.before;
                        for p in first..first + (w1 - w0) {
                            if max {
                                for c in 0..C {
                                    let v = columns[p][c];
                                    if at[c] == usize::MAX || v > best[c] {
                                        (best[c], at[c]) = (v, p);
                                    }
                                }
                            } else {
                                for (d, &g) in grads[p].iter_mut().zip(g) {
                                    *d += g / count;
                                }
                            }
                        }
                    }
                }
                if max {
                    for (c, &p) in at.iter().enumerate() {
                        grads[p][c] += g[c];
                    }
                }
            }
        }
    }
}

/// [`pool_backward`] with the SIMD kernels: the same selection and the same additions in the same
/// order, so the same bits, written without the portable loop's per-value branch and scatter so
/// that the channel loops vectorize (compiled for AVX-512 or AVX2, 16 or 8 lanes):
/// max-pooling finds each channel's first maximum as a tap number (a select per lane), then adds
/// `dy` into the tap of each lane that holds it (a select per lane, not a scatter). The portable
/// path keeps [`pool_backward`] (the microcontroller's code and bits).
fn pool_backward_dispatch<const C: usize>(
    axes: &[AxisGeometry; 3],
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    max: bool,
) {
    #[cfg(simd_kernels)]
    {
        let call = PoolBackward::<C> {
            axes,
            x,
            dy,
            dx: &mut *dx,
            max,
        };
        if crate::kernels::run_simd(call).is_some() {
            return;
        }
    }
    pool_backward::<C>(axes, x, dy, dx, max)
}

/// [`pool_backward_lanes`]'s arguments, run as a SIMD kernel.
#[cfg(simd_kernels)]
struct PoolBackward<'a, const C: usize> {
    axes: &'a [AxisGeometry; 3],
    x: &'a [f32],
    dy: &'a [f32],
    dx: &'a mut [f32],
    max: bool,
}

#[cfg(simd_kernels)]
impl<const C: usize> crate::kernels::vector::Kernel for PoolBackward<'_, C> {
    type Output = ();

    #[inline(always)]
    fn run<V: crate::kernels::vector::Vector>(self, _: V::Token) {
        pool_backward_lanes::<C>(self.axes, self.x, self.dy, self.dx, self.max)
    }
}

/// [`pool_backward`] without branches or scatters inside the channel loops (see
/// [`pool_backward_dispatch`]).
#[cfg(simd_kernels)]
#[inline(always)]
fn pool_backward_lanes<const C: usize>(
    axes: &[AxisGeometry; 3],
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    max: bool,
) {
    let [ad, ah, aw] = *axes;
    let (columns, rest) = x.as_chunks::<C>();
    let (grads, tail) = dx.as_chunks_mut::<C>();
    let (outputs, left) = dy.as_chunks::<C>();
    assert!(
        rest.is_empty()
            && tail.is_empty()
            && left.is_empty()
            && grads.len() == columns.len()
            && outputs.len() == ad.out * ah.out * aw.out
    );
    let mut outputs = outputs.iter();
    for od in 0..ad.out {
        let (d0, d1) = inside(ad, od);
        for oh in 0..ah.out {
            let (h0, h1) = inside(ah, oh);
            for ow in 0..aw.out {
                let (w0, w1) = inside(aw, ow);
                let g = outputs.next().expect("dy holds every output position");
                // The window's positions in row-major window order.
                let taps = (d0..d1).flat_map(|kd| {
                    let id = od * ad.stride + kd - ad.before;
                    (h0..h1).flat_map(move |kh| {
                        let ih = oh * ah.stride + kh - ah.before;
                        let first = (id * ah.n + ih) * aw.n + ow * aw.stride + w0 - aw.before;
                        first..first + (w1 - w0)
                    })
                });
                if max {
                    // The first maximum of each channel, as its tap number in window order: the
                    // first tap is taken whatever it holds, a later one only when greater (as
                    // `pool_backward`'s `at == usize::MAX || v > best`).
                    let mut best = [f32::NEG_INFINITY; C];
                    let mut at = [0u32; C];
                    for (tap, p) in taps.clone().enumerate() {
                        let column = &columns[p];
                        if tap == 0 {
                            best = *column;
                            continue;
                        }
                        let tap = tap as u32;
                        for ((b, a), &v) in best.iter_mut().zip(&mut at).zip(column) {
                            let take = v > *b;
                            *b = if take { v } else { *b };
                            *a = if take { tap } else { *a };
                        }
                    }
                    for (tap, p) in taps.enumerate() {
                        let tap = tap as u32;
                        for ((d, &a), &g) in grads[p].iter_mut().zip(&at).zip(g) {
                            *d = if a == tap { *d + g } else { *d };
                        }
                    }
                } else {
                    let count = ((d1 - d0) * (h1 - h0) * (w1 - w0)) as f32;
                    for p in taps {
                        for (d, &g) in grads[p].iter_mut().zip(g) {
                            *d += g / count;
                        }
                    }
                }
            }
        }
    }
}

stateless_train! {
    impl[const C: usize, D: Window, H: Window, W: Window, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for MaxPool<C, D, H, W, POUT>;
    /// The maxima are found again from `x` (nothing cached).
    fn backward(&self, x, _y, dy, dx) {
        if let Some(dx) = dx {
            let axes = const { axes::<D, H, W>(PIN, POUT) };
            pool_backward_dispatch::<C>(&axes, x.as_slice(), dy.as_slice(), dx.as_mut_slice(), true);
        }
    }
}

stateless_train! {
    impl[const C: usize, D: Window, H: Window, W: Window, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for AvgPool<C, D, H, W, POUT>;
    fn backward(&self, x, _y, dy, dx) {
        if let Some(dx) = dx {
            let axes = const { axes::<D, H, W>(PIN, POUT) };
            pool_backward_dispatch::<C>(&axes, x.as_slice(), dy.as_slice(), dx.as_mut_slice(), false);
        }
    }
}

no_params!(<const C: usize, D, H, W, const POUT: usize> Params for MaxPool<C, D, H, W, POUT>);
no_params!(<const C: usize, D, H, W, const POUT: usize> Params for AvgPool<C, D, H, W, POUT>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Axis, Same, Valid};
    use crate::train::{Train, TrainCtx};

    #[test]
    fn two_d_windows_over_the_edge() {
        // (3, 3, 2): channel 0 = 1..9, channel 1 = -(1..9); 2x2 windows, stride 2, "same":
        // output (2, 2), the bottom/right windows hang over the edge.
        let mut x = Tensor::<2, 9>::zeros();
        for p in 0..9 {
            x[[p, 0]] = p as f32 + 1.0;
            x[[p, 1]] = -(p as f32) - 1.0;
        }
        type A = Axis<3, 2, 2, 1, Same>;
        let max = MaxPool2d::<2, A, A, 4>::default().forward(&x);
        assert_eq!(
            max.as_slice(),
            &[5.0, -1.0, 6.0, -3.0, 8.0, -7.0, 9.0, -9.0]
        );
        let avg = AvgPool2d::<2, A, A, 4>::default().forward(&x);
        // windows: {1,2,4,5} {3,6} {7,8} {9}
        assert_eq!(
            avg.as_slice(),
            &[3.0, -3.0, 4.5, -4.5, 7.5, -7.5, 9.0, -9.0]
        );
        // "valid" with overlapping windows (pool 2, stride 1): (2, 2) outputs.
        type V = Axis<3, 2, 1, 1, Valid>;
        let avg = AvgPool2d::<2, V, V, 4>::default().forward(&x);
        assert_eq!(&avg.as_slice()[..4], &[3.0, -3.0, 4.0, -4.0]);
    }

    /// The SIMD builds (each instruction set this CPU has) compute the portable bits: the same
    /// operations in the same order per value, on windows over the edge and a channel count that
    /// is not a multiple of any vector width.
    #[cfg(simd_kernels)]
    #[test]
    fn the_simd_builds_compute_the_portable_bits() {
        use crate::shape::Padding;
        use std::{vec, vec::Vec};
        const C: usize = 19;
        let ax = |n, k, s, p| AxisGeometry::resolve(n, k, s, 1, p).unwrap();
        let one = ax(1, 1, 1, Padding::Valid);
        for axes in [
            [one, ax(7, 3, 2, Padding::Same), ax(9, 2, 1, Padding::Valid)],
            [
                ax(3, 2, 1, Padding::Same),
                ax(4, 3, 1, Padding::Same),
                ax(5, 2, 2, Padding::Same),
            ],
        ] {
            let pin: usize = axes.iter().map(|a| a.n).product();
            let pout: usize = axes.iter().map(|a| a.out).product();
            let x: Vec<f32> = (0..pin * C)
                .map(|i| ((i * 7919) % 1000) as f32 / 333.0 - 1.5)
                .collect();
            for max in [false, true] {
                let mut want = vec![0.0; pout * C];
                pool::<C>(&axes, &x, &mut want, max);
                for isa in crate::kernels::isas() {
                    let mut got = vec![7.0; pout * C];
                    let call = Pool::<C> {
                        axes: &axes,
                        x: &x,
                        y: &mut got,
                        max,
                    };
                    crate::kernels::run(isa, call).expect("the CPU has it");
                    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "{isa:?} max {max}");
                }
            }
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        // Max pooling is piecewise linear: the seeds give inputs whose window maxima are further
        // apart than the difference step (seed 1 of the first case has two within it).
        type S = Axis<5, 2, 2, 1, Same>;
        type V = Axis<4, 3, 1, 1, Valid>;
        gradients::<_, Tensor<3, 20>>(&MaxPool2d::<3, S, V, 6>::new(), 11);
        gradients::<_, Tensor<3, 20>>(&AvgPool2d::<3, S, V, 6>::new(), 2);
        type T = Axis<7, 3, 2, 1, Same>;
        gradients::<_, Tensor<2, 7>>(&MaxPool1d::<2, T, 4>::new(), 3);
        gradients::<_, Tensor<2, 7>>(&AvgPool1d::<2, T, 4>::new(), 4);
        type Z = Axis<3, 2, 1, 1, Valid>;
        gradients::<_, Tensor<2, 45>>(&MaxPool3d::<2, Z, Z, S, 12>::new(), 5);
        gradients::<_, Tensor<2, 45>>(&AvgPool3d::<2, Z, Z, S, 12>::new(), 6);
    }

    /// The vectorizable backward (the SIMD kernels' path) gives the portable loop's bits: ties
    /// (inputs on a coarse grid), a NaN, overlapping windows, windows over the edge, `dx`
    /// accumulated into (including `-0.0`, which adding `+0.0` would turn into `+0.0`).
    #[cfg(simd_kernels)]
    #[test]
    fn simd_backward_has_the_portable_bits() {
        fn case<const C: usize, D: Window, H: Window, W: Window>(pin: usize, pout: usize) {
            let axes = axes::<D, H, W>(pin, pout);
            let value =
                |i: usize, seed: usize| (((i * 2654435761 + seed * 40503) >> 7) % 7) as f32 - 3.0;
            let mut x: std::vec::Vec<f32> = (0..pin * C).map(|i| value(i, 1)).collect();
            x[C + 1] = f32::NAN;
            let dy: std::vec::Vec<f32> = (0..pout * C).map(|i| value(i, 2) * 0.37).collect();
            let dx0: std::vec::Vec<f32> = (0..pin * C)
                .map(|i| if i % 5 == 0 { -0.0 } else { value(i, 3) * 0.11 })
                .collect();
            for max in [true, false] {
                let (mut got, mut want) = (dx0.clone(), dx0.clone());
                pool_backward_lanes::<C>(&axes, &x, &dy, &mut got, max);
                pool_backward::<C>(&axes, &x, &dy, &mut want, max);
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "max {max}, C {C}");
            }
        }
        type S = Axis<5, 2, 2, 1, Same>;
        type V = Axis<4, 3, 1, 1, Valid>;
        case::<3, NoAxis, S, V>(20, 6);
        case::<32, NoAxis, S, V>(20, 6);
        type T = Axis<7, 3, 2, 1, Same>;
        case::<17, NoAxis, NoAxis, T>(7, 4);
        type P = Axis<8, 2, 2, 1, Valid>;
        case::<64, NoAxis, P, P>(64, 16);
        type Z = Axis<3, 2, 1, 1, Valid>;
        case::<2, Z, Z, S>(45, 12);
    }

    /// What `jax.grad` gives through Keras's `MaxPooling2D(2, strides=1)` on
    /// `[[1, 3, 3], [3, 2, 3], [0, 3, 1]]` with output weights 1, 2, 3, …: each window's
    /// gradient goes to its first maximum in row-major order.
    #[test]
    fn max_gradient_goes_to_the_first_maximum_as_in_jax() {
        let x = Tensor::<1, 9>::from_slice(&[1.0, 3.0, 3.0, 3.0, 2.0, 3.0, 0.0, 3.0, 1.0]);
        let run = |pool: &dyn Fn(&Tensor<1, 9>, &mut Tensor<1, 9>)| {
            let mut dx = Tensor::<1, 9>::zeros();
            pool(&x, &mut dx);
            dx
        };
        type V = Axis<3, 2, 1, 1, Valid>;
        let valid = run(&|x, dx| {
            let dy = Tensor::<1, 4>::from_slice(&[1.0, 2.0, 3.0, 4.0]);
            let (mut y, layer) = (Tensor::zeros(), MaxPool2d::<1, V, V, 4>::new());
            layer.forward_train(x, &mut y, &mut (), &mut TrainCtx::new(0));
            layer.backward(x, &y, &mut (), &dy, Some(dx), None);
        });
        assert_eq!(
            valid.as_slice(),
            &[0.0, 3.0, 0.0, 3.0, 0.0, 4.0, 0.0, 0.0, 0.0]
        );
        type S = Axis<3, 2, 1, 1, Same>;
        let same = run(&|x, dx| {
            let w: [f32; 9] = core::array::from_fn(|i| i as f32 + 1.0);
            let dy = Tensor::<1, 9>::from_slice(&w);
            let (mut y, layer) = (Tensor::zeros(), MaxPool2d::<1, S, S, 9>::new());
            layer.forward_train(x, &mut y, &mut (), &mut TrainCtx::new(0));
            layer.backward(x, &y, &mut (), &dy, Some(dx), None);
        });
        assert_eq!(
            same.as_slice(),
            &[0.0, 3.0, 3.0, 4.0, 0.0, 11.0, 0.0, 15.0, 9.0]
        );
    }
}
