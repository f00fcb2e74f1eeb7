//! `UpSampling1D/2D/3D`: every spatial axis enlarged by an integer factor, by repetition
//! (`"nearest"`) or, for `UpSampling2D`, by bilinear interpolation.

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::layer::{no_weights, Layer, Weights};
use crate::shape::NoAxis;
use crate::train::{no_params, stateless_train, Params};
use crate::Tensor;

/// One spatial axis of an up-sampling layer, as a type: its lengths are constants the compiler
/// checks.
pub trait FactorAxis {
    /// Whether the axis exists in Keras's shape ([`NoAxis`] fills the leading axes of the
    /// lower-rank layers, so that one kernel serves 1D, 2D and 3D).
    const PRESENT: bool;
    /// Input length.
    const N: usize;
    /// The factor (Keras `size`): the output is `N · SIZE` long.
    const SIZE: usize;
}

/// A spatial axis of input length `N` enlarged `SIZE` times.
///
/// ```
/// use static_keras_runtime::{Factor, FactorAxis};
/// type Cols = Factor<5, 3>; // UpSampling2D(size=(…, 3)) along 5 columns: 15 out
/// assert_eq!(Cols::N * Cols::SIZE, 15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factor<const N: usize, const SIZE: usize>;

impl<const N: usize, const SIZE: usize> FactorAxis for Factor<N, SIZE> {
    const PRESENT: bool = true;
    const N: usize = N;
    const SIZE: usize = SIZE;
}

impl FactorAxis for NoAxis {
    const PRESENT: bool = false;
    const N: usize = 1;
    const SIZE: usize = 1;
}

/// Keras `UpSampling1D(size=2)`, `UpSampling2D(size=(2, 2), interpolation="nearest")`,
/// `UpSampling3D(size=(2, 2, 2))`: every position repeated `SIZE` times along each spatial
/// axis, `y[i, j] = x[i / SIZE_H, j / SIZE_W]`.
///
/// Each spatial axis is a [`Factor<N, SIZE>`](Factor), or [`NoAxis`] for the axes a lower-rank
/// layer does not have; `POUT` is the number of output positions (`Π N · SIZE`), checked at
/// compile time. Use the aliases [`UpSample1d`], [`UpSample2d`], [`UpSample3d`]; bilinear
/// interpolation is [`UpSampleBilinear2d`].
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`, `PIN = Π N`); output: `Tensor<C, POUT>`.
///
/// ```
/// use static_keras_runtime::{zeros, Factor, Layer, Tensor, UpSample2d};
/// // Keras: UpSampling2D((2, 1)) on a (1, 2, 1) input [1, 2]: 2 rows of [1, 2].
/// let mut x: Tensor<1, 2> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0]);
/// let y: Tensor<1, 4> = UpSample2d::<1, Factor<1, 2>, Factor<2, 1>, 4>::new().forward(&x);
/// assert_eq!(y.as_slice(), &[1.0, 2.0, 1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpSample<const C: usize, D, H, W, const POUT: usize>(PhantomData<(D, H, W)>);

zeroable!([const C: usize, D, H, W, const POUT: usize] UpSample<C, D, H, W, POUT> => UpSample(marker));

impl<const C: usize, D, H, W, const POUT: usize> UpSample<C, D, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Keras `UpSampling1D`: input `(steps, C)`.
pub type UpSample1d<const C: usize, W, const POUT: usize> = UpSample<C, NoAxis, NoAxis, W, POUT>;
/// Keras `UpSampling2D(interpolation="nearest")`: input `(rows, cols, C)`.
pub type UpSample2d<const C: usize, H, W, const POUT: usize> = UpSample<C, NoAxis, H, W, POUT>;
/// Keras `UpSampling3D`: input `(depth, rows, cols, C)`.
pub type UpSample3d<const C: usize, D, H, W, const POUT: usize> = UpSample<C, D, H, W, POUT>;

