//! `Dropout`: the identity at inference.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{no_params, Params, Train, TrainCtx};
use crate::Tensor;

/// Keras `Dropout(rate, noise_shape=None, seed=None)`. At inference (`predict`) Keras returns the
/// input unchanged, whatever the rate, and so does this layer.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{Dropout, Layer, Tensor};
/// let x = Tensor::<3, 1>::from_slice(&[1.0, 2.0, 3.0]);
/// assert_eq!(Dropout::new(0.5).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dropout {
    /// The training-time drop rate, kept for the record.
    pub rate: f32,
}

zeroable!([] Dropout => Dropout { rate });

impl Dropout {
    /// A dropout layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self { rate }
    }
}

impl<T: Clone> Layer<T> for Dropout {
    type Output = T;
    #[inline]
    fn forward(&self, x: &T) -> T {
        x.clone()
    }
}

no_weights!(Weights for Dropout);

/// Training: each value is kept with probability `1 − rate` and then divided by `1 − rate` (as
/// Keras computes it: a division, not a product with the reciprocal), dropped values are 0. The
/// cache keeps the mask (1 kept, 0 dropped); the gradient passes where the value was kept,
/// divided alike. Keras's random bits cannot be reproduced, only their distribution; `rate == 0`
/// is the identity, as in Keras. (`noise_shape` is not applied in training.)
impl<const F: usize, const P: usize> Train<Tensor<F, P>> for Dropout {
    type Cache = Tensor<F, P>;

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<F, P>,
        mask: &mut Tensor<F, P>,
        ctx: &mut TrainCtx,
    ) {
        let keep = 1.0 - self.rate;
        for ((y, m), &x) in y
            .as_mut_slice()
            .iter_mut()
            .zip(mask.as_mut_slice())
            .zip(x.as_slice())
        {
            let kept = self.rate <= 0.0 || ctx.rng.uniform() < keep;
            *m = if kept { 1.0 } else { 0.0 };
            *y = if self.rate <= 0.0 {
                x
            } else if kept {
                x / keep
            } else {
                0.0
            };
        }
    }

    fn backward(
        &self,
        _x: &Tensor<F, P>,
        _y: &Tensor<F, P>,
        mask: &mut Tensor<F, P>,
        dy: &Tensor<F, P>,
        dx: Option<&mut Tensor<F, P>>,
        _grads: Option<&mut Self>,
    ) {
        let Some(dx) = dx else { return };
        let keep = 1.0 - self.rate;
        for ((d, &m), &g) in dx
            .as_mut_slice()
            .iter_mut()
            .zip(mask.as_slice())
            .zip(dy.as_slice())
        {
            *d += if self.rate <= 0.0 {
                g
            } else if m != 0.0 {
                g / keep
            } else {
                0.0
            };
        }
    }
}

no_params!(Params for Dropout);
