//! `Conv1D`, `Conv2D`, `Conv3D`: one N-d convolution, the lower ranks with absent leading axes.

mod backward;
mod kernel;
#[cfg(simd_kernels)]
mod winograd;

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::layer::{Layer, Variable, Weights};
use crate::shape::{NoAxis, Window};
use crate::train::{Params, Train, TrainCtx};
use crate::{Activation, Epilogue, FuseEpilogue, Tensor};

use kernel::{panel_index, ConvGeometry};

/// A convolution of rank 1 to 3, Keras `Conv1D`/`Conv2D`/`Conv3D(filters, kernel_size,
/// strides=1, padding="valid", dilation_rate=1, groups=1, activation=None, use_bias=True)`,
/// channels_last. Use the aliases [`Conv1d`], [`Conv2d`], [`Conv3d`].
///
/// Each spatial axis is a type: [`Axis<N, K, STRIDE, DILATION, P>`](crate::shape::Axis) (input
/// length, kernel size, stride, dilation, padding `Valid`/`Same`/`Causal`), or
/// [`NoAxis`] for the axes a lower-rank layer does not have. `KC` is the
/// kernel volume times `CIN / GROUPS` and `POUT` the number of output positions; both are checked
/// against the axes at compile time, as are the groups.
///
/// `y[o, f] = activation(bias[f] + Σ_taps Σ_c x[o·stride + tap·dilation − pad, c] · kernel[tap, c, f])`,
/// a cross-correlation as in Keras; padding reads zeros, `"same"` puts the odd extra pad at the
/// end, `"causal"` pads `(k − 1)·dilation` on the left only. Groups split the input channels and
/// the filters into `GROUPS` contiguous blocks.
///
/// # Shapes
/// - input: `Tensor<CIN, PIN>` (Keras `(*spatial, CIN)`, `PIN` = product of the input lengths)
/// - output: `Tensor<F, POUT>` (Keras `(*out_spatial, F)`)
/// - variables: `kernel (*kernel_size, CIN / GROUPS, F)`, and `bias (F,)` when `BIAS`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Same, Valid};
/// use static_keras_runtime::{Activation, Conv2d, Layer, Tensor, Weights};
/// // Keras: Conv2D(1, 2, padding="same") on a (2, 2, 1) input.
/// let mut conv: Conv2d<1, 1, 1, Axis<2, 2, 1, 1, Same>, Axis<2, 2, 1, 1, Same>, 4, 4> =
///     Conv2d::new(Activation::Linear);
/// conv.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0].into_iter()); // kernel (2, 2, 1, 1)
/// conv.load_variable(1, &mut [0.5].into_iter());
/// let x = Tensor::<1, 4>::from_slice(&[1.0, 1.0, 1.0, 1.0]);
/// // The odd pad goes at the end (bottom/right): the window of (0, 0) covers the whole input.
/// assert_eq!(conv.forward(&x).as_slice(), &[10.5, 4.5, 3.5, 1.5]);
/// ```
///
/// Hand-written geometry is checked when the layer is used: a `POUT` that does not match the
/// axes does not build.
///
/// ```compile_fail
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{Activation, Conv1d, Layer, Tensor};
/// // (5, 2) with kernel 3 gives 3 positions, not 4.
/// let conv: Conv1d<2, 4, 1, Axis<5, 3, 1, 1, Valid>, 6, 4> = Conv1d::new(Activation::Linear);
/// let y = conv.forward(&Tensor::<2, 5>::zeros());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Conv<
    const CIN: usize,
    const F: usize,
    const GROUPS: usize,
    D,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> {
    /// The Keras kernel `(*kernel_size, CIN / GROUPS, F)`, packed for the matrix kernel: blocks
    /// of a few filters, each holding its weights for every tap and channel contiguously. Read
    /// and write it in Keras's order through [`Weights`].
    kernel: crate::Aligned<Tensor<F, KC>>,
    /// The bias (zeros and unused when `BIAS` is false).
    pub bias: Tensor<F, 1>,
    /// Applied after the bias.
    pub activation: Activation,
    axes: PhantomData<(D, H, W)>,
}

