//! `Conv1DTranspose`, `Conv2DTranspose`, `Conv3DTranspose`: one N-d transposed convolution, the
//! lower ranks with absent leading axes.

use crate::memory::zeroable;
use core::marker::PhantomData;

use crate::kernels::{gemm_nt, gemm_tn};
use crate::layer::{Layer, Variable, Weights};
use crate::shape::{NoAxis, TransposedAxisGeometry, TransposedWindow};
use crate::train::{Params, Train, TrainCtx};
use crate::{Activation, Aligned, Tensor};

use super::conv::{bias_grad, pre_activation_grad};

/// Floats of stack for the products of a run of input positions whose outputs are not adjacent
/// (stride > 1): 4 KiB on a microcontroller, 16 KiB on a host.
#[cfg(target_arch = "arm")]
const SCRATCH: usize = 1024;
#[cfg(not(target_arch = "arm"))]
const SCRATCH: usize = 4096;

/// A transposed convolution of rank 1 to 3, Keras `Conv1DTranspose`/`Conv2DTranspose`/
/// `Conv3DTranspose(filters, kernel_size, strides=1, padding="valid", output_padding=None,
/// dilation_rate=1, activation=None, use_bias=True)`, channels_last. Use the aliases
/// [`Conv1dTranspose`], [`Conv2dTranspose`], [`Conv3dTranspose`].
///
/// Each spatial axis is a type: [`TransposeAxis<N, K, STRIDE, DILATION, P, O>`](crate::shape::TransposeAxis)
/// (input length, kernel size, stride, dilation, padding `Valid`/`Same`, output padding), or
/// [`NoAxis`] for the axes a lower-rank layer does not have. `KC` is the kernel volume times
/// `CIN` and `POUT` the number of output positions; both are checked against the axes at
/// compile time.
///
/// Every input position scatters into the outputs: `y[i·stride + t·dilation − crop, f] +=
/// Σ_c x[i, c] · kernel[t, f, c]` for every tap `t`, positions outside the output cropped away
/// (see [`TransposedAxisGeometry`]); then the bias and the activation. Each tap is one matrix
/// product over a row of input positions.
///
/// # Shapes
/// - input: `Tensor<CIN, PIN>` (Keras `(*spatial, CIN)`)
/// - output: `Tensor<F, POUT>` (Keras `(*out_spatial, F)`)
/// - variables: `kernel (*kernel_size, F, CIN)` (filters before input channels, the reverse of
///   a convolution's), and `bias (F,)` when `BIAS`.
///
/// ```
/// use static_keras_runtime::shape::{TransposeAxis, Valid};
/// use static_keras_runtime::{zeros, Activation, Conv1dTranspose, Layer, Tensor, Weights};
/// // Keras: Conv1DTranspose(1, 3, strides=2) on 2 steps of 1 channel: length (2 − 1)·2 + 3.
/// let mut conv: Conv1dTranspose<1, 1, TransposeAxis<2, 3, 2, 1, Valid>, 3, 5> =
///     Conv1dTranspose::new(Activation::Linear);
/// conv.load_variable(0, &mut [1.0, 2.0, 3.0].into_iter()); // kernel (3, 1, 1)
/// conv.load_variable(1, &mut [0.5].into_iter());
/// let mut x: Tensor<1, 2> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 10.0]);
/// // Step 0 writes [1, 2, 3] at 0..3, step 1 writes [10, 20, 30] at 2..5.
/// assert_eq!(conv.forward(&x).as_slice(), &[1.5, 2.5, 13.5, 20.5, 30.5]);
/// ```
///
/// Hand-written geometry is checked when the layer is used:
///
/// ```compile_fail
/// use static_keras_runtime::shape::{TransposeAxis, Valid};
/// use static_keras_runtime::{zeros, Activation, Conv1dTranspose, Layer, Tensor};
/// // 2 steps, kernel 3, stride 2 give 5 outputs, not 4.
/// let conv: Conv1dTranspose<1, 1, TransposeAxis<2, 3, 2, 1, Valid>, 3, 4> =
///     Conv1dTranspose::new(Activation::Linear);
/// let y = conv.forward(&zeros::<1, 2>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTranspose<
    const CIN: usize,
    const F: usize,
    D,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> {
    /// The Keras kernel `(*kernel_size, F, CIN)`, each tap's `F × CIN` block transposed to
    /// column-major (`[tap][c][f]`), the matrix the product takes. Read and write it in Keras's
    /// order through [`Weights`].
    kernel: Aligned<[[f32; F]; KC]>,
    /// The bias (zeros and unused when `BIAS` is false).
    pub bias: [f32; F],
    /// Applied after the bias.
    pub activation: Activation,
    axes: PhantomData<(D, H, W)>,
}

