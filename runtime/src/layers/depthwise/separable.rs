//! `SeparableConv1D`, `SeparableConv2D`: a depthwise convolution without bias, then a 1×1
//! convolution (a matrix product), then the bias and the activation.

use crate::kernels::{gemm, gemm_nt, gemm_tn};
use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::shape::{NoAxis, Window};
use crate::train::{Params, Plain, Train, TrainCtx};
use crate::{Activation, Aligned, Tensor};

use super::super::conv::{bias_grad, pre_activation_grad};
use super::DepthwiseConv;

/// Floats of stack the depthwise result of a run of positions is kept in before the pointwise
/// product consumes it: 4 KiB on a microcontroller, 32 KiB on a host (the product then sees
/// enough positions at a time to reuse its kernel from the cache).
#[cfg(target_arch = "arm")]
const SCRATCH: usize = 1024;
#[cfg(not(target_arch = "arm"))]
const SCRATCH: usize = 8192;

/// A depthwise separable convolution of rank 1 or 2, Keras `SeparableConv1D`/`SeparableConv2D(
/// filters, kernel_size, strides=1, padding="valid", dilation_rate=1, depth_multiplier=1,
/// activation=None, use_bias=True)`, channels_last. Use the aliases [`SeparableConv1d`],
/// [`SeparableConv2d`].
///
/// The depthwise step is a [`DepthwiseConv`] without bias (`C` channels to `CM =
/// C · depth_multiplier`, the same axes and parameters), the pointwise step a 1×1 convolution of
/// `CM` channels to `F` filters; then `bias` and the activation:
/// `y[o, f] = activation(bias[f] + Σ_q depthwise(x)[o, q] · pointwise[q, f])`. The depthwise
/// result is never stored whole: it goes through a bounded stack buffer, a run of positions at a
/// time.
///
/// # Shapes
/// - input: `Tensor<C, PIN>` (Keras `(*spatial, C)`)
/// - output: `Tensor<F, POUT>` (Keras `(*out_spatial, F)`)
/// - variables: `depthwise_kernel (*kernel_size, C, depth_multiplier)`, `pointwise_kernel
///   (1[, 1], CM, F)`, and `bias (F,)` when `BIAS`.
///
/// ```
/// use static_keras_runtime::shape::{Axis, Valid};
/// use static_keras_runtime::{zeros, Activation, Layer, SeparableConv1d, Tensor, Weights};
/// // Keras: SeparableConv1D(1, 2) on 3 steps of 2 channels.
/// let mut conv: SeparableConv1d<2, 2, 1, Axis<3, 2, 1, 1, Valid>, 2, 2> =
///     SeparableConv1d::new(Activation::Linear);
/// conv.load_variable(0, &mut [1.0, 1.0, 1.0, -1.0].into_iter()); // depthwise (2, 2, 1)
/// conv.load_variable(1, &mut [1.0, 10.0].into_iter()); // pointwise (1, 2, 1)
/// conv.load_variable(2, &mut [0.5].into_iter());
/// let mut x: Tensor<2, 3> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 1.0, 2.0, 2.0, 3.0, 4.0]);
/// // Depthwise: channel 0 sums two steps, channel 1 subtracts the second from the first:
/// // [3, -1] and [5, -2]; pointwise: 1·c0 + 10·c1 + 0.5.
/// assert_eq!(conv.forward(&x).as_slice(), &[-6.5, -14.5]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SeparableConv<
    const C: usize,
    const CM: usize,
    const F: usize,
    H,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> {
    depthwise: DepthwiseConv<C, CM, H, W, TAPS, POUT, false>,
    /// The Keras pointwise kernel `(1[, 1], CM, F)`: column-major, it is the `F × CM` matrix the
    /// product needs.
    pointwise: Aligned<[[f32; F]; CM]>,
    /// The bias (zeros and unused when `BIAS` is false).
    pub bias: [f32; F],
    /// Applied after the bias.
    pub activation: Activation,
}

zeroable!([const C: usize, const CM: usize, const F: usize, H, W, const TAPS: usize, const POUT: usize, const BIAS: bool] SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS> => SeparableConv { depthwise, pointwise, bias, activation });