zeroable!([const CIN: usize, const F: usize, const GROUPS: usize, D, H, W, const KC: usize, const POUT: usize, const BIAS: bool] Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS> => Conv { kernel, bias, activation, axes });

/// Keras `Conv1D`: input `(steps, CIN)`; `W` is the steps axis (padding may be `Causal`).
///
/// ```
/// use static_keras_runtime::shape::{Axis, Causal};
/// use static_keras_runtime::{Activation, Conv1d, Layer, Tensor, Weights};
/// // Keras: Conv1D(1, 2, padding="causal", use_bias=False) on [1, 2, 3].
/// let mut conv: Conv1d<1, 1, 1, Axis<3, 2, 1, 1, Causal>, 2, 3, false> =
///     Conv1d::new(Activation::Linear);
/// conv.load_variable(0, &mut [10.0, 1.0].into_iter());
/// let y = conv.forward(&Tensor::<1, 3>::from_slice(&[1.0, 2.0, 3.0]));
/// assert_eq!(y.as_slice(), &[1.0, 12.0, 23.0]);
/// ```
pub type Conv1d<
    const CIN: usize,
    const F: usize,
    const GROUPS: usize,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = Conv<CIN, F, GROUPS, NoAxis, NoAxis, W, KC, POUT, BIAS>;

/// Keras `Conv2D`: input `(rows, cols, CIN)`; `H` and `W` are the row and column axes.
pub type Conv2d<
    const CIN: usize,
    const F: usize,
    const GROUPS: usize,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = Conv<CIN, F, GROUPS, NoAxis, H, W, KC, POUT, BIAS>;