zeroable!([const CIN: usize, const F: usize, D, H, W, const KC: usize, const POUT: usize, const BIAS: bool] ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS> => ConvTranspose { kernel, bias, activation, axes });

/// Keras `Conv1DTranspose`: input `(steps, CIN)`.
pub type Conv1dTranspose<
    const CIN: usize,
    const F: usize,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = ConvTranspose<CIN, F, NoAxis, NoAxis, W, KC, POUT, BIAS>;

/// Keras `Conv2DTranspose`: input `(rows, cols, CIN)`.
///
/// ```
/// use static_keras_runtime::shape::{Same, TransposeAxis};
/// use static_keras_runtime::{zeros, Activation, Conv2dTranspose, Layer, Tensor, Weights};
/// // Keras: Conv2DTranspose(1, 2, strides=2, padding="same", use_bias=False): each input
/// // value becomes a 2×2 block scaled by the kernel.
/// type A = TransposeAxis<2, 2, 2, 1, Same>;
/// let mut conv: Conv2dTranspose<1, 1, A, A, 4, 16, false> =
///     Conv2dTranspose::new(Activation::Linear);
/// conv.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0].into_iter()); // kernel (2, 2, 1, 1)
/// let mut x: Tensor<1, 4> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, 0.0, 0.0, -1.0]);
/// let y = conv.forward(&x);
/// assert_eq!(&y.as_slice()[..8], &[1.0, 2.0, 0.0, 0.0, 3.0, 4.0, 0.0, 0.0]);
/// assert_eq!(&y.as_slice()[8..], &[0.0, 0.0, -1.0, -2.0, 0.0, 0.0, -3.0, -4.0]);
/// ```
pub type Conv2dTranspose<
    const CIN: usize,
    const F: usize,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = ConvTranspose<CIN, F, NoAxis, H, W, KC, POUT, BIAS>;

/// Keras `Conv3DTranspose`: input `(depth, rows, cols, CIN)`.
pub type Conv3dTranspose<
    const CIN: usize,
    const F: usize,
    D,
    H,
    W,
    const KC: usize,
    const POUT: usize,
    const BIAS: bool = true,
> = ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>;

