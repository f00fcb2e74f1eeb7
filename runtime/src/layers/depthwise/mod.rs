//! `DepthwiseConv1D`, `DepthwiseConv2D` and `SeparableConv1D`, `SeparableConv2D`: convolutions
//! that filter each channel on its own (the separable ones then mix channels with a 1×1
//! convolution). The 1-D layers run the 2-D kernel with a rows axis of length 1.

mod kernel;
mod separable;

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::layer::{Layer, Variable, Weights};
use crate::shape::{NoAxis, Window};
use crate::train::{Params, Train, TrainCtx};
use crate::{Activation, Aligned, Epilogue, FuseEpilogue, Tensor};

use super::conv::pre_activation_grad;
use kernel::{packed_index, DepthwiseGeometry};
pub use separable::{SeparableCache, SeparableConv, SeparableConv1d, SeparableConv2d};

/// A depthwise convolution of rank 1 or 2, Keras `DepthwiseConv1D`/`DepthwiseConv2D(kernel_size,
/// strides=1, padding="valid", depth_multiplier=1, dilation_rate=1, activation=None,
/// use_bias=True)`, channels_last. Use the aliases [`DepthwiseConv1d`], [`DepthwiseConv2d`].
///
/// Each spatial axis is a type, [`Axis<N, K, STRIDE, DILATION, P>`](crate::shape::Axis) with
/// padding `Valid` or `Same` ([`NoAxis`] for the rows of the 1-D layer). `CM` is the number of
/// output channels, `C · depth_multiplier`; `TAPS` the kernel's size (product of its lengths);
/// `POUT` the number of output positions. All are checked against the axes at compile time.
///
/// `y[o, c·M + m] = activation(bias[c·M + m] + Σ_taps x[o·stride + tap·dilation − pad, c] ·
/// kernel[tap, c, m])`: every input channel `c` has its own `M` filters, and its outputs are
/// adjacent. Padding reads zeros and `"same"` puts the odd extra pad at the end, as in Keras.
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`)
/// - output: `Tensor<CM, POUT>` (Keras `(*out_spatial, C · depth_multiplier)`)
/// - variables: `kernel (*kernel_size, C, depth_multiplier)`, and `bias (C · depth_multiplier,)`
///   when `BIAS`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Same, Valid};
/// use static_keras_runtime::{zeros, Activation, DepthwiseConv2d, Layer, Tensor, Weights};
/// // Keras: DepthwiseConv2D(2, padding="same", depth_multiplier=2) on a (2, 2, 1) input.
/// type A = Axis<2, 2, 1, 1, Same>;
/// let mut conv: DepthwiseConv2d<1, 2, A, A, 4, 4> = DepthwiseConv2d::new(Activation::Linear);
/// // kernel (2, 2, 1, 2): filter 0 sums the window, filter 1 takes its top-left value.
/// conv.load_variable(0, &mut [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0].into_iter());
/// conv.load_variable(1, &mut [0.5, 0.0].into_iter());
/// let mut x: Tensor<1, 4> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
/// let y = conv.forward(&x);
/// // The odd pad goes at the end (bottom/right): position (0, 0) sees the whole input.
/// assert_eq!(y.as_slice(), &[10.5, 1.0, 6.5, 2.0, 7.5, 3.0, 4.5, 4.0]);
/// ```
///
/// Hand-written geometry is checked when the layer is used: a `POUT` that does not match the
/// axes does not build.
///
/// ```compile_fail
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{zeros, Activation, DepthwiseConv1d, Layer, Tensor};
/// // (5, 2) with kernel 3 gives 3 positions, not 4.
/// let conv: DepthwiseConv1d<2, 2, Axis<5, 3, 1, 1, Valid>, 3, 4> =
///     DepthwiseConv1d::new(Activation::Linear);
/// let y = conv.forward(&zeros::<2, 5>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DepthwiseConv<
    const C: usize,
    const CM: usize,
    H,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> {
    /// The Keras kernel `(*kernel_size, C, M)`, per tap as `[m][c]` (see
    /// [`kernel::packed_index`]). Read and write it in Keras's order through [`Weights`].
    kernel: Aligned<[[f32; CM]; TAPS]>,
    /// The bias, packed like one tap of the kernel (zeros and unused when `BIAS` is false).
    bias: [f32; CM],
    /// Applied after the bias.
    pub activation: Activation,
    axes: PhantomData<(H, W)>,
}

zeroable!([const C: usize, const CM: usize, H, W, const TAPS: usize, const POUT: usize, const BIAS: bool] DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS> => DepthwiseConv { kernel, bias, activation, axes });

