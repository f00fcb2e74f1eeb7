//! `PReLU`: a leaky ReLU whose slopes are weights, shared along chosen axes.

use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::train::{Params, Train, TrainCtx};
use crate::{tensor_from_le_bytes, zeros, Tensor};

/// Keras `PReLU(alpha_initializer="zeros", shared_axes=None)`: `x` for `x ≥ 0`, `alpha · x`
/// below, with one learned `alpha` per value of the input, or one per slice along the shared
/// axes.
///
/// The input's Keras shape is the last `RANK` (1 to 4) of `(D0, D1, D2, F)`; the entries in
/// front of them are 1. Bit `k` of `SHARED` shares Keras axis `k` (axis 1 is the first axis
/// after the batch, as in `shared_axes`), which gives `alpha` size 1 on it; `A` is the number
/// of slopes. All of it is checked at compile time.
///
/// # Shapes
/// - input and output: `Tensor<F, P>` with `P = D0·D1·D2`
/// - variables: `alpha`, the input shape with the shared axes set to 1 (`A` values).
///
/// ```
/// use static_keras_runtime::{zeros, Layer, PRelu, Weights};
/// // Keras: PReLU(shared_axes=[1]) on a (2, 3) input: alpha (1, 3), one slope per feature.
/// let mut prelu: PRelu<2, 1, 1, 2, 3, { 1 << 1 }, 3> = PRelu::new();
/// assert_eq!(prelu.variables()[0].shape, &[1, 3]);
/// prelu.load_variable(0, &mut [0.5, 2.0, -1.0].into_iter());
/// let mut x = zeros::<3, 2>();
/// x.as_mut_slice().copy_from_slice(&[-2.0, -2.0, -2.0, 4.0, -1.0, 0.0]);
/// let y = prelu.forward(&x);
/// assert_eq!(y.as_slice(), &[-1.0, -4.0, 2.0, 4.0, -2.0, 0.0]);
/// ```
///
/// Sizes that do not fit each other do not build (here `A` should be 3):
///
/// ```compile_fail
/// use static_keras_runtime::{zeros, Layer, PRelu};
/// let prelu: PRelu<2, 1, 1, 2, 3, { 1 << 1 }, 6> = PRelu::new();
/// let y = prelu.forward(&zeros::<3, 2>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PRelu<
    const RANK: usize,
    const D0: usize,
    const D1: usize,
    const D2: usize,
    const F: usize,
    const SHARED: u8,
    const A: usize,
> {
    /// The slopes, Keras's `alpha` in its row-major order.
    pub alpha: Tensor<A, 1>,
}

zeroable!([const RANK: usize, const D0: usize, const D1: usize, const D2: usize, const F: usize, const SHARED: u8, const A: usize] PRelu<RANK, D0, D1, D2, F, SHARED, A> => PRelu { alpha });

impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
    > PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    /// Whether slot `i` of `(D0, D1, D2, F)` is a shared axis (slot `4 − RANK` is Keras axis 1).
    const fn shared(i: usize) -> bool {
        i + RANK >= 4 && SHARED & (1 << (i + RANK - 3)) != 0
    }

    /// `alpha`'s size along slot `i`, with every check of the parameters.
    const fn alpha_dim(i: usize) -> usize {
        assert!(RANK >= 1 && RANK <= 4, "PRelu: RANK must be 1 to 4");
        assert!(
            SHARED as usize & !(((1usize << RANK) - 1) << 1) == 0,
            "PRelu: SHARED may only set bits 1 to RANK (the Keras axes of the input)"
        );
        let dims = [D0, D1, D2, F];
        assert!(
            i + RANK >= 4 || dims[i] == 1,
            "PRelu: the entries of (D0, D1, D2, F) in front of the input's RANK axes must be 1"
        );
        if Self::shared(i) {
            1
        } else {
            dims[i]
        }
    }

    const ALPHA_DIMS: [usize; 4] = {
        let dims = [
            Self::alpha_dim(0),
            Self::alpha_dim(1),
            Self::alpha_dim(2),
            Self::alpha_dim(3),
        ];
        assert!(
            A == dims[0] * dims[1] * dims[2] * dims[3],
            "PRelu: A must be the number of slopes (the input's size with the shared axes set to 1)"
        );
        dims
    };
    const ALL_ALPHA_DIMS: &'static [usize] = &Self::ALPHA_DIMS;
    const VARIABLES: &'static [Variable] = &[Variable {
        name: "alpha",
        shape: Self::ALL_ALPHA_DIMS.split_at(4 - RANK).1,
    }];

    /// A layer with every slope zero (Keras's default initializer): a plain ReLU.
    pub const fn new() -> Self {
        Self { alpha: zeros() }
    }

    /// The layer from its `alpha` as raw little-endian f32, at compile time: `static` models
    /// built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8]) -> Self {
        assert!(
            bytes.len() == 4 * A,
            "PRelu: weight byte count does not match 4 * A"
        );
        Self {
            alpha: tensor_from_le_bytes(bytes),
        }
    }

    /// Calls `f(p, row, per_channel)` for every position `p` of the input (a row of `F`
    /// values): `row` is the offset of its slopes in `alpha`, a row of `F` when `per_channel`,
    /// otherwise one slope for every channel.
    #[inline(always)]
    fn positions(mut f: impl FnMut(usize, usize, bool)) {
        let [_, a1, a2, af] = Self::ALPHA_DIMS;
        let (s0, s1, s2) = (Self::shared(0), Self::shared(1), Self::shared(2));
        let mut p = 0;
        for i0 in 0..D0 {
            let j0 = if s0 { 0 } else { i0 };
            for i1 in 0..D1 {
                let j1 = if s1 { 0 } else { i1 };
                for i2 in 0..D2 {
                    let j2 = if s2 { 0 } else { i2 };
                    f(p, ((j0 * a1 + j1) * a2 + j2) * af, af == F);
                    p += 1;
                }
            }
        }
    }
}

impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
    > Default for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
        const P: usize,
    > Layer<Tensor<F, P>> for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        const { assert!(P == D0 * D1 * D2, "PRelu: P must be D0 * D1 * D2") };
        let alpha = self.alpha.as_slice();
        let mut y = zeros::<F, P>();
        let (xs, ys) = (x.as_slice(), y.as_mut_slice());
        Self::positions(|p, row, per_channel| {
            let (x, y) = (&xs[p * F..][..F], &mut ys[p * F..][..F]);
            if per_channel {
                for ((y, &x), &a) in y.iter_mut().zip(x).zip(&alpha[row..][..F]) {
                    *y = if x >= 0.0 { x } else { a * x };
                }
            } else {
                let a = alpha[row];
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = if x >= 0.0 { x } else { a * x };
                }
            }
        });
        y
    }
}

impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
    > Weights for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, _: usize, values: &mut dyn Iterator<Item = f32>) {
        let alpha = self.alpha.as_mut_slice();
        alpha.iter_mut().zip(values).for_each(|(a, v)| *a = v);
    }

    fn store_variable(&self, _: usize, out: &mut dyn FnMut(f32)) {
        self.alpha.as_slice().iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
    > crate::train::Init for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
}

/// The training path, as JAX differentiates Keras's `relu(x) − alpha·relu(−x)`: `∂x = ∂y` above
/// 0, `alpha·∂y` below, 0 at exactly 0; `∂alpha = Σ ∂y·x` over the negative inputs that share
/// the slope (the shared axes, and the batch).
impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
        const P: usize,
    > Train<Tensor<F, P>> for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    type Cache = ();

    fn forward_train(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>, _: &mut (), _: &mut TrainCtx) {
        *y = self.forward(x);
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
        let alpha = self.alpha.as_slice();
        let (xs, dys) = (x.as_slice(), dy.as_slice());
        Self::positions(|p, row, per_channel| {
            for f in 0..F {
                let (x, g) = (xs[p * F + f], dys[p * F + f]);
                let slot = if per_channel { row + f } else { row };
                if let Some(dx) = dx.as_deref_mut() {
                    dx.as_mut_slice()[p * F + f] += if x > 0.0 {
                        g
                    } else if x < 0.0 {
                        alpha[slot] * g
                    } else {
                        0.0
                    };
                }
                if x < 0.0 {
                    if let Some(grads) = grads.as_deref_mut() {
                        grads.alpha.as_mut_slice()[slot] += g * x;
                    }
                }
            }
        });
    }
}