/// Where Keras's flat kernel index `i` (over `(tap, f, c)`) is in the packed `[tap][c][f]`.
const fn packed_index(i: usize, f: usize, cin: usize) -> usize {
    let block = f * cin;
    let (tap, r) = (i / block, i % block);
    tap * block + (r % cin) * f + r / cin
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    const RANK: usize = D::PRESENT as usize + H::PRESENT as usize + W::PRESENT as usize;

    /// The axes, with every consistency check of the type's parameters.
    const AXES: [TransposedAxisGeometry; 3] = {
        assert!(
            W::PRESENT && (H::PRESENT || !D::PRESENT),
            "the absent axes (NoAxis) of a transposed convolution come first"
        );
        assert!(CIN > 0 && F > 0, "CIN and F must be positive");
        assert!(
            KC == D::AXIS.k * H::AXIS.k * W::AXIS.k * CIN,
            "KC must be the kernel volume times CIN"
        );
        assert!(
            POUT == D::AXIS.out * H::AXIS.out * W::AXIS.out,
            "POUT must be the number of output positions"
        );
        [D::AXIS, H::AXIS, W::AXIS]
    };

    const ALL_AXES_SHAPE: &'static [usize] = &[D::AXIS.k, H::AXIS.k, W::AXIS.k, F, CIN];
    const KERNEL_SHAPE: &'static [usize] = Self::ALL_AXES_SHAPE.split_at(3 - Self::RANK).1;
    const VARIABLES: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: Self::KERNEL_SHAPE,
        },
        Variable {
            name: "bias",
            shape: &[F],
        },
    ];

    /// A layer with zero weights and the given activation.
    pub const fn new(activation: Activation) -> Self {
        Self {
            kernel: Aligned([[0.0; F]; KC]),
            bias: [0.0; F],
            activation,
            axes: PhantomData,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, then bias), packed
    /// at compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        assert!(
            bytes.len() == 4 * (KC * F + if BIAS { F } else { 0 }),
            "ConvTranspose: weight byte count does not match"
        );
        let mut layer = Self::new(activation);
        let (kernel_bytes, bias_bytes) = bytes.split_at(4 * KC * F);
        let kernel = layer.kernel.0.as_flattened_mut();
        let mut i = 0;
        while i < KC * F {
            let b = 4 * i;
            kernel[packed_index(i, F, CIN)] = f32::from_le_bytes([
                kernel_bytes[b],
                kernel_bytes[b + 1],
                kernel_bytes[b + 2],
                kernel_bytes[b + 3],
            ]);
            i += 1;
        }
        if BIAS {
            crate::fill_from_le_bytes(&mut layer.bias, bias_bytes);
        }
        layer
    }
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Default for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    fn default() -> Self {
        Self::new(Activation::Linear)
    }
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    /// [`Self::AXES`], checked against an input of `PIN` positions.
    #[inline(always)]
    fn axes<const PIN: usize>() -> [TransposedAxisGeometry; 3] {
        const {
            assert!(
                PIN == D::AXIS.n * H::AXIS.n * W::AXIS.n,
                "the input has a different number of positions than the axes say"
            );
            Self::AXES
        }
    }

    /// Calls `f(tap, x0, n, out0)` for every tap and every row of input positions it scatters
    /// from: the `n` inputs from position `x0` on write the outputs `out0, out0 + stride, …`
    /// (the taps' positions outside the output cropped away).
    fn rows<const PIN: usize>(mut f: impl FnMut(usize, usize, usize, usize)) {
        let [ad, ah, aw] = Self::axes::<PIN>();
        for t in 0..ad.k * ah.k * aw.k {
            let (td, th, tw) = (t / (ah.k * aw.k), t / aw.k % ah.k, t % aw.k);
            let ((d0, d1), (h0, h1), (w0, w1)) = (
                ad.inputs_inside(td),
                ah.inputs_inside(th),
                aw.inputs_inside(tw),
            );
            if w0 == w1 {
                continue;
            }
            for id in d0..d1 {
                let od = id * ad.stride + td * ad.dilation - ad.crop;
                for ih in h0..h1 {
                    let oh = ih * ah.stride + th * ah.dilation - ah.crop;
                    let row_in = (id * ah.n + ih) * aw.n;
                    let row_out = (od * ah.out + oh) * aw.out;
                    let out0 = row_out + w0 * aw.stride + tw * aw.dilation - aw.crop;
                    f(t, row_in + w0, w1 - w0, out0);
                }
            }
        }
    }

    /// The transposed convolution plus the bias, before the activation.
    fn linear_into<const PIN: usize>(&self, x: &Tensor<CIN, PIN>, y: &mut Tensor<F, POUT>) {
        let stride = Self::axes::<PIN>()[2].stride;
        let (x, y) = (x.as_slice(), y.as_mut_slice());
        y.fill(0.0);
        let kernel = self.kernel.as_flattened();
        let mut scratch = Aligned([0.0f32; SCRATCH]);
        Self::rows::<PIN>(|t, x0, n, out0| {
            let tap = &kernel[t * F * CIN..][..F * CIN];
            let cols = &x[x0 * CIN..(x0 + n) * CIN];
            scatter_row(F, CIN, tap, cols, n, stride, out0, y, &mut scratch.0);
        });
        if BIAS {
            for out in y.chunks_exact_mut(F) {
                for (v, b) in out.iter_mut().zip(&self.bias) {
                    *v += b;
                }
            }
        }
    }
}

