//! `Dense`: a matrix product over the last axis, plus bias and activation.

use crate::kernels::gemm;
use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::train::products::{gemm_nt, gemm_tn};
use crate::train::{Params, Train, TrainCtx};
use crate::{tensor_from_le_bytes, zeros, Activation, Aligned, Tensor};

/// A densely connected layer, Keras `Dense(units, activation=None, use_bias=True)`.
///
/// `y = activation(x · kernel + bias)`, contracting the **last** axis of the input, so a `(T, IN)`
/// input gives `(T, UNITS)` as in Keras.
///
/// # Shapes
/// - input: `Tensor<IN, P>` (Keras `(…, IN)`, any number `P` of positions)
/// - output: `Tensor<UNITS, P>` (Keras `(…, UNITS)`)
/// - variables: `kernel (IN, UNITS)`, and `bias (UNITS,)` when `BIAS`.
///
/// ```
/// use static_keras_runtime::{Activation, Dense, Layer, Tensor, Weights};
/// let mut dense: Dense<2, 1> = Dense::new(Activation::Relu);
/// dense.load_variable(0, &mut [2.0, -1.0].into_iter()); // kernel (2, 1)
/// dense.load_variable(1, &mut [0.5].into_iter()); // bias (1,)
/// assert_eq!(dense.kernel[[1, 0]], -1.0); // Keras's kernel[1, 0]
/// let y = dense.forward(&Tensor::<2, 1>::from_slice(&[3.0, 1.0]));
/// assert_eq!(y[0], 5.5); // relu(3·2 + 1·(−1) + 0.5)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<const IN: usize, const UNITS: usize, const BIAS: bool = true> {
    /// The Keras kernel `(IN, UNITS)` in its row-major order (`kernel[[i, u]]` is Keras's
    /// `kernel[i, u]`), which is the column-major matrix `W` with `y = W·x`; aligned to a cache
    /// line for the SIMD products.
    pub kernel: Aligned<Tensor<UNITS, IN>>,
    /// The bias (zeros and unused when `BIAS` is false).
    pub bias: Tensor<UNITS, 1>,
    /// Applied after the bias.
    pub activation: Activation,
}

zeroable!([const IN: usize, const UNITS: usize, const BIAS: bool] Dense<IN, UNITS, BIAS> => Dense { kernel, bias, activation });

impl<const IN: usize, const UNITS: usize, const BIAS: bool> Dense<IN, UNITS, BIAS> {
    const WITH_BIAS: &'static [Variable] = &[
        Variable {
            name: "kernel",
            shape: &[IN, UNITS],
        },
        Variable {
            name: "bias",
            shape: &[UNITS],
        },
    ];
    const WITHOUT_BIAS: &'static [Variable] = &[Variable {
        name: "kernel",
        shape: &[IN, UNITS],
    }];

    /// A layer with zero weights and the given activation.
    pub const fn new(activation: Activation) -> Self {
        Self {
            kernel: Aligned(zeros()),
            bias: zeros(),
            activation,
        }
    }

    /// The layer from its Keras variables as raw little-endian f32 (kernel, then bias), at
    /// compile time: `static` models built this way keep their weights in flash.
    pub const fn from_le_bytes_const(bytes: &[u8], activation: Activation) -> Self {
        assert!(
            bytes.len() == 4 * (IN * UNITS + if BIAS { UNITS } else { 0 }),
            "Dense: weight byte count does not match (IN * UNITS + UNITS) * 4"
        );
        let (kernel, bias) = bytes.split_at(4 * IN * UNITS);
        Self {
            kernel: Aligned(tensor_from_le_bytes(kernel)),
            bias: if BIAS {
                tensor_from_le_bytes(bias)
            } else {
                zeros()
            },
            activation,
        }
    }
}

impl<const IN: usize, const UNITS: usize, const BIAS: bool> Default for Dense<IN, UNITS, BIAS> {
    fn default() -> Self {
        Self::new(Activation::Linear)
    }
}