/// Keras `UpSampling2D(size, interpolation="bilinear")`: linear interpolation along the rows,
/// then along the columns, as `jax.image.resize` computes it (the JAX backend's): half-pixel
/// centres, the edge pixels repeated beyond the border, no antialiasing.
///
/// Output `o` of an axis enlarged `SIZE` times samples the input at
/// `s = (o + 0.5) · (1 / SIZE) − 0.5`, between `i0 = ⌊s⌋` and `i0 + 1` with weights
/// `1 − (s − i0)` and `1 − (i0 + 1 − s)`, each divided by their sum; where one of the two falls
/// outside the input the other one alone gives the value.
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(rows, cols, C)`); output: `Tensor<C, POUT>`,
///   `POUT = rows · SIZE_H · cols · SIZE_W`.
///
/// ```
/// use static_keras_runtime::{zeros, Factor, Layer, Tensor, UpSampleBilinear2d};
/// // Keras: UpSampling2D((1, 2), interpolation="bilinear") on a (1, 2, 1) input [0, 4].
/// let mut x: Tensor<1, 2> = zeros();
/// x.as_mut_slice().copy_from_slice(&[0.0, 4.0]);
/// let up = UpSampleBilinear2d::<1, Factor<1, 1>, Factor<2, 2>, 4>::new();
/// assert_eq!(up.forward(&x).as_slice(), &[0.0, 1.0, 3.0, 4.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpSampleBilinear2d<const C: usize, H, W, const POUT: usize>(PhantomData<(H, W)>);

zeroable!([const C: usize, H, W, const POUT: usize] UpSampleBilinear2d<C, H, W, POUT> => UpSampleBilinear2d(marker));

impl<const C: usize, H, W, const POUT: usize> UpSampleBilinear2d<C, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// One axis, resolved: input length and factor.
#[derive(Clone, Copy)]
struct Axis {
    n: usize,
    size: usize,
}

const fn axis<A: FactorAxis>() -> Axis {
    assert!(A::N > 0, "a spatial axis has at least one element");
    assert!(A::SIZE > 0, "an up-sampling factor is positive");
    Axis {
        n: A::N,
        size: A::SIZE,
    }
}

/// The axes of an up-sampling layer, checked: absent axes first, `PIN` and `POUT` right.
const fn axes<const C: usize, D: FactorAxis, H: FactorAxis, W: FactorAxis>(
    pin: usize,
    pout: usize,
) -> [Axis; 3] {
    assert!(C > 0, "a tensor has at least one channel");
    assert!(
        W::PRESENT && (H::PRESENT || !D::PRESENT),
        "the absent axes (NoAxis) of an up-sampling layer come first"
    );
    let axes = [axis::<D>(), axis::<H>(), axis::<W>()];
    assert!(
        pin == axes[0].n * axes[1].n * axes[2].n,
        "the input has a different number of positions than the axes say"
    );
    assert!(
        pout == axes[0].n * axes[0].size * axes[1].n * axes[1].size * axes[2].n * axes[2].size,
        "POUT must be the number of output positions"
    );
    axes
}

/// Nearest: each input row is spread once into its first output row (every pixel's `C` values
/// copied `size_w` times); that row is then copied whole to the rows that repeat it, and each
/// finished plane to the planes that repeat it.
fn nearest<const C: usize>(axes: &[Axis; 3], x: &[f32], y: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let row_out = aw.n * aw.size * C;
    let plane_out = ah.n * ah.size * row_out;
    let (pixels, _) = x.as_chunks::<C>();
    let mut at = 0; // where the next output row starts
    for id in 0..ad.n {
        let plane = at;
        for ih in 0..ah.n {
            let row = at;
            let src = &pixels[(id * ah.n + ih) * aw.n..][..aw.n];
            let (outs, _) = y[row..row + row_out].as_chunks_mut::<C>();
            for (pixel, copies) in src.iter().zip(outs.chunks_exact_mut(aw.size)) {
                copies.fill(*pixel);
            }
            for r in 1..ah.size {
                y.copy_within(row..row + row_out, row + r * row_out);
            }
            at += ah.size * row_out;
        }
        for r in 1..ad.size {
            y.copy_within(plane..plane + plane_out, plane + r * plane_out);
        }
        at += (ad.size - 1) * plane_out;
    }
}

/// Where output `o` of an axis samples the input: the two input indices and their weights, as
/// `jax.image.resize` weighs them (a triangle kernel, normalised by the weights' sum; a tap
/// outside the input has no weight, so the other one gets all of it).
#[inline(always)]
fn taps(a: Axis, o: usize) -> (usize, usize, f32, f32) {
    let s = (o as f32 + 0.5) * (1.0 / a.size as f32) - 0.5;
    if s <= 0.0 {
        return (0, 0, 1.0, 0.0);
    }
    let i0 = s as usize; // ⌊s⌋, s > 0
    if i0 + 1 >= a.n {
        return (a.n - 1, a.n - 1, 1.0, 0.0);
    }
    let w0 = 1.0 - (s - i0 as f32);
    let w1 = 1.0 - ((i0 + 1) as f32 - s);
    let total = w0 + w1;
    (i0, i0 + 1, w0 / total, w1 / total)
}