/// Keras `Conv3D`: input `(depth, rows, cols, CIN)`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{Activation, Conv3d, Layer, Tensor, Weights};
/// // Keras: Conv3D(2, (2, 1, 1), activation="relu") on a (2, 1, 1, 1) input.
/// type Z = Axis<2, 2, 1, 1, Valid>;
/// type One = Axis<1, 1, 1, 1, Valid>;
/// let mut conv: Conv3d<1, 2, 1, Z, One, One, 2, 1> = Conv3d::new(Activation::Relu);
/// conv.load_variable(0, &mut [1.0, -1.0, 1.0, -1.0].into_iter()); // kernel (2, 1, 1, 1, 2)
/// let y = conv.forward(&Tensor::<1, 2>::from_slice(&[3.0, 4.0]));
/// assert_eq!(y.as_slice(), &[7.0, 0.0]);
/// ```
pub type Conv3d<
    const CIN: usize,
    const F: usize,
    const GROUPS: usize,
    D,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>;

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    const RANK: usize = D::PRESENT as usize + H::PRESENT as usize + W::PRESENT as usize;

    /// The geometry, with every consistency check of the type's parameters.
    const GEOMETRY: ConvGeometry = {
        assert!(
            W::PRESENT && (H::PRESENT || !D::PRESENT),
            "the absent axes (NoAxis) of a convolution come first"
        );
        assert!(
            GROUPS > 0 && CIN.is_multiple_of(GROUPS) && F.is_multiple_of(GROUPS),
            "GROUPS must divide both the input channels CIN and the filters F"
        );
        assert!(
            KC == D::AXIS.k * H::AXIS.k * W::AXIS.k * (CIN / GROUPS),
            "KC must be the kernel volume times CIN / GROUPS"
        );
        assert!(
            POUT == D::AXIS.out * H::AXIS.out * W::AXIS.out,
            "POUT must be the number of output positions"
        );
        ConvGeometry {
            axes: [D::AXIS, H::AXIS, W::AXIS],
            cin: CIN,
            filters: F,
            groups: GROUPS,
        }
    };

    const ALL_AXES_SHAPE: &'static [usize] = &[D::AXIS.k, H::AXIS.k, W::AXIS.k, CIN / GROUPS, F];
    const KERNEL_SHAPE: &'static [usize] = Self::ALL_AXES_SHAPE.split_at(3 - Self::RANK).1;
    const WITH_BIAS: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: Self::KERNEL_SHAPE,
        },
        Variable {
            name: "bias",
            shape: &[F],
        },
    ];
    const WITHOUT_BIAS: &'static [Variable] = &[Variable {
        name: "kernel",
        shape: Self::KERNEL_SHAPE,
    }];

    /// [`Self::GEOMETRY`], checked against an input of `PIN` positions.
    #[inline(always)]
    fn geometry<const PIN: usize>() -> ConvGeometry {
        const {
            assert!(
                PIN == D::AXIS.n * H::AXIS.n * W::AXIS.n,
                "the input has a different number of positions than the axes say"
            );
            Self::GEOMETRY
        }
    }

    /// A layer with zero weights and the given activation.
    pub const fn new(activation: Activation) -> Self {
        Self {
            kernel: crate::Aligned(crate::zeros()),
            bias: crate::zeros(),
            activation,
            axes: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, then bias), packed
    /// at compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        let mut layer = Self::new(activation);
        assert!(
            bytes.len() == 4 * (KC * F + if BIAS { F } else { 0 }),
            "Conv: weight byte count does not match"
        );
        let (kernel_bytes, bias_bytes) = bytes.split_at(4 * KC * F);
        let kernel = layer.kernel.0.as_mut_slice();
        let mut i = 0;
        while i < KC * F {
            let b = 4 * i;
            kernel[panel_index(KC, F / GROUPS, i / F, i % F)] = f32::from_le_bytes([
                kernel_bytes[b],
                kernel_bytes[b + 1],
                kernel_bytes[b + 2],
                kernel_bytes[b + 3],
            ]);
            i += 1;
        }
        if BIAS {
            crate::fill_from_le_bytes(layer.bias.as_mut_slice(), bias_bytes);
        }
        layer
    }
}

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Default for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Linear)
    }
}

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Layer<Tensor<CIN, PIN>> for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    type Output = Tensor<F, POUT>;

    fn forward(&self, x: &Tensor<CIN, PIN>) -> Tensor<F, POUT> {
        let mut y = Tensor::<F, POUT>::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<CIN, PIN>, y: &mut Tensor<F, POUT>) {
        self.forward_into_then(x, y, &Epilogue::NONE);
    }
}

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > FuseEpilogue<Tensor<CIN, PIN>> for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    fn forward_into_then(
        &self,
        x: &Tensor<CIN, PIN>,
        y: &mut Tensor<F, POUT>,
        then: &Epilogue<'_>,
    ) {
        let geometry = Self::geometry::<PIN>();
        // The kernel writes every output (the first chunk of the reduction stores, later ones
        // add), and the SIMD kernels apply the epilogue they are given in their last store.
        crate::epilogue::run_then(self.activation, then, y.as_mut_slice(), F, |e, y| {
            kernel::conv(
                &geometry,
                x.as_slice(),
                self.kernel.as_slice(),
                BIAS.then_some(self.bias.as_slice()),
                e,
                y,
            )
        });
    }
}

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Weights for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        if BIAS {
            Self::WITH_BIAS
        } else {
            Self::WITHOUT_BIAS
        }
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        if index == 0 {
            // Keras order: row kk = tap·CIN/GROUPS + c, then the filters.
            let kernel = self.kernel.as_mut_slice();
            for (i, v) in values.take(KC * F).enumerate() {
                kernel[panel_index(KC, F / GROUPS, i / F, i % F)] = v;
            }
        } else {
            let bias = self.bias.as_mut_slice();
            bias.iter_mut().zip(values).for_each(|(t, v)| *t = v);
        }
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        if index == 0 {
            let kernel = self.kernel.as_slice();
            (0..KC * F).for_each(|i| out(kernel[panel_index(KC, F / GROUPS, i / F, i % F)]));
        } else {
            self.bias.iter().for_each(|&v| out(v));
        }
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > crate::train::Init for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
}

/// `∂z` from `dy` through `y = activation(z)`, for the layers that keep their pre-activation `z`
/// (`F` channels per position): written over `z`, which backward needs no more; `dy` itself
/// for a linear activation.
pub(crate) fn pre_activation_grad<'a, const F: usize>(
    activation: Activation,
    z: &'a mut [f32],
    y: &[f32],
    dy: &'a [f32],
) -> &'a [f32] {
    if activation == Activation::Linear {
        return dy;
    }
    let mut column = [0.0f32; F];
    for ((z, y), dy) in z
        .chunks_exact_mut(F)
        .zip(y.chunks_exact(F))
        .zip(dy.chunks_exact(F))
    {
        activation.backward(z, y, dy, &mut column, F);
        z.copy_from_slice(&column);
    }
    z
}