impl<const IN: usize, const UNITS: usize, const BIAS: bool, const P: usize> Layer<Tensor<IN, P>>
    for Dense<IN, UNITS, BIAS>
{
    type Output = Tensor<UNITS, P>;

    fn forward(&self, x: &Tensor<IN, P>) -> Tensor<UNITS, P> {
        let mut y = Tensor::<UNITS, P>::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<IN, P>, y: &mut Tensor<UNITS, P>) {
        if BIAS {
            for mut column in y.as_matrix_mut().column_iter_mut() {
                column.copy_from(self.bias.as_matrix());
            }
        }
        gemm(
            UNITS,
            IN,
            P,
            self.kernel.as_slice(),
            x.as_slice(),
            y.as_mut_slice(),
            BIAS,
        );
        self.activation.apply(y.as_mut_slice(), UNITS);
    }

    /// One matrix-matrix product over the batch: the kernel is read once, not once per sample.
    fn forward_batch(&self, xs: &[Tensor<IN, P>], ys: &mut [Tensor<UNITS, P>]) {
        assert_eq!(xs.len(), ys.len(), "as many outputs as inputs");
        let y = crate::flat_mut(ys);
        if BIAS {
            for column in y.chunks_exact_mut(UNITS) {
                column.copy_from_slice(self.bias.as_slice());
            }
        }
        gemm(
            UNITS,
            IN,
            P * xs.len(),
            self.kernel.as_slice(),
            crate::flat(xs),
            y,
            BIAS,
        );
        self.activation.apply(y, UNITS);
    }
}

impl<const IN: usize, const UNITS: usize, const BIAS: bool> Weights for Dense<IN, UNITS, BIAS> {
    fn variables(&self) -> &'static [Variable] {
        if BIAS {
            Self::WITH_BIAS
        } else {
            Self::WITHOUT_BIAS
        }
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        // Row-major (IN, UNITS) is column-major (UNITS, IN): both are straight copies.
        let target = match index {
            0 => self.kernel.as_mut_slice(),
            _ => self.bias.as_mut_slice(),
        };
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        let source = match index {
            0 => self.kernel.as_slice(),
            _ => self.bias.as_slice(),
        };
        source.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<const IN: usize, const UNITS: usize, const BIAS: bool> crate::train::Init
    for Dense<IN, UNITS, BIAS>
{
}

/// The training path: the pre-activation `z = W·x + b` is kept for the activation's backward.
impl<const IN: usize, const UNITS: usize, const BIAS: bool, const P: usize> Train<Tensor<IN, P>>
    for Dense<IN, UNITS, BIAS>
{
    type Cache = Tensor<UNITS, P>;

    fn forward_train(
        &self,
        x: &Tensor<IN, P>,
        y: &mut Tensor<UNITS, P>,
        z: &mut Tensor<UNITS, P>,
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_batch(
            core::slice::from_ref(x),
            core::slice::from_mut(y),
            core::slice::from_mut(z),
            ctx,
        );
    }

    fn backward(
        &self,
        x: &Tensor<IN, P>,
        y: &Tensor<UNITS, P>,
        z: &mut Tensor<UNITS, P>,
        dy: &Tensor<UNITS, P>,
        dx: Option<&mut Tensor<IN, P>>,
        grads: Option<&mut Self>,
    ) {
        self.backward_batch(
            core::slice::from_ref(x),
            core::slice::from_ref(y),
            core::slice::from_mut(z),
            core::slice::from_ref(dy),
            dx.map(core::slice::from_mut),
            grads,
        );
    }

    /// One matrix product for the batch, as inference does.
    fn forward_train_batch(
        &self,
        xs: &[Tensor<IN, P>],
        ys: &mut [Tensor<UNITS, P>],
        zs: &mut [Tensor<UNITS, P>],
        _ctx: &mut TrainCtx,
    ) {
        let z = crate::flat_mut(zs);
        if BIAS {
            for column in z.chunks_exact_mut(UNITS) {
                column.copy_from_slice(self.bias.as_slice());
            }
        }
        let n = P * xs.len();
        gemm(
            UNITS,
            IN,
            n,
            self.kernel.as_slice(),
            crate::flat(xs),
            z,
            BIAS,
        );
        let y = crate::flat_mut(ys);
        y.copy_from_slice(z);
        self.activation.apply(y, UNITS);
    }

    /// `∂z` through the activation (written over the cached `z`, which nothing needs any
    /// more), then three products over the whole batch: `∂W += ∂z·xᵀ`, `∂b += Σ ∂z`,
    /// `∂x += Wᵀ·∂z`.
    fn backward_batch(
        &self,
        xs: &[Tensor<IN, P>],
        ys: &[Tensor<UNITS, P>],
        zs: &mut [Tensor<UNITS, P>],
        dys: &[Tensor<UNITS, P>],
        dxs: Option<&mut [Tensor<IN, P>]>,
        grads: Option<&mut Self>,
    ) {
        let n = P * xs.len();
        let dy = crate::flat(dys);
        let dz: &[f32] = if self.activation == Activation::Linear {
            dy
        } else {
            let z = crate::flat_mut(zs);
            let y = crate::flat(ys);
            let mut column = [0.0f32; UNITS];
            for ((z, y), dy) in z
                .chunks_exact_mut(UNITS)
                .zip(y.chunks_exact(UNITS))
                .zip(dy.chunks_exact(UNITS))
            {
                self.activation.backward(z, y, dy, &mut column, UNITS);
                z.copy_from_slice(&column);
            }
            crate::flat(zs)
        };
        if let Some(g) = grads {
            gemm_nt(UNITS, n, IN, dz, crate::flat(xs), g.kernel.as_mut_slice());
            if BIAS {
                for column in dz.chunks_exact(UNITS) {
                    for (b, d) in g.bias.as_mut_slice().iter_mut().zip(column) {
                        *b += d;
                    }
                }
            }
        }
        if let Some(dxs) = dxs {
            gemm_tn(
                IN,
                UNITS,
                n,
                self.kernel.as_slice(),
                dz,
                crate::flat_mut(dxs),
            );
        }
    }
}

impl<const IN: usize, const UNITS: usize, const BIAS: bool> Params for Dense<IN, UNITS, BIAS> {
    fn trainable_count(&self) -> usize {
        1 + usize::from(BIAS)
    }

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

