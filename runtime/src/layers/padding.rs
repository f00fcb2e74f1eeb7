//! `ZeroPadding1D/2D/3D` and `Cropping1D/2D/3D`: a border of zeros added around the spatial
//! axes, or cut off them. Both copy whole rows of channels (`cols · C` contiguous values) in one
//! pass over the output; nothing is computed per value.

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::layer::{no_weights, Layer, Weights};
use crate::shape::NoAxis;
use crate::train::{no_params, stateless_train, Params};
use crate::Tensor;

/// One spatial axis of a padding or cropping layer, as a type: its lengths are constants the
/// compiler checks.
pub trait EdgeAxis {
    /// Whether the axis exists in Keras's shape ([`NoAxis`] fills the leading axes of the
    /// lower-rank layers, so that one kernel serves 1D, 2D and 3D).
    const PRESENT: bool;
    /// Input length.
    const N: usize;
    /// Elements added (padding) or removed (cropping) before the input's first.
    const BEFORE: usize;
    /// Elements added (padding) or removed (cropping) after the input's last.
    const AFTER: usize;
}

/// A spatial axis of input length `N` with `BEFORE` and `AFTER` elements at its ends: added by
/// [`ZeroPad`], removed by [`Crop`].
///
/// ```
/// use static_keras_runtime::{EdgeAxis, Edges};
/// // ZeroPadding2D(((1, 2), …)) along 5 rows: 8 rows out.
/// type Rows = Edges<5, 1, 2>;
/// assert_eq!(Rows::N + Rows::BEFORE + Rows::AFTER, 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Edges<const N: usize, const BEFORE: usize, const AFTER: usize>;

impl<const N: usize, const BEFORE: usize, const AFTER: usize> EdgeAxis for Edges<N, BEFORE, AFTER> {
    const PRESENT: bool = true;
    const N: usize = N;
    const BEFORE: usize = BEFORE;
    const AFTER: usize = AFTER;
}

impl EdgeAxis for NoAxis {
    const PRESENT: bool = false;
    const N: usize = 1;
    const BEFORE: usize = 0;
    const AFTER: usize = 0;
}

/// Keras `ZeroPadding1D(padding=1)`, `ZeroPadding2D(padding=(1, 1))`,
/// `ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1)))`: zeros added at both ends of every
/// spatial axis; the channels are untouched.
///
/// Each spatial axis is an [`Edges<N, BEFORE, AFTER>`](Edges), or [`NoAxis`] for the axes a
/// lower-rank layer does not have; `POUT` is the number of output positions
/// (`Π (N + BEFORE + AFTER)`), checked at compile time. Use the aliases [`ZeroPad1d`],
/// [`ZeroPad2d`], [`ZeroPad3d`].
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`, `PIN = Π N`); output: `Tensor<C, POUT>`.
///
/// ```
/// use static_keras_runtime::{zeros, Edges, Layer, Tensor, ZeroPad1d};
/// // Keras: ZeroPadding1D((1, 2)) on [[1, 2], [3, 4]] (2 steps, 2 channels).
/// let mut x: Tensor<2, 2> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
/// let y: Tensor<2, 5> = ZeroPad1d::<2, Edges<2, 1, 2>, 5>::new().forward(&x);
/// assert_eq!(y.as_slice(), &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ZeroPad<const C: usize, D, H, W, const POUT: usize>(PhantomData<(D, H, W)>);

zeroable!([const C: usize, D, H, W, const POUT: usize] ZeroPad<C, D, H, W, POUT> => ZeroPad(marker));