/// Bilinear: per output pixel, two row interpolations (at its two source columns) and one
/// column interpolation, over the `C` contiguous channels.
fn bilinear<const C: usize>(ah: Axis, aw: Axis, x: &[f32], y: &mut [f32]) {
    let (pixels, _) = x.as_chunks::<C>();
    let (outs, _) = y.as_chunks_mut::<C>();
    let mut outs = outs.iter_mut();
    for oh in 0..ah.n * ah.size {
        let (h0, h1, a0, a1) = taps(ah, oh);
        let (top, bottom) = (&pixels[h0 * aw.n..][..aw.n], &pixels[h1 * aw.n..][..aw.n]);
        for ow in 0..aw.n * aw.size {
            let (w0, w1, b0, b1) = taps(aw, ow);
            let out = outs.next().expect("y holds every output position");
            let columns = top[w0]
                .iter()
                .zip(&bottom[w0])
                .zip(&top[w1])
                .zip(&bottom[w1]);
            for (o, (((&t0, &u0), &t1), &u1)) in out.iter_mut().zip(columns) {
                let left = a0 * t0 + a1 * u0;
                let right = a0 * t1 + a1 * u1;
                *o = b0 * left + b1 * right;
            }
        }
    }
}

impl<
        const C: usize,
        D: FactorAxis,
        H: FactorAxis,
        W: FactorAxis,
        const POUT: usize,
        const PIN: usize,
    > Layer<Tensor<C, PIN>> for UpSample<C, D, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let axes = const { axes::<C, D, H, W>(PIN, POUT) };
        nearest::<C>(&axes, x.as_slice(), y.as_mut_slice());
    }
}

impl<const C: usize, H: FactorAxis, W: FactorAxis, const POUT: usize, const PIN: usize>
    Layer<Tensor<C, PIN>> for UpSampleBilinear2d<C, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let [_, ah, aw] = const { axes::<C, NoAxis, H, W>(PIN, POUT) };
        bilinear::<C>(ah, aw, x.as_slice(), y.as_mut_slice());
    }
}

no_weights!(<const C: usize, D, H, W, const POUT: usize> Weights for UpSample<C, D, H, W, POUT>);
no_weights!(<const C: usize, H, W, const POUT: usize> Weights for UpSampleBilinear2d<C, H, W, POUT>);

/// Adds into each input pixel of `dx` the sum of `dy` over the block of outputs [`nearest`]
/// repeated it to.
fn nearest_backward<const C: usize>(axes: &[Axis; 3], dy: &[f32], dx: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let (outs, _) = dy.as_chunks::<C>();
    let (grads, _) = dx.as_chunks_mut::<C>();
    let (oh_n, ow_n) = (ah.n * ah.size, aw.n * aw.size);
    for (o, out) in outs.iter().enumerate() {
        let (od, oh, ow) = (o / (oh_n * ow_n), o / ow_n % oh_n, o % ow_n);
        let i = ((od / ad.size) * ah.n + oh / ah.size) * aw.n + ow / aw.size;
        for (d, g) in grads[i].iter_mut().zip(out) {
            *d += g;
        }
    }
}

/// Adds into `dx` each output's gradient times the weight [`bilinear`] gave each of its four
/// source pixels.
fn bilinear_backward<const C: usize>(ah: Axis, aw: Axis, dy: &[f32], dx: &mut [f32]) {
    let (outs, _) = dy.as_chunks::<C>();
    let (grads, _) = dx.as_chunks_mut::<C>();
    let mut outs = outs.iter();
    for oh in 0..ah.n * ah.size {
        let (h0, h1, a0, a1) = taps(ah, oh);
        for ow in 0..aw.n * aw.size {
            let (w0, w1, b0, b1) = taps(aw, ow);
            let g = outs.next().expect("dy holds every output position");
            for (pixel, weight) in [
                (h0 * aw.n + w0, a0 * b0),
                (h1 * aw.n + w0, a1 * b0),
                (h0 * aw.n + w1, a0 * b1),
                (h1 * aw.n + w1, a1 * b1),
            ] {
                for (d, &g) in grads[pixel].iter_mut().zip(g) {
                    *d += weight * g;
                }
            }
        }
    }
}