impl<
        const RANK: usize,
        const D0: usize,
        const D1: usize,
        const D2: usize,
        const F: usize,
        const SHARED: u8,
        const A: usize,
    > Params for PRelu<RANK, D0, D1, D2, F, SHARED, A>
{
    fn trainable_count(&self) -> usize {
        1
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.alpha.as_mut_slice());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t = zeros::<F, P>();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn one_slope_per_value() {
        // Keras PReLU() on (2, 2): alpha (2, 2).
        let mut prelu: PRelu<2, 1, 1, 2, 2, 0, 4> = PRelu::new();
        assert_eq!(prelu.variables()[0].shape, &[2, 2]);
        assert_eq!(prelu.param_count(), 4);
        prelu.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0].into_iter());
        let y = prelu.forward(&tensor::<2, 2>(&[-1.0, -1.0, -1.0, 5.0]));
        assert_eq!(y.as_slice(), &[-1.0, -2.0, -3.0, 5.0]);
    }

    #[test]
    fn shared_spatial_axes_keep_one_slope_per_channel() {
        // Keras PReLU(shared_axes=[1, 2]) on (2, 2, 2): alpha (1, 1, 2).
        let mut prelu: PRelu<3, 1, 2, 2, 2, 0b110, 2> = PRelu::new();
        assert_eq!(prelu.variables()[0].shape, &[1, 1, 2]);
        prelu.load_variable(0, &mut [0.5, -1.0].into_iter());
        let y = prelu.forward(&tensor::<2, 4>(&[-2.0; 8]));
        assert_eq!(y.as_slice(), &[-1.0, 2.0, -1.0, 2.0, -1.0, 2.0, -1.0, 2.0]);
        let (mut out, mut n) = ([0.0; 2], 0);
        prelu.store_variable(0, &mut |v| {
            out[n] = v;
            n += 1;
        });
        assert_eq!(out, [0.5, -1.0]);
    }

    #[test]
    fn a_shared_channel_axis_and_a_middle_axis() {
        // Keras PReLU(shared_axes=[2, 3]) on (2, 2, 2): alpha (2, 1, 1), one slope per row.
        let mut prelu: PRelu<3, 1, 2, 2, 2, 0b1100, 2> = PRelu::new();
        assert_eq!(prelu.variables()[0].shape, &[2, 1, 1]);
        prelu.load_variable(0, &mut [0.5, 3.0].into_iter());
        let y = prelu.forward(&tensor::<2, 4>(&[
            -2.0, 1.0, -2.0, -4.0, -2.0, 1.0, -2.0, -4.0,
        ]));
        assert_eq!(
            y.as_slice(),
            &[-1.0, 1.0, -1.0, -2.0, -6.0, 1.0, -6.0, -12.0]
        );
        // PReLU(shared_axes=[2]) on (3, 2, 1) with rank 4 slots: alpha (3, 1, 1).
        let mut prelu: PRelu<3, 1, 3, 2, 1, 0b100, 3> = PRelu::new();
        assert_eq!(prelu.variables()[0].shape, &[3, 1, 1]);
        prelu.load_variable(0, &mut [1.0, 2.0, 3.0].into_iter());
        let y = prelu.forward(&tensor::<1, 6>(&[-1.0; 6]));
        assert_eq!(y.as_slice(), &[-1.0, -1.0, -2.0, -2.0, -3.0, -3.0]);
    }

    #[test]
    fn built_from_bytes_at_compile_time() {
        const BYTES: [u8; 8] = [0, 0, 0, 63, 0, 0, 128, 63]; // 0.5, 1.0
        static PRELU: PRelu<1, 1, 1, 1, 2, 0, 2> = PRelu::from_le_bytes_const(&BYTES);
        let y = PRELU.forward(&tensor::<2, 1>(&[-4.0, -4.0]));
        assert_eq!(y.as_slice(), &[-2.0, -4.0]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        // One slope per value, per channel of an image, per row, per feature of a sequence.
        let mut each: PRelu<2, 1, 1, 2, 3, 0, 6> = PRelu::new();
        fill(&mut each, 1);
        gradients::<_, Tensor<3, 2>>(&each, 2);
        let mut channels: PRelu<3, 1, 2, 2, 2, 0b110, 2> = PRelu::new();
        fill(&mut channels, 3);
        gradients::<_, Tensor<2, 4>>(&channels, 4);
        let mut rows: PRelu<3, 1, 2, 2, 2, 0b1100, 2> = PRelu::new();
        fill(&mut rows, 5);
        gradients::<_, Tensor<2, 4>>(&rows, 6);
        let mut features: PRelu<2, 1, 1, 3, 2, { 1 << 1 }, 2> = PRelu::new();
        fill(&mut features, 7);
        gradients::<_, Tensor<2, 3>>(&features, 8);
    }

    #[test]
    fn zero_passes_no_gradient() {
        // JAX: relu'(0) = 0 on both parts.
        let prelu: PRelu<1, 1, 1, 1, 2, 0, 2> =
            PRelu::from_le_bytes_const(&[0, 0, 0, 63, 0, 0, 0, 63]);
        let x = tensor::<2, 1>(&[0.0, -2.0]);
        let mut dx = zeros::<2, 1>();
        let mut grads = PRelu::new();
        prelu.backward(
            &x,
            &x,
            &mut (),
            &tensor(&[1.0, 1.0]),
            Some(&mut dx),
            Some(&mut grads),
        );
        assert_eq!(dx.as_slice(), &[0.0, 0.5]);
        assert_eq!(grads.alpha.as_slice(), &[0.0, -2.0]);
    }
}