impl<const C: usize, D, H, W, const POUT: usize> ZeroPad<C, D, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Keras `Cropping1D(cropping=(1, 1))`, `Cropping2D(cropping=((0, 0), (0, 0)))`,
/// `Cropping3D(cropping=((1, 1), (1, 1), (1, 1)))`: elements removed at both ends of every
/// spatial axis; the channels are untouched.
///
/// Axes as for [`ZeroPad`], with `BEFORE + AFTER < N` on each (a crop may not remove a whole
/// axis, as in Keras); `POUT = Π (N − BEFORE − AFTER)`. Use the aliases [`Crop1d`], [`Crop2d`],
/// [`Crop3d`].
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`, `PIN = Π N`); output: `Tensor<C, POUT>`.
///
/// ```
/// use static_keras_runtime::{zeros, Crop2d, Edges, Layer, Tensor};
/// // Keras: Cropping2D(((1, 0), (0, 1))) on a (2, 3, 1) input 1..6: row 1, columns 0 and 1.
/// let mut x: Tensor<1, 6> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let y: Tensor<1, 2> = Crop2d::<1, Edges<2, 1, 0>, Edges<3, 0, 1>, 2>::new().forward(&x);
/// assert_eq!(y.as_slice(), &[4.0, 5.0]);
/// ```
///
/// A crop that removes a whole axis does not build:
///
/// ```compile_fail
/// use static_keras_runtime::{zeros, Crop1d, Edges, Layer, Tensor};
/// let y: Tensor<1, 1> = Crop1d::<1, Edges<2, 1, 1>, 1>::new().forward(&zeros::<1, 2>());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Crop<const C: usize, D, H, W, const POUT: usize>(PhantomData<(D, H, W)>);

zeroable!([const C: usize, D, H, W, const POUT: usize] Crop<C, D, H, W, POUT> => Crop(marker));

impl<const C: usize, D, H, W, const POUT: usize> Crop<C, D, H, W, POUT> {
    /// The layer (it has no weights); usable in `const` context.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// Keras `ZeroPadding1D`: input `(steps, C)`.
pub type ZeroPad1d<const C: usize, W, const POUT: usize> = ZeroPad<C, NoAxis, NoAxis, W, POUT>;
/// Keras `ZeroPadding2D`: input `(rows, cols, C)`.
pub type ZeroPad2d<const C: usize, H, W, const POUT: usize> = ZeroPad<C, NoAxis, H, W, POUT>;
/// Keras `ZeroPadding3D`: input `(depth, rows, cols, C)`.
pub type ZeroPad3d<const C: usize, D, H, W, const POUT: usize> = ZeroPad<C, D, H, W, POUT>;
/// Keras `Cropping1D`: input `(steps, C)`.
pub type Crop1d<const C: usize, W, const POUT: usize> = Crop<C, NoAxis, NoAxis, W, POUT>;
/// Keras `Cropping2D`: input `(rows, cols, C)`.
pub type Crop2d<const C: usize, H, W, const POUT: usize> = Crop<C, NoAxis, H, W, POUT>;
/// Keras `Cropping3D`: input `(depth, rows, cols, C)`.
pub type Crop3d<const C: usize, D, H, W, const POUT: usize> = Crop<C, D, H, W, POUT>;

/// One axis, resolved.
#[derive(Clone, Copy)]
struct Ends {
    n: usize,
    before: usize,
    /// Output length: `n + before + after` (padding) or `n − before − after` (cropping).
    out: usize,
}

const fn ends<A: EdgeAxis>(crop: bool) -> Ends {
    let (n, before, after) = (A::N, A::BEFORE, A::AFTER);
    assert!(n > 0, "a spatial axis has at least one element");
    let out = if crop {
        assert!(
            before + after < n,
            "the cropping removes a whole axis: BEFORE + AFTER must be less than N"
        );
        n - before - after
    } else {
        n + before + after
    };
    Ends { n, before, out }
}

/// The axes of a padding or cropping layer, checked: absent axes first, `PIN` and `POUT` right.
const fn axes<const C: usize, D: EdgeAxis, H: EdgeAxis, W: EdgeAxis>(
    pin: usize,
    pout: usize,
    crop: bool,
) -> [Ends; 3] {
    assert!(C > 0, "a tensor has at least one channel");
    assert!(
        W::PRESENT && (H::PRESENT || !D::PRESENT),
        "the absent axes (NoAxis) of a padding or cropping layer come first"
    );
    let axes = [ends::<D>(crop), ends::<H>(crop), ends::<W>(crop)];
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

/// The input index that output `o` of a padded axis reads, `None` in the padding.
#[inline(always)]
fn source(a: Ends, o: usize) -> Option<usize> {
    o.checked_sub(a.before).filter(|&i| i < a.n)
}

/// Writes every output row (`cols · C` values): zeros, or the input row between its zeros.
fn pad<const C: usize>(axes: &[Ends; 3], x: &[f32], y: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let row_in = aw.n * C;
    let left = aw.before * C;
    let mut rows = y.chunks_exact_mut(aw.out * C);
    for od in 0..ad.out {
        let id = source(ad, od);
        for oh in 0..ah.out {
            let row = rows.next().expect("y holds every output row");
            match (id, source(ah, oh)) {
                (Some(id), Some(ih)) => {
                    let start = (id * ah.n + ih) * row_in;
                    let (head, rest) = row.split_at_mut(left);
                    let (middle, tail) = rest.split_at_mut(row_in);
                    head.fill(0.0);
                    middle.copy_from_slice(&x[start..start + row_in]);
                    tail.fill(0.0);
                }
                _ => row.fill(0.0),
            }
        }
    }
}

/// Copies every kept row segment (`kept cols · C` contiguous values) of the input.
fn crop<const C: usize>(axes: &[Ends; 3], x: &[f32], y: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let row_out = aw.out * C;
    let mut rows = y.chunks_exact_mut(row_out);
    for id in ad.before..ad.before + ad.out {
        for ih in ah.before..ah.before + ah.out {
            let start = ((id * ah.n + ih) * aw.n + aw.before) * C;
            let row = rows.next().expect("y holds every output row");
            row.copy_from_slice(&x[start..start + row_out]);
        }
    }
}

impl<
        const C: usize,
        D: EdgeAxis,
        H: EdgeAxis,
        W: EdgeAxis,
        const POUT: usize,
        const PIN: usize,
    > Layer<Tensor<C, PIN>> for ZeroPad<C, D, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let axes = const { axes::<C, D, H, W>(PIN, POUT, false) };
        pad::<C>(&axes, x.as_slice(), y.as_mut_slice());
    }
}