/// `y += kernel · x` for one tap over a row of `n` input positions, whose outputs are
/// `stride` positions apart starting at output position `out0` (`F` values each).
#[allow(clippy::too_many_arguments)]
fn scatter_row(
    f: usize,
    cin: usize,
    tap: &[f32],
    x: &[f32],
    n: usize,
    stride: usize,
    out0: usize,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    if stride == 1 {
        // Adjacent outputs: the product adds into them directly.
        crate::kernels::gemm(f, cin, n, tap, x, &mut y[out0 * f..][..n * f], true);
        return;
    }
    let run = scratch.len() / f;
    if run == 0 {
        // More filters than the buffer holds: one input position at a time.
        for (j, col) in x.chunks_exact(cin).enumerate() {
            let out = &mut y[(out0 + j * stride) * f..][..f];
            crate::kernels::gemv(f, cin, tap, f, col, out);
        }
        return;
    }
    for j0 in (0..n).step_by(run) {
        let m = run.min(n - j0);
        let products = &mut scratch[..m * f];
        crate::kernels::gemm(f, cin, m, tap, &x[j0 * cin..][..m * cin], products, false);
        for (j, part) in products.chunks_exact(f).enumerate() {
            let out = &mut y[(out0 + (j0 + j) * stride) * f..][..f];
            for (o, p) in out.iter_mut().zip(part) {
                *o += p;
            }
        }
    }
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Layer<Tensor<CIN, PIN>> for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    type Output = Tensor<F, POUT>;

    fn forward(&self, x: &Tensor<CIN, PIN>) -> Tensor<F, POUT> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<CIN, PIN>, y: &mut Tensor<F, POUT>) {
        self.linear_into(x, y);
        self.activation.apply(y.as_mut_slice(), F);
    }
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Weights for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    fn variables(&self) -> &'static [Variable] {
        &Self::VARIABLES[..if BIAS { 2 } else { 1 }]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        if index == 0 {
            let kernel = self.kernel.as_flattened_mut();
            for (i, v) in values.take(KC * F).enumerate() {
                kernel[packed_index(i, F, CIN)] = v;
            }
        } else {
            self.bias.iter_mut().zip(values).for_each(|(b, v)| *b = v);
        }
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        if index == 0 {
            let kernel = self.kernel.as_flattened();
            (0..KC * F).for_each(|i| out(kernel[packed_index(i, F, CIN)]));
        } else {
            self.bias.iter().for_each(|&v| out(v));
        }
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > crate::train::Init for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
}

/// The training path: the pre-activation `z` is kept for the activation's backward. Backward
/// mirrors the forward's products tap by tap: for each row of input positions and the outputs
/// it wrote, `∂kernel_tap += ∂z · xᵀ` and `∂x += kernel_tapᵀ · ∂z`; the kernel's gradient has
/// the kernel's `[tap][c][f]` layout.
impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
        const PIN: usize,
    > Train<Tensor<CIN, PIN>> for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    type Cache = Tensor<F, POUT>;

    fn forward_train(
        &self,
        x: &Tensor<CIN, PIN>,
        y: &mut Tensor<F, POUT>,
        z: &mut Tensor<F, POUT>,
        _ctx: &mut TrainCtx,
    ) {
        self.linear_into(x, z);
        *y = *z;
        self.activation.apply(y.as_mut_slice(), F);
    }

    fn backward(
        &self,
        x: &Tensor<CIN, PIN>,
        y: &Tensor<F, POUT>,
        z: &mut Tensor<F, POUT>,
        dy: &Tensor<F, POUT>,
        mut dx: Option<&mut Tensor<CIN, PIN>>,
        grads: Option<&mut Self>,
    ) {
        let dz = pre_activation_grad::<F>(
            self.activation,
            z.as_mut_slice(),
            y.as_slice(),
            dy.as_slice(),
        );
        let mut dkernel = match grads {
            Some(g) => {
                if BIAS {
                    bias_grad(dz, &mut g.bias);
                }
                Some(g.kernel.0.as_flattened_mut())
            }
            None => None,
        };
        if dx.is_none() && dkernel.is_none() {
            return;
        }
        let stride = Self::axes::<PIN>()[2].stride;
        let (x, kernel) = (x.as_slice(), self.kernel.as_flattened());
        let mut scratch = Aligned([0.0f32; SCRATCH]);
        Self::rows::<PIN>(|t, x0, n, out0| {
            let tap = t * F * CIN..(t + 1) * F * CIN;
            // Runs of positions whose output gradients sit side by side: all `n` with stride 1,
            // otherwise as many as the scratch holds once gathered (at least one: a single
            // position's gradients are contiguous).
            let run = if stride == 1 { n } else { (SCRATCH / F).max(1) };
            for j0 in (0..n).step_by(run) {
                let m = run.min(n - j0);
                let dzs: &[f32] = if stride == 1 || m == 1 {
                    &dz[(out0 + j0 * stride) * F..][..m * F]
                } else {
                    for (j, col) in scratch[..m * F].chunks_exact_mut(F).enumerate() {
                        col.copy_from_slice(&dz[(out0 + (j0 + j) * stride) * F..][..F]);
                    }
                    &scratch[..m * F]
                };
                let xs = (x0 + j0) * CIN..(x0 + j0 + m) * CIN;
                if let Some(dk) = dkernel.as_deref_mut() {
                    gemm_nt(F, m, CIN, dzs, &x[xs.clone()], &mut dk[tap.clone()]);
                }
                if let Some(dx) = dx.as_deref_mut() {
                    let dx = &mut dx.as_mut_slice()[xs];
                    gemm_tn(CIN, F, m, &kernel[tap.clone()], dzs, dx);
                }
            }
        });
    }
}