/// Keras `SeparableConv1D`: input `(steps, C)`; `W` is the steps axis.
pub type SeparableConv1d<
    const C: usize,
    const CM: usize,
    const F: usize,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = SeparableConv<C, CM, F, NoAxis, W, TAPS, POUT, BIAS>;

/// Keras `SeparableConv2D`: input `(rows, cols, C)`; `H` and `W` are the row and column axes.
pub type SeparableConv2d<
    const C: usize,
    const CM: usize,
    const F: usize,
    H,
    W,
    const TAPS: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>;

impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    const RANK: usize = H::PRESENT as usize + W::PRESENT as usize;
    const ALL_DEPTHWISE: &'static [usize] = &[H::AXIS.k, W::AXIS.k, C, CM / C];
    const ALL_POINTWISE: &'static [usize] = &[1, 1, CM, F];
    const VARIABLES: &'static [Variable] = &[
        Variable {
            name: "depthwise_kernel",
            shape: Self::ALL_DEPTHWISE.split_at(2 - Self::RANK).1,
        },
        Variable {
            name: "pointwise_kernel",
            shape: Self::ALL_POINTWISE.split_at(2 - Self::RANK).1,
        },
        Variable {
            name: "bias",
            shape: &[F],
        },
    ];

    /// A layer with zero weights and the given activation.
    pub const fn new(activation: Activation) -> Self {
        Self {
            depthwise: DepthwiseConv::new(Activation::Linear),
            pointwise: Aligned([[0.0; F]; CM]),
            bias: [0.0; F],
            activation,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (depthwise kernel, pointwise
    /// kernel, then bias), at compile time: `static` models built this way keep their weights in
    /// flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        assert!(
            bytes.len() == 4 * (TAPS * CM + CM * F + if BIAS { F } else { 0 }),
            "SeparableConv: weight byte count does not match"
        );
        let (depthwise, rest) = bytes.split_at(4 * TAPS * CM);
        let (pointwise, bias) = rest.split_at(4 * CM * F);
        let mut layer = Self::new(activation);
        layer.depthwise = DepthwiseConv::from_le_bytes_const(depthwise, Activation::Linear);
        crate::fill_from_le_bytes(layer.pointwise.0.as_flattened_mut(), pointwise);
        if BIAS {
            crate::fill_from_le_bytes(&mut layer.bias, bias);
        }
        layer
    }
}

impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Default for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Linear)
    }
}

impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Layer<Tensor<C, PIN>> for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    type Output = Tensor<F, POUT>;

    fn forward(&self, x: &Tensor<C, PIN>) -> Tensor<F, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, PIN>, y: &mut Tensor<F, POUT>) {
        const {
            assert!(
                PIN == H::AXIS.n * W::AXIS.n,
                "the input has a different number of positions than the axes say"
            );
        }
        let (x, y) = (x.as_slice(), y.as_mut_slice());
        let pointwise = self.pointwise.as_flattened();
        let mut scratch = Aligned([0.0f32; SCRATCH]);
        if CM <= SCRATCH {
            // Runs of positions whose depthwise outputs fit the buffer, one product each.
            let run = SCRATCH / CM;
            for p0 in (0..POUT).step_by(run) {
                let n = run.min(POUT - p0);
                let depth = &mut scratch[..n * CM];
                self.depthwise.depthwise_into(x, p0, n, (0, C), depth);
                crate::kernels::gemm(F, CM, n, pointwise, depth, &mut y[p0 * F..][..n * F], false);
            }
        } else {
            // A wide layer: one position at a time, in slabs of whole input channels whose
            // products add up (the slab's pointwise rows are contiguous columns of the matrix).
            let m = CM / C;
            let slab = SCRATCH / m;
            for p in 0..POUT {
                for c0 in (0..C).step_by(slab) {
                    let c1 = C.min(c0 + slab);
                    let depth = &mut scratch[..(c1 - c0) * m];
                    self.depthwise.depthwise_into(x, p, 1, (c0, c1), depth);
                    let rows = &pointwise[c0 * m * F..c1 * m * F];
                    let out = &mut y[p * F..][..F];
                    crate::kernels::gemm(F, (c1 - c0) * m, 1, rows, depth, out, c0 > 0);
                }
            }
        }
        if BIAS {
            for out in y.chunks_exact_mut(F) {
                for (v, b) in out.iter_mut().zip(&self.bias) {
                    *v += b;
                }
            }
        }
        self.activation.apply(y, F);
    }
}

impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Weights for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        &Self::VARIABLES[..if BIAS { 3 } else { 2 }]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        let dst: &mut [f32] = match index {
            0 => return self.depthwise.load(0, values),
            1 => self.pointwise.as_flattened_mut(),
            _ => &mut self.bias,
        };
        dst.iter_mut().zip(values).for_each(|(d, v)| *d = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let src: &[f32] = match index {
            0 => return self.depthwise.store(0, out),
            1 => self.pointwise.as_flattened(),
            _ => &self.bias,
        };
        src.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > crate::train::Init for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
}

/// What the training forward pass of a [`SeparableConv`] keeps: the depthwise step's output and
/// the pre-activation.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct SeparableCache<const CM: usize, const F: usize, const POUT: usize> {
    /// The depthwise step's output, `CM` channels per position (the pointwise product's input).
    pub depthwise: Tensor<CM, POUT>,
    /// The pre-activation, `F` channels per position.
    pub z: Tensor<F, POUT>,
}

// SAFETY: two tensors of f32 (plain, 4-aligned) in a `repr(C)` struct: no padding between or
// after them, every bit pattern valid.
unsafe impl<const CM: usize, const F: usize, const POUT: usize> Plain
    for SeparableCache<CM, F, POUT>
{
}

/// The training path: the depthwise output `D` and the pre-activation `z = P·D + b` are kept;
/// backward runs `∂P += ∂z·Dᵀ` and `∂D = Pᵀ·∂z` as products over every position, then the
/// depthwise step's backward.
impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Train<Tensor<C, PIN>> for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    type Cache = SeparableCache<CM, F, POUT>;

    fn forward_train(
        &self,
        x: &Tensor<C, PIN>,
        y: &mut Tensor<F, POUT>,
        cache: &mut SeparableCache<CM, F, POUT>,
        _ctx: &mut TrainCtx,
    ) {
        const {
            assert!(
                PIN == H::AXIS.n * W::AXIS.n,
                "the input has a different number of positions than the axes say"
            );
        }
        let depth = cache.depthwise.as_mut_slice();
        self.depthwise
            .depthwise_into(x.as_slice(), 0, POUT, (0, C), depth);
        let z = cache.z.as_mut_slice();
        gemm(F, CM, POUT, self.pointwise.as_flattened(), depth, z, false);
        if BIAS {
            for out in z.chunks_exact_mut(F) {
                for (v, b) in out.iter_mut().zip(&self.bias) {
                    *v += b;
                }
            }
        }
        *y = cache.z;
        self.activation.apply(y.as_mut_slice(), F);
    }

    fn backward(
        &self,
        x: &Tensor<C, PIN>,
        y: &Tensor<F, POUT>,
        cache: &mut SeparableCache<CM, F, POUT>,
        dy: &Tensor<F, POUT>,
        dx: Option<&mut Tensor<C, PIN>>,
        mut grads: Option<&mut Self>,
    ) {
        let SeparableCache { depthwise, z } = cache;
        let dz = pre_activation_grad::<F>(
            self.activation,
            z.as_mut_slice(),
            y.as_slice(),
            dy.as_slice(),
        );
        let depth = depthwise.as_mut_slice();
        if let Some(g) = grads.as_deref_mut() {
            if BIAS {
                bias_grad(dz, &mut g.bias);
            }
            gemm_nt(F, POUT, CM, dz, depth, g.pointwise.as_flattened_mut());
        }
        // `D` is read for the last time above: its buffer takes `∂D`.
        depth.fill(0.0);
        gemm_tn(CM, F, POUT, self.pointwise.as_flattened(), dz, depth);
        self.depthwise
            .backward_linear(x, depth, dx, grads.map(|g| &mut g.depthwise));
    }
}