impl<
        const C: usize,
        D: EdgeAxis,
        H: EdgeAxis,
        W: EdgeAxis,
        const POUT: usize,
        const PIN: usize,
    > Layer<Tensor<C, PIN>> for Crop<C, D, H, W, POUT>
{
    type Output = Tensor<C, POUT>;
    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<C, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<C, POUT>) {
        let axes = const { axes::<C, D, H, W>(PIN, POUT, true) };
        crop::<C>(&axes, x.as_slice(), y.as_mut_slice());
    }
}

no_weights!(<const C: usize, D, H, W, const POUT: usize> Weights for ZeroPad<C, D, H, W, POUT>);
no_weights!(<const C: usize, D, H, W, const POUT: usize> Weights for Crop<C, D, H, W, POUT>);

/// Adds, for every input row (`cols · C` values), the part of `dy` that [`pad`] copied it to
/// into `dx`; the border of zeros has no input.
fn pad_backward<const C: usize>(axes: &[Ends; 3], dy: &[f32], dx: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let row = aw.n * C;
    let mut rows = dx.chunks_exact_mut(row);
    for id in 0..ad.n {
        for ih in 0..ah.n {
            let (od, oh) = (id + ad.before, ih + ah.before);
            let start = ((od * ah.out + oh) * aw.out + aw.before) * C;
            let dst = rows.next().expect("dx holds every input row");
            for (d, s) in dst.iter_mut().zip(&dy[start..start + row]) {
                *d += s;
            }
        }
    }
}

/// Adds every output row of `dy` into the input row segment [`crop`] copied it from; the
/// cropped border gets nothing.
fn crop_backward<const C: usize>(axes: &[Ends; 3], dy: &[f32], dx: &mut [f32]) {
    let [ad, ah, aw] = *axes;
    let row = aw.out * C;
    let mut rows = dy.chunks_exact(row);
    for id in ad.before..ad.before + ad.out {
        for ih in ah.before..ah.before + ah.out {
            let start = ((id * ah.n + ih) * aw.n + aw.before) * C;
            let src = rows.next().expect("dy holds every output row");
            for (d, s) in dx[start..start + row].iter_mut().zip(src) {
                *d += s;
            }
        }
    }
}

stateless_train! {
    impl[const C: usize, D: EdgeAxis, H: EdgeAxis, W: EdgeAxis, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for ZeroPad<C, D, H, W, POUT>;
    /// `∂x` is `∂y` without its border.
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            let axes = const { axes::<C, D, H, W>(PIN, POUT, false) };
            pad_backward::<C>(&axes, dy.as_slice(), dx.as_mut_slice());
        }
    }
}