impl<
        const CIN: usize,
        const F: usize,
        D: TransposedWindow,
        H: TransposedWindow,
        W: TransposedWindow,
        const KC: usize,
        const POUT: usize,
        const BIAS: bool,
    > Params for ConvTranspose<CIN, F, D, H, W, KC, POUT, BIAS>
{
    fn trainable_count(&self) -> usize {
        1 + usize::from(BIAS)
    }

    /// The kernel in its packed `[tap][c][f]` layout (a permutation of Keras's), then the bias.
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
    use crate::shape::{OutputPadding, Same, TransposeAxis, Valid};
    use std::vec::Vec;

    #[test]
    fn variables_have_the_keras_rank_and_order() {
        let mut c: Conv2dTranspose<
            3,
            2,
            TransposeAxis<2, 2, 1, 1>,
            TransposeAxis<3, 3, 2, 1>,
            18,
            21,
        > = Conv2dTranspose::default();
        assert_eq!(c.variables()[0].shape, &[2, 3, 2, 3]);
        assert_eq!(c.param_count(), 36 + 2);
        c.load_variable(0, &mut (0..36).map(|i| i as f32));
        let mut back = Vec::new();
        c.store_variable(0, &mut |v| back.push(v));
        assert_eq!(back, (0..36).map(|i| i as f32).collect::<Vec<_>>());
    }

    /// The scatter definition, one value at a time, with f64 sums.
    fn reference(
        axes: [TransposedAxisGeometry; 3],
        f: usize,
        cin: usize,
        x: &[f32],
        keras: &[f32],
    ) -> Vec<f32> {
        let [ad, ah, aw] = axes;
        let mut y = std::vec![0.0f64; ad.out * ah.out * aw.out * f];
        for id in 0..ad.n {
            for ih in 0..ah.n {
                for iw in 0..aw.n {
                    let i = (id * ah.n + ih) * aw.n + iw;
                    for (td, th, tw) in (0..ad.k).flat_map(|a| {
                        (0..ah.k).flat_map(move |b| (0..aw.k).map(move |c| (a, b, c)))
                    }) {
                        let (Some(od), Some(oh), Some(ow)) = (
                            ad.output_index(id, td),
                            ah.output_index(ih, th),
                            aw.output_index(iw, tw),
                        ) else {
                            continue;
                        };
                        let o = (od * ah.out + oh) * aw.out + ow;
                        let t = (td * ah.k + th) * aw.k + tw;
                        for ff in 0..f {
                            for c in 0..cin {
                                y[o * f + ff] += f64::from(x[i * cin + c])
                                    * f64::from(keras[(t * f + ff) * cin + c]);
                            }
                        }
                    }
                }
            }
        }
        y.into_iter().map(|v| v as f32).collect()
    }

    fn check<L, const CIN: usize, const F: usize, const PIN: usize, const POUT: usize>(
        axes: [TransposedAxisGeometry; 3],
    ) where
        L: Layer<Tensor<CIN, PIN>, Output = Tensor<F, POUT>> + Weights + Default,
    {
        let mut layer = L::default();
        let value = |i: usize| ((i * 7919) % 997) as f32 / 499.0 - 1.0;
        let taps = axes.iter().map(|a| a.k).product::<usize>();
        let keras: Vec<f32> = (0..taps * F * CIN).map(value).collect();
        layer.load_variable(0, &mut keras.iter().copied());
        let mut x: Tensor<CIN, PIN> = crate::zeros();
        x.as_mut_slice()
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = value(i + 17));
        let want = reference(axes, F, CIN, x.as_slice(), &keras);
        let got = layer.forward(&x);
        for (i, (g, w)) in got.as_slice().iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{axes:?} value {i}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn agrees_with_the_scatter_definition() {
        fn axes<D: TransposedWindow, H: TransposedWindow, W: TransposedWindow>(
        ) -> [TransposedAxisGeometry; 3] {
            [D::AXIS, H::AXIS, W::AXIS]
        }
        type S3 = TransposeAxis<5, 3, 2, 1, Same>;
        check::<Conv1dTranspose<3, 2, S3, 9, 10, false>, 3, 2, 5, 10>(axes::<NoAxis, NoAxis, S3>());
        type V4 = TransposeAxis<5, 4, 3, 1, Same, OutputPadding<2>>;
        check::<Conv1dTranspose<2, 5, V4, 8, 14, false>, 2, 5, 5, 14>(axes::<NoAxis, NoAxis, V4>());
        type D2 = TransposeAxis<5, 3, 1, 2, Valid>;
        check::<Conv1dTranspose<2, 3, D2, 6, 9, false>, 2, 3, 5, 9>(axes::<NoAxis, NoAxis, D2>());
        // More filters than the scratch buffer holds, with stride 2: one position at a time.
        type W2 = TransposeAxis<3, 2, 2, 1, Valid>;
        check::<Conv1dTranspose<2, 5000, W2, 4, 6, false>, 2, 5000, 3, 6>(
            axes::<NoAxis, NoAxis, W2>(),
        );
        type R = TransposeAxis<3, 3, 2, 1, Same>;
        type C = TransposeAxis<4, 2, 3, 1, Valid, OutputPadding<1>>;
        check::<Conv2dTranspose<2, 3, R, C, 12, 72, false>, 2, 3, 12, 72>(axes::<NoAxis, R, C>());
        type Z = TransposeAxis<2, 2, 2, 1, Valid>;
        check::<Conv3dTranspose<2, 2, Z, Z, Z, 16, 64, false>, 2, 2, 8, 64>(axes::<Z, Z, Z>());
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::{fill, gradients};
        for act in [Activation::Linear, Activation::Tanh, Activation::Softmax] {
            type S3 = TransposeAxis<4, 3, 2, 1, Same>;
            let mut c: Conv1dTranspose<3, 2, S3, 9, 8> = Conv1dTranspose::new(act);
            fill(&mut c, 1);
            gradients::<_, Tensor<3, 4>>(&c, 2);
            type V4 = TransposeAxis<3, 4, 3, 1, Same, OutputPadding<2>>;
            type D2 = TransposeAxis<3, 2, 1, 2, Valid>;
            let mut c: Conv2dTranspose<2, 3, V4, D2, 16, 40, false> = Conv2dTranspose::new(act);
            fill(&mut c, 3);
            gradients::<_, Tensor<2, 9>>(&c, 4);
        }
        type Z = TransposeAxis<2, 2, 2, 1, Valid>;
        type O = TransposeAxis<2, 3, 2, 1, Valid, OutputPadding<1>>;
        let mut c: Conv3dTranspose<2, 2, Z, O, Z, 24, 96> =
            Conv3dTranspose::new(Activation::Sigmoid);
        fill(&mut c, 5);
        gradients::<_, Tensor<2, 8>>(&c, 6);
    }
}
