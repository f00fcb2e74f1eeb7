//! `Activation(name)` as a layer, and `glu`, the one activation that changes the shape.

use crate::activation::sigmoid;
use crate::layer::{no_weights, Layer, Weights};
use crate::memory::{zeroable, InPlace};
use crate::train::{add_into, no_params, stateless_train, Params};
use crate::{Activation, Tensor};

/// Keras `Activation(name)`: applies an activation to every value (softmax-like ones along the
/// last axis).
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, any shape.
///
/// ```
/// use static_keras_runtime::{Activation, ActivationLayer, Layer, Tensor};
/// let layer = ActivationLayer::new(Activation::Softmax);
/// let y = layer.forward(&Tensor::<2, 1>::from_slice(&[1.0, 1.0]));
/// assert_eq!(y.as_slice(), &[0.5, 0.5]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActivationLayer {
    /// The function applied.
    pub activation: Activation,
}

zeroable!([] ActivationLayer => ActivationLayer { activation });

impl ActivationLayer {
    /// A layer applying `activation`.
    pub const fn new(activation: Activation) -> Self {
        Self { activation }
    }
}

impl<const F: usize, const P: usize> Layer<Tensor<F, P>> for ActivationLayer {
    type Output = Tensor<F, P>;
    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = *x;
        self.activation.apply(y.as_mut_slice(), F);
        y
    }

    fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>) {
        y.as_mut_slice().copy_from_slice(x.as_slice());
        self.activation.apply(y.as_mut_slice(), F);
    }
}

impl<const F: usize, const P: usize> InPlace<Tensor<F, P>> for ActivationLayer {
    fn forward_in_place(&self, x: &mut Tensor<F, P>) {
        self.activation.apply(x.as_mut_slice(), F);
    }
}

no_weights!(Weights for ActivationLayer);

/// Keras `Activation("glu")`: splits the last axis into halves `a`, `b` and returns `a·sigmoid(b)`.
///
/// # Shapes
/// - input: `Tensor<IN, P>` with `IN` even
/// - output: `Tensor<OUT, P>`, `OUT = IN / 2`
///
/// ```
/// use static_keras_runtime::{Glu, Layer, Tensor};
/// let y = Glu::<4, 2>.forward(&Tensor::<4, 1>::from_slice(&[1.0, 2.0, 0.0, 0.0]));
/// assert_eq!(y.as_slice(), &[0.5, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Glu<const IN: usize, const OUT: usize>;

zeroable!([const IN: usize, const OUT: usize] Glu<IN, OUT> => Glu);

impl<const IN: usize, const OUT: usize, const P: usize> Layer<Tensor<IN, P>> for Glu<IN, OUT> {
    type Output = Tensor<OUT, P>;
    fn forward(&self, x: &Tensor<IN, P>) -> Tensor<OUT, P> {
        const {
            assert!(
                IN == 2 * OUT,
                "glu halves the last axis: IN must be 2 * OUT"
            )
        };
        let mut y = Tensor::<OUT, P>::zeros();
        for (out, input) in y
            .as_matrix_mut()
            .column_iter_mut()
            .zip(x.as_matrix().column_iter())
        {
            for (i, o) in out.into_iter().enumerate() {
                *o = input[i] * sigmoid(input[OUT + i]);
            }
        }
        y
    }
}

no_weights!(<const IN: usize, const OUT: usize> Weights for Glu<IN, OUT>);

stateless_train! {
    impl[const F: usize, const P: usize] Train<Tensor<F, P>> for ActivationLayer;
    fn backward(&self, x, y, dy, dx) {
        if let Some(dx) = dx {
            let mut d = Tensor::<F, P>::zeros();
            self.activation.backward(
                x.as_slice(),
                y.as_slice(),
                dy.as_slice(),
                d.as_mut_slice(),
                F,
            );
            add_into(dx.as_mut_slice(), d.as_slice());
        }
    }
}

no_params!(Params for ActivationLayer);

stateless_train! {
    /// `∂a = ∂y·σ(b)`, `∂b = ∂y·a·σ(b)·(1 − σ(b))`.
    impl[const IN: usize, const OUT: usize, const P: usize] Train<Tensor<IN, P>> for Glu<IN, OUT>;
    fn backward(&self, x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        for ((dx, x), dy) in dx
            .as_mut_slice()
            .chunks_exact_mut(IN)
            .zip(x.as_slice().chunks_exact(IN))
            .zip(dy.as_slice().chunks_exact(OUT))
        {
            for i in 0..OUT {
                let s = sigmoid(x[OUT + i]);
                dx[i] += dy[i] * s;
                dx[OUT + i] += dy[i] * x[i] * s * (1.0 - s);
            }
        }
    }
}

no_params!(<const IN: usize, const OUT: usize> Params for Glu<IN, OUT>);