/// Adds `Σ_positions dz` into the bias gradient `db` (`db.len()` channels per position).
pub(crate) fn bias_grad(dz: &[f32], db: &mut [f32]) {
    for column in dz.chunks_exact(db.len()) {
        for (b, d) in db.iter_mut().zip(column) {
            *b += d;
        }
    }
}

/// The training path: the pre-activation `z` is kept for the activation's backward (the
/// inference kernel may fuse a ReLU and lose it); backward runs as products over the packed
/// kernel (see `backward.rs`), and the kernel's gradient has the kernel's packed layout.
impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Train<Tensor<CIN, PIN>> for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    type Cache = Tensor<F, POUT>;

    fn forward_train(
        &self,
        x: &Tensor<CIN, PIN>,
        y: &mut Tensor<F, POUT>,
        z: &mut Tensor<F, POUT>,
        _ctx: &mut TrainCtx,
    ) {
        // No epilogue: whichever kernel ran, `z` is the convolution plus the bias.
        kernel::conv(
            &Self::geometry::<PIN>(),
            x.as_slice(),
            self.kernel.as_slice(),
            BIAS.then_some(self.bias.as_slice()),
            &Epilogue::NONE,
            z.as_mut_slice(),
        );
        *y = *z;
        self.activation.apply(y.as_mut_slice(), F);
    }

    fn backward(
        &self,
        x: &Tensor<CIN, PIN>,
        y: &Tensor<F, POUT>,
        z: &mut Tensor<F, POUT>,
        dy: &Tensor<F, POUT>,
        dx: Option<&mut Tensor<CIN, PIN>>,
        grads: Option<&mut Self>,
    ) {
        let dz = pre_activation_grad::<F>(
            self.activation,
            z.as_mut_slice(),
            y.as_slice(),
            dy.as_slice(),
        );
        let (dkernel, dbias) = match grads {
            Some(g) => (
                Some(g.kernel.0.as_mut_slice()),
                BIAS.then_some(g.bias.as_mut_slice()),
            ),
            None => (None, None),
        };
        if let Some(db) = dbias {
            bias_grad(dz, db);
        }
        backward::backward(
            &Self::geometry::<PIN>(),
            x.as_slice(),
            self.kernel.as_slice(),
            dz,
            dx.map(|d| d.as_mut_slice()),
            dkernel,
        );
    }
}