stateless_train! {
    impl[const C: usize, D: EdgeAxis, H: EdgeAxis, W: EdgeAxis, const POUT: usize, const PIN: usize]
        Train<Tensor<C, PIN>> for Crop<C, D, H, W, POUT>;
    /// `∂y` flows back into the kept box of `∂x`; the cropped border gets nothing.
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            let axes = const { axes::<C, D, H, W>(PIN, POUT, true) };
            crop_backward::<C>(&axes, dy.as_slice(), dx.as_mut_slice());
        }
    }
}

no_params!(<const C: usize, D, H, W, const POUT: usize> Params for ZeroPad<C, D, H, W, POUT>);
no_params!(<const C: usize, D, H, W, const POUT: usize> Params for Crop<C, D, H, W, POUT>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeros;

    fn ramp<const C: usize, const P: usize>() -> Tensor<C, P> {
        let mut t: Tensor<C, P> = zeros();
        for (i, v) in t.as_mut_slice().iter_mut().enumerate() {
            *v = i as f32 + 1.0;
        }
        t
    }

    #[test]
    fn padding_2d_puts_zeros_around_whole_rows() {
        // (2, 2, 2) input 1..8; ((1, 0), (0, 1)): 3 rows, 3 columns.
        let x: Tensor<2, 4> = ramp();
        // Stale values in the output must be overwritten, padding included.
        let mut y: Tensor<2, 9> = zeros();
        y.as_mut_slice().fill(7.0);
        ZeroPad2d::<2, Edges<2, 1, 0>, Edges<2, 0, 1>, 9>::new().forward_into(&x, &mut y);
        #[rustfmt::skip]
        let want = [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            1.0, 2.0, 3.0, 4.0, 0.0, 0.0,
            5.0, 6.0, 7.0, 8.0, 0.0, 0.0,
        ];
        assert_eq!(y.as_slice(), &want);
    }

    #[test]
    fn padding_3d_pads_the_depth_with_whole_planes() {
        // (1, 1, 2, 1) input [1, 2]; depth (1, 1), rows (0, 0), cols (1, 0).
        let x: Tensor<1, 2> = ramp();
        let y: Tensor<1, 9> =
            ZeroPad3d::<1, Edges<1, 1, 1>, Edges<1, 0, 0>, Edges<2, 1, 0>, 9>::new().forward(&x);
        assert_eq!(y.as_slice(), &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn cropping_keeps_the_inner_box() {
        // (3, 4, 1) input 1..12; Cropping2D(((1, 1), (1, 2))): row 1, column 1.
        let x: Tensor<1, 12> = ramp();
        let y: Tensor<1, 1> = Crop2d::<1, Edges<3, 1, 1>, Edges<4, 1, 2>, 1>::new().forward(&x);
        assert_eq!(y.as_slice(), &[6.0]);
        // Cropping3D default (1 each side) on (3, 3, 3, 2): the centre position.
        let x: Tensor<2, 27> = ramp();
        type A = Edges<3, 1, 1>;
        let y: Tensor<2, 1> = Crop3d::<2, A, A, A, 1>::new().forward(&x);
        assert_eq!(y.as_slice(), &[27.0, 28.0]);
        // Cropping1D((0, 2)) on 4 steps of 2 channels.
        let x: Tensor<2, 4> = ramp();
        let y: Tensor<2, 2> = Crop1d::<2, Edges<4, 0, 2>, 2>::new().forward(&x);
        assert_eq!(y.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn crop_undoes_pad() {
        let x: Tensor<3, 20> = ramp();
        type P = ZeroPad2d<3, Edges<4, 2, 1>, Edges<5, 0, 3>, 56>;
        type K = Crop2d<3, Edges<7, 2, 1>, Edges<8, 0, 3>, 20>;
        let y = K::new().forward(&P::new().forward(&x));
        assert_eq!(y.as_slice(), x.as_slice());
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        type P = ZeroPad3d<2, Edges<2, 1, 0>, Edges<3, 0, 2>, Edges<2, 1, 1>, 60>;
        gradients::<_, Tensor<2, 12>>(&P::new(), 1);
        type K = Crop3d<2, Edges<3, 1, 0>, Edges<4, 0, 2>, Edges<4, 1, 1>, 8>;
        gradients::<_, Tensor<2, 48>>(&K::new(), 2);
        gradients::<_, Tensor<3, 5>>(&ZeroPad1d::<3, Edges<5, 2, 1>, 8>::new(), 3);
        gradients::<_, Tensor<3, 5>>(&Crop1d::<3, Edges<5, 2, 1>, 2>::new(), 4);
    }
}