impl<
        const C: usize,
        const CM: usize,
        const F: usize,
        H: Window,
        W: Window,
        const TAPS: usize,
        const POUT: usize,
        const BIAS: bool,
    > Params for SeparableConv<C, CM, F, H, W, TAPS, POUT, BIAS>
{
    fn trainable_count(&self) -> usize {
        2 + usize::from(BIAS)
    }

    /// The depthwise kernel (packed), the pointwise kernel, then the bias.
    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.depthwise.kernel.0.as_flattened_mut());
        f(self.pointwise.0.as_flattened_mut());
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

    #[test]
    fn variables_have_the_keras_names_and_ranks() {
        let s1: SeparableConv1d<3, 6, 4, Axis<5, 3, 1, 1, Valid>, 3, 3, false> =
            SeparableConv1d::default();
        let shapes: Vec<_> = s1.variables().iter().map(|v| (v.name, v.shape)).collect();
        assert_eq!(
            shapes,
            [
                ("depthwise_kernel", &[3, 3, 2][..]),
                ("pointwise_kernel", &[1, 6, 4][..])
            ]
        );
        let s2: SeparableConv2d<2, 2, 5, Axis<4, 3, 1, 1, Same>, Axis<4, 3, 1, 1, Same>, 9, 16> =
            SeparableConv2d::default();
        assert_eq!(s2.variables()[0].shape, &[3, 3, 2, 1]);
        assert_eq!(s2.variables()[1].shape, &[1, 1, 2, 5]);
        assert_eq!(s2.variables()[2].shape, &[5]);
        assert_eq!(s2.param_count(), 18 + 10 + 5);
    }

    /// The depthwise layer followed by a pointwise product, computed apart.
    #[test]
    fn equals_depthwise_then_pointwise() {
        // Wide enough (CM = 9000 > SCRATCH on a host) to take the slab path too.
        fn run<const C: usize, const CM: usize>() {
            type A = Axis<3, 2, 1, 1, Same>;
            let mut sep: SeparableConv1d<C, CM, 3, A, 2, 3> =
                SeparableConv1d::new(Activation::Linear);
            let mut dw: DepthwiseConv<C, CM, NoAxis, A, 2, 3, false> =
                DepthwiseConv::new(Activation::Linear);
            let value = |i: usize| ((i * 7919) % 997) as f32 / 499.0 - 1.0;
            sep.load_variable(0, &mut (0..2 * CM).map(value));
            dw.load_variable(0, &mut (0..2 * CM).map(value));
            sep.load_variable(1, &mut (0..CM * 3).map(|i| value(i + 3)));
            sep.load_variable(2, &mut [0.5, -0.5, 1.0].into_iter());
            let mut x: Tensor<C, 3> = crate::zeros();
            x.as_mut_slice()
                .iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = value(i + 11));
            let depth = dw.forward(&x);
            let y = sep.forward(&x);
            for p in 0..3 {
                for f in 0..3 {
                    let mut want = [0.5f64, -0.5, 1.0][f];
                    for q in 0..CM {
                        want += f64::from(depth.as_slice()[p * CM + q])
                            * f64::from(value(q * 3 + f + 3));
                    }
                    let got = f64::from(y.as_slice()[p * 3 + f]);
                    assert!(
                        (got - want).abs() < 1e-3 * want.abs().max(1.0),
                        "{got} vs {want}"
                    );
                }
            }
        }
        run::<4, 8>();
        run::<3000, 9000>();
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        for act in [Activation::Linear, Activation::Tanh, Activation::Softmax] {
            type R = Axis<5, 3, 2, 1, Same>;
            type K = Axis<6, 2, 1, 2, Same>;
            let mut s: SeparableConv2d<3, 6, 4, R, K, 6, 18> = SeparableConv2d::new(act);
            fill(&mut s, 1);
            gradients::<_, Tensor<3, 30>>(&s, 2);
            let mut s: SeparableConv1d<2, 2, 3, Axis<6, 3, 1, 1, Valid>, 3, 4, false> =
                SeparableConv1d::new(act);
            fill(&mut s, 3);
            gradients::<_, Tensor<2, 6>>(&s, 4);
        }
    }
}