/// Keras `DepthwiseConv1D`: input `(steps, C)`; `W` is the steps axis.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{zeros, Activation, DepthwiseConv1d, Layer, Tensor, Weights};
/// // Keras: DepthwiseConv1D(2, use_bias=False) on 3 steps of 2 channels.
/// let mut conv: DepthwiseConv1d<2, 2, Axis<3, 2, 1, 1, Valid>, 2, 2, false> =
///     DepthwiseConv1d::new(Activation::Linear);
/// conv.load_variable(0, &mut [1.0, 10.0, 1.0, -10.0].into_iter()); // kernel (2, 2, 1)
/// let mut x: Tensor<2, 3> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]);
/// assert_eq!(conv.forward(&x).as_slice(), &[3.0, -10.0, 5.0, -10.0]);
/// ```
pub type DepthwiseConv1d<
    const C: usize,
    const CM: usize,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = DepthwiseConv<C, CM, NoAxis, W, TAPS, POUT, BIAS>;

/// Keras `DepthwiseConv2D`: input `(rows, cols, C)`; `H` and `W` are the row and column axes.
pub type DepthwiseConv2d<
    const C: usize,
    const CM: usize,
    H,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>;

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    const RANK: usize = H::PRESENT as usize + W::PRESENT as usize;

    /// The geometry, with every consistency check of the type's parameters.
    pub(crate) const GEOMETRY: DepthwiseGeometry = {
        assert!(
            W::PRESENT,
            "the absent axis (NoAxis) of a depthwise convolution comes first"
        );
        assert!(
            C > 0 && CM.is_multiple_of(C) && CM > 0,
            "CM (the output channels) must be a positive multiple of C (depth_multiplier · C)"
        );
        assert!(
            TAPS == H::AXIS.k * W::AXIS.k,
            "TAPS must be the kernel's size"
        );
        assert!(
            POUT == H::AXIS.out * W::AXIS.out,
            "POUT must be the number of output positions"
        );
        DepthwiseGeometry {
            rows: H::AXIS,
            cols: W::AXIS,
            channels: C,
            multiplier: CM / C,
        }
    };

    const ALL_AXES_SHAPE: &'static [usize] = &[H::AXIS.k, W::AXIS.k, C, CM / C];
    const KERNEL_SHAPE: &'static [usize] = Self::ALL_AXES_SHAPE.split_at(2 - Self::RANK).1;
    const WITH_BIAS: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: Self::KERNEL_SHAPE,
        },
        Variable {
            name: "bias",
            shape: &[CM],
        },
    ];
    const WITHOUT_BIAS: &'static [Variable] = &[Variable {
        name: "kernel",
        shape: Self::KERNEL_SHAPE,
    }];

    /// A layer with zero weights and the given activation.
    pub const fn new(activation: Activation) -> Self {
        Self {
            kernel: Aligned([[0.0; CM]; TAPS]),
            bias: [0.0; CM],
            activation,
            axes: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, then bias), packed
    /// at compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        let mut layer = Self::new(activation);
        assert!(
            bytes.len() == 4 * (TAPS * CM + if BIAS { CM } else { 0 }),
            "DepthwiseConv: weight byte count does not match"
        );
        let kernel = layer.kernel.0.as_flattened_mut();
        let mut i = 0;
        while i < TAPS * CM + if BIAS { CM } else { 0 } {
            let b = 4 * i;
            let v = f32::from_le_bytes([bytes[b], bytes[b + 1], bytes[b + 2], bytes[b + 3]]);
            if i < TAPS * CM {
                kernel[packed_index(i, C, CM / C)] = v;
            } else {
                layer.bias[packed_index(i - TAPS * CM, C, CM / C)] = v;
            }
            i += 1;
        }
        layer
    }

    /// The depthwise step alone, without the bias and the activation, for output positions
    /// `p0..p0 + n` and input channels `c0..c1` (what the separable convolution needs).
    pub(crate) fn depthwise_into(
        &self,
        x: &[f32],
        p0: usize,
        n: usize,
        channels: (usize, usize),
        out: &mut [f32],
    ) {
        let geometry = const { Self::GEOMETRY };
        let kernel = self.kernel.as_flattened();
        let none = &Epilogue::NONE;
        kernel::depthwise(&geometry, x, kernel, None, none, p0, n, channels, out);
    }

    /// [`Self::GEOMETRY`], checked against an input of `PIN` positions.
    #[inline(always)]
    fn geometry<const PIN: usize>() -> DepthwiseGeometry {
        const {
            assert!(
                PIN == H::AXIS.n * W::AXIS.n,
                "the input has a different number of positions than the axes say"
            );
            Self::GEOMETRY
        }
    }

    /// The convolution plus the bias, before the activation.
    fn linear_into<const PIN: usize>(&self, x: &Tensor<C, PIN>, y: &mut Tensor<CM, POUT>) {
        self.then_into(x, y.as_mut_slice(), &Epilogue::NONE);
    }

    /// The convolution plus the bias, then `e`: in the SIMD kernel's store (`true`), or not at
    /// all (`false`: the caller applies it).
    fn then_into<const PIN: usize>(
        &self,
        x: &Tensor<C, PIN>,
        y: &mut [f32],
        e: &Epilogue<'_>,
    ) -> bool {
        let geometry = Self::geometry::<PIN>();
        let bias = BIAS.then_some(&self.bias[..]);
        let kernel = self.kernel.as_flattened();
        kernel::depthwise(&geometry, x.as_slice(), kernel, bias, e, 0, POUT, (0, C), y)
    }

    /// Adds the gradients of the convolution without bias given `dz` (see
    /// [`kernel::depthwise_backward`]); the kernel's into `dkernel` in its packed layout.
    pub(crate) fn backward_linear<const PIN: usize>(
        &self,
        x: &Tensor<C, PIN>,
        dz: &[f32],
        dx: Option<&mut Tensor<C, PIN>>,
        dkernel: Option<&mut Self>,
    ) {
        kernel::depthwise_backward(
            &Self::geometry::<PIN>(),
            x.as_slice(),
            self.kernel.as_flattened(),
            dz,
            dx.map(|d| d.as_mut_slice()),
            dkernel.map(|g| g.kernel.0.as_flattened_mut()),
        );
    }

    fn load(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        if index == 0 {
            let kernel = self.kernel.as_flattened_mut();
            for (i, v) in values.take(TAPS * CM).enumerate() {
                kernel[packed_index(i, C, CM / C)] = v;
            }
        } else {
            for (i, v) in values.take(CM).enumerate() {
                self.bias[packed_index(i, C, CM / C)] = v;
            }
        }
    }

    fn store(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let (values, len) = if index == 0 {
            (self.kernel.as_flattened(), TAPS * CM)
        } else {
            (&self.bias[..], CM)
        };
        (0..len).for_each(|i| out(values[packed_index(i, C, CM / C)]));
    }
}

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Default for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Linear)
    }
}

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Layer<Tensor<C, PIN>> for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    type Output = Tensor<CM, POUT>;

    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<CM, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<CM, POUT>) {
        // A ReLU in the SIMD kernel's store (the bits of its pass).
        self.forward_into_then(x, y, &Epilogue::NONE);
    }
}

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > FuseEpilogue<Tensor<C, PIN>> for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    fn forward_into_then(&self, x: &Tensor<C, PIN>, y: &mut Tensor<CM, POUT>, then: &Epilogue<'_>) {
        crate::epilogue::run_then(self.activation, then, y.as_mut_slice(), CM, |e, y| {
            self.then_into(x, y, e)
        });
    }
}

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Weights for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        if BIAS {
            Self::WITH_BIAS
        } else {
            Self::WITHOUT_BIAS
        }
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        self.load(index, values);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        self.store(index, out);
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > crate::train::Init for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
}