stateless_train! {
    impl[const C: usize, D: FactorAxis, H: FactorAxis, W: FactorAxis, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for UpSample<C, D, H, W, POUT>;
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            let axes = const { axes::<C, D, H, W>(PIN, POUT) };
            nearest_backward::<C>(&axes, dy.as_slice(), dx.as_mut_slice());
        }
    }
}

stateless_train! {
    impl[const C: usize, H: FactorAxis, W: FactorAxis, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for UpSampleBilinear2d<C, H, W, POUT>;
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            let [_, ah, aw] = const { axes::<C, NoAxis, H, W>(PIN, POUT) };
            bilinear_backward::<C>(ah, aw, dy.as_slice(), dx.as_mut_slice());
        }
    }
}

no_params!(<const C: usize, D, H, W, const POUT: usize> Params for UpSample<C, D, H, W, POUT>);
no_params!(<const C: usize, H, W, const POUT: usize> Params for UpSampleBilinear2d<C, H, W, POUT>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeros;

    fn tensor<const C: usize, const P: usize>(values: &[f32]) -> Tensor<C, P> {
        let mut t: Tensor<C, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn nearest_repeats_every_axis() {
        // UpSampling1D(3) on 2 steps of 2 channels.
        let x: Tensor<2, 2> = tensor(&[1.0, 2.0, 3.0, 4.0]);
        let y: Tensor<2, 6> = UpSample1d::<2, Factor<2, 3>, 6>::new().forward(&x);
        assert_eq!(
            y.as_slice(),
            &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 3.0, 4.0]
        );
        // UpSampling3D((2, 1, 2)) on (2, 2, 1, 1) = [[[1], [2]], [[3], [4]]]: (4, 2, 2, 1).
        let x: Tensor<1, 4> = tensor(&[1.0, 2.0, 3.0, 4.0]);
        let mut y: Tensor<1, 16> = zeros();
        y.as_mut_slice().fill(9.0); // stale values are overwritten
        UpSample3d::<1, Factor<2, 2>, Factor<2, 1>, Factor<1, 2>, 16>::new()
            .forward_into(&x, &mut y);
        #[rustfmt::skip]
        let want = [
            1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0,
            3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0,
        ];
        assert_eq!(y.as_slice(), &want);
    }

    #[test]
    fn bilinear_weights_have_half_pixel_centres_and_clamped_edges() {
        // size 2 on 3 inputs: s = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25.
        let a = Axis { n: 3, size: 2 };
        assert_eq!(taps(a, 0), (0, 0, 1.0, 0.0));
        assert_eq!(taps(a, 1), (0, 1, 0.75, 0.25));
        assert_eq!(taps(a, 2), (0, 1, 0.25, 0.75));
        assert_eq!(taps(a, 4), (1, 2, 0.25, 0.75));
        assert_eq!(taps(a, 5), (2, 2, 1.0, 0.0));
        // Factor 1 is the identity.
        let a = Axis { n: 4, size: 1 };
        for o in 0..4 {
            assert_eq!(taps(a, o).2, 1.0);
            assert_eq!(taps(a, o).0, o);
        }
    }

    #[test]
    fn bilinear_2x2_on_a_2x2_image() {
        // Rows then columns: the row weights at s = -0.25, 0.25, 0.75, 1.25 are (1, 0),
        // (0.75, 0.25), (0.25, 0.75), (0, 1) on rows (0, 0), (0, 1), (0, 1), (1, 1).
        let x: Tensor<1, 4> = tensor(&[0.0, 4.0, 8.0, 12.0]);
        let y: Tensor<1, 16> =
            UpSampleBilinear2d::<1, Factor<2, 2>, Factor<2, 2>, 16>::new().forward(&x);
        #[rustfmt::skip]
        let want = [
            0.0, 1.0, 3.0, 4.0,
            2.0, 3.0, 5.0, 6.0,
            6.0, 7.0, 9.0, 10.0,
            8.0, 9.0, 11.0, 12.0,
        ];
        assert_eq!(y.as_slice(), &want);
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        type U = UpSample3d<2, Factor<2, 2>, Factor<3, 1>, Factor<2, 3>, 72>;
        gradients::<_, Tensor<2, 12>>(&U::new(), 1);
        gradients::<_, Tensor<3, 4>>(&UpSample1d::<3, Factor<4, 2>, 8>::new(), 2);
        type B = UpSampleBilinear2d<2, Factor<3, 2>, Factor<4, 3>, 72>;
        gradients::<_, Tensor<2, 12>>(&B::new(), 3);
    }
}