    #[test]
    fn acts_on_the_last_axis_of_a_sequence() {
        let mut d: Dense<2, 3> = Dense::new(Activation::Linear);
        // kernel (2, 3) row-major: [[1, 2, 3], [4, 5, 6]]; bias [0.5, 0, -0.5]
        d.load_variable(0, &mut [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into_iter());
        d.load_variable(1, &mut [0.5, 0.0, -0.5].into_iter());
        // (T=2, F=2): [[1, 0], [0, 1]]
        let x = Tensor::<2, 2>::from_slice(&[1.0, 0.0, 0.0, 1.0]);
        let y = d.forward(&x);
        assert_eq!(y.as_slice(), &[1.5, 2.0, 2.5, 4.5, 5.0, 5.5]);
        assert_eq!(d.param_count(), 9);
        let no_bias: Dense<2, 3, false> = Dense::default();
        assert_eq!(no_bias.param_count(), 6);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for act in [
            Activation::Linear,
            Activation::Tanh,
            Activation::Softmax,
            Activation::Gelu,
        ] {
            let mut d: Dense<3, 4> = Dense::new(act);
            crate::train::check::fill(&mut d, 1);
            crate::train::check::gradients::<_, Tensor<3, 2>>(&d, 7);
        }
    }

    #[test]
    fn a_batch_gives_what_each_sample_gives() {
        let mut d: Dense<3, 2> = Dense::new(Activation::Softmax);
        d.load_variable(0, &mut [1.0, -2.0, 0.5, 3.0, -1.0, 0.25].into_iter());
        d.load_variable(1, &mut [0.1, -0.1].into_iter());
        let xs: [Tensor<3, 2>; 3] = core::array::from_fn(|s| {
            let values: [f32; 6] = core::array::from_fn(|i| (s * 6 + i) as f32 * 0.1);
            Tensor::from_slice(&values)
        });
        let mut ys = [Tensor::<2, 2>::zeros(); 3];
        d.forward_batch(&xs, &mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            assert_eq!(*y, d.forward(x));
        }
    }
}