/// The training path: the pre-activation `z` is kept for the activation's backward; the
/// kernel's and the bias's gradients have their packed layouts.
impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Train<Tensor<C, PIN>> for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    type Cache = Tensor<CM, POUT>;

    fn forward_train(
        &self,
        x: &Tensor<C, PIN>,
        y: &mut Tensor<CM, POUT>,
        z: &mut Tensor<CM, POUT>,
        _ctx: &mut TrainCtx,
    ) {
        self.linear_into(x, z);
        *y = *z;
        self.activation.apply(y.as_mut_slice(), CM);
    }

    fn backward(
        &self,
        x: &Tensor<C, PIN>,
        y: &Tensor<CM, POUT>,
        z: &mut Tensor<CM, POUT>,
        dy: &Tensor<CM, POUT>,
        dx: Option<&mut Tensor<C, PIN>>,
        mut grads: Option<&mut Self>,
    ) {
        let dz = pre_activation_grad::<CM>(
            self.activation,
            z.as_mut_slice(),
            y.as_slice(),
            dy.as_slice(),
        );
        if let (true, Some(g)) = (BIAS, grads.as_deref_mut()) {
            // The bias is packed like one tap of the kernel, `[m][c]`.
            for column in dz.chunks_exact(CM) {
                for (q, &d) in column.iter().enumerate() {
                    g.bias[packed_index(q, C, CM / C)] += d;
                }
            }
        }
        self.backward_linear(x, dz, dx, grads);
    }
}