impl<
        const CIN: usize,
        const F: usize,
        const GROUPS: usize,
        D: Window,
        H: Window,
        W: Window,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Params for Conv<CIN, F, GROUPS, D, H, W, KC, POUT, BIAS>
{
    fn trainable_count(&self) -> usize {
        1 + usize::from(BIAS)
    }

    /// The kernel in its packed layout (a permutation of Keras's: the optimizers' element-wise
    /// updates do not mind), then the bias.
    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.kernel.0.as_mut_slice());
        if BIAS {
            f(self.bias.as_mut_slice());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Axis, Same, Valid};

    #[test]
    fn variables_have_the_keras_rank() {
        let c1: Conv1d<4, 6, 2, Axis<5, 3, 1, 1, Valid>, 6, 3> = Conv1d::default();
        assert_eq!(c1.variables()[0].shape, &[3, 2, 6]);
        assert_eq!(c1.param_count(), 3 * 2 * 6 + 6);
        let c2: Conv2d<3, 8, 1, Axis<4, 3, 1, 1, Same>, Axis<5, 1, 1, 1, Valid>, 9, 20, false> =
            Conv2d::default();
        assert_eq!(
            c2.variables(),
            &[Variable {
                name: "kernel",
                shape: &[3, 1, 3, 8]
            }]
        );
        type A = Axis<3, 2, 1, 1, Valid>;
        let c3: Conv3d<2, 2, 1, A, A, A, 16, 8> = Conv3d::default();
        assert_eq!(c3.variables()[0].shape, &[2, 2, 2, 2, 2]);
    }

    #[test]
    fn store_returns_what_load_took() {
        // 18 filters in 3 groups of 6: blocks of MR filters that do not divide 6 evenly.
        let mut c: Conv2d<6, 18, 3, Axis<3, 2, 1, 1, Same>, Axis<4, 3, 1, 1, Valid>, 12, 6> =
            Conv2d::default();
        let n = c.variables()[0].len();
        assert_eq!(n, 2 * 3 * 2 * 18);
        c.load_variable(0, &mut (0..n).map(|i| i as f32));
        let mut back = [0.0f32; 216];
        let mut i = 0;
        c.store_variable(0, &mut |v| {
            back[i] = v;
            i += 1;
        });
        assert_eq!(i, n);
        assert!(back.iter().enumerate().all(|(i, &v)| v == i as f32));
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::shape::Causal;
        use crate::train::check::{fill, gradients};
        for act in [
            Activation::Linear,
            Activation::Tanh,
            Activation::Softmax,
            Activation::Gelu,
        ] {
            // Conv1D causal with dilation, groups 2 (3 filters per group).
            let mut c: Conv1d<4, 6, 2, Axis<7, 3, 1, 2, Causal>, 6, 7> = Conv1d::new(act);
            fill(&mut c, 1);
            gradients::<_, Tensor<4, 7>>(&c, 7);
            // Conv2D same with strides 2 on odd sizes, no bias.
            let mut c: Conv2d<
                3,
                5,
                1,
                Axis<5, 3, 2, 1, Same>,
                Axis<4, 2, 2, 1, Same>,
                18,
                6,
                false,
            > = Conv2d::new(act);
            fill(&mut c, 2);
            gradients::<_, Tensor<3, 20>>(&c, 8);
        }
        // Conv3D valid with strides.
        type Z = Axis<4, 2, 2, 1, Valid>;
        type R = Axis<3, 2, 1, 1, Same>;
        let mut c: Conv3d<2, 3, 1, Z, R, R, 16, 18> = Conv3d::new(Activation::Sigmoid);
        fill(&mut c, 3);
        gradients::<_, Tensor<2, 36>>(&c, 9);
        // 40 filters in 2 groups: blocks of MR filters and a short one per group.
        let mut c: Conv1d<4, 40, 2, Axis<5, 3, 1, 1, Same>, 6, 5> = Conv1d::new(Activation::Linear);
        fill(&mut c, 4);
        gradients::<_, Tensor<4, 5>>(&c, 10);
        // 3·110 = 330 rows: more than one panel of rows.
        let mut c: Conv1d<110, 2, 1, Axis<4, 3, 1, 1, Same>, 330, 4> =
            Conv1d::new(Activation::Linear);
        fill(&mut c, 6);
        gradients::<_, Tensor<110, 4>>(&c, 12);
        // Many positions (several panels of positions), dilation 2 in both axes.
        let mut c: Conv2d<1, 2, 1, Axis<12, 3, 1, 2, Valid>, Axis<14, 2, 1, 2, Same>, 6, 112> =
            Conv2d::new(Activation::Tanh);
        fill(&mut c, 5);
        gradients::<_, Tensor<1, 168>>(&c, 11);
    }

    #[test]
    fn groups_read_their_own_channels() {
        // Conv1D(4, 1, groups=2) on one step with channels [1, 10]: filters 0-1 see channel 0,
        // filters 2-3 see channel 1.
        let mut c: Conv1d<2, 4, 2, Axis<1, 1, 1, 1, Valid>, 1, 1, false> = Conv1d::default();
        c.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0].into_iter()); // kernel (1, 1, 4)
        let y = c.forward(&Tensor::<2, 1>::from_slice(&[1.0, 10.0]));
        assert_eq!(y.as_slice(), &[1.0, 2.0, 30.0, 40.0]);
        let mut back = [0.0; 4];
        let mut i = 0;
        c.store_variable(0, &mut |v| {
            back[i] = v;
            i += 1;
        });
        assert_eq!(back, [1.0, 2.0, 3.0, 4.0]);
    }
}