impl<
        const C: usize,
        const CM: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Params for DepthwiseConv<C, CM, H, W, TAPS, POUT, BIAS>
{
    fn trainable_count(&self) -> usize {
        1 + usize::from(BIAS)
    }

    /// The kernel and the bias in their packed layouts (permutations of Keras's).
    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.kernel.0.as_flattened_mut());
        if BIAS {
            f(&mut self.bias);
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::shape::{Axis, Same, Valid};
    use std::vec::Vec;

    fn stored(layer: &dyn Weights, index: usize) -> Vec<f32> {
        let mut out = Vec::new();
        layer.store_variable(index, &mut |v| out.push(v));
        out
    }

    #[test]
    fn variables_have_the_keras_rank_and_order() {
        let d1: DepthwiseConv1d<4, 8, Axis<5, 3, 1, 1, Valid>, 3, 3> = DepthwiseConv1d::default();
        assert_eq!(d1.variables()[0].shape, &[3, 4, 2]);
        assert_eq!(d1.variables()[1].shape, &[8]);
        assert_eq!(d1.param_count(), 3 * 4 * 2 + 8);
        let mut d2: DepthwiseConv2d<3, 6, Axis<4, 3, 1, 1, Same>, Axis<5, 2, 1, 1, Valid>, 6, 16> =
            DepthwiseConv2d::default();
        assert_eq!(d2.variables()[0].shape, &[3, 2, 3, 2]);
        // Keras order comes back out after the packing.
        d2.load_variable(0, &mut (0..36).map(|i| i as f32));
        d2.load_variable(1, &mut (0..6).map(|i| -(i as f32)));
        assert_eq!(
            stored(&d2, 0),
            (0..36).map(|i| i as f32).collect::<Vec<_>>()
        );
        assert_eq!(
            stored(&d2, 1),
            (0..6).map(|i| -(i as f32)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn const_construction_matches_loading() {
        type L = DepthwiseConv1d<2, 4, Axis<3, 2, 1, 1, Same>, 2, 3>;
        const BYTES: [u8; 48] = {
            let mut b = [0u8; 48];
            let mut i = 0;
            while i < 12 {
                let v = (i as f32 * 0.5 - 2.0).to_le_bytes();
                b[4 * i] = v[0];
                b[4 * i + 1] = v[1];
                b[4 * i + 2] = v[2];
                b[4 * i + 3] = v[3];
                i += 1;
            }
            b
        };
        const LAYER: L = L::from_le_bytes_const(&BYTES, Activation::Relu);
        let mut loaded = L::new(Activation::Relu);
        loaded.load_variable(0, &mut (0..8).map(|i| i as f32 * 0.5 - 2.0));
        loaded.load_variable(1, &mut (8..12).map(|i| i as f32 * 0.5 - 2.0));
        assert_eq!(LAYER, loaded);
    }

    #[test]
    fn each_channel_has_its_own_filters() {
        // DepthwiseConv1D(1, depth_multiplier=2) on one step of channels [1, 10]: outputs
        // c·M + m = [1·k00, 1·k01, 10·k10, 10·k11] + bias.
        let mut d: DepthwiseConv1d<2, 4, Axis<1, 1, 1, 1, Valid>, 1, 1> =
            DepthwiseConv1d::new(Activation::Relu);
        d.load_variable(0, &mut [1.0, 2.0, 3.0, -4.0].into_iter()); // kernel (1, 2, 2)
        d.load_variable(1, &mut [0.5, 0.25, 0.0, 1.0].into_iter());
        let mut x: Tensor<2, 1> = crate::zeros();
        x.as_mut_slice().copy_from_slice(&[1.0, 10.0]);
        assert_eq!(d.forward(&x).as_slice(), &[1.5, 2.25, 30.0, 0.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        for act in [Activation::Linear, Activation::Tanh, Activation::Softmax] {
            // depth_multiplier 2, strides with dilation, "same" on odd sizes.
            type R = Axis<5, 3, 2, 1, Same>;
            type K = Axis<6, 2, 1, 2, Same>;
            let mut d: DepthwiseConv2d<3, 6, R, K, 6, 18> = DepthwiseConv2d::new(act);
            fill(&mut d, 1);
            gradients::<_, Tensor<3, 30>>(&d, 2);
            let mut d: DepthwiseConv1d<4, 4, Axis<7, 3, 2, 1, Valid>, 3, 3, false> =
                DepthwiseConv1d::new(act);
            fill(&mut d, 3);
            gradients::<_, Tensor<4, 7>>(&d, 4);
        }
    }
}
