//! `Identity`: returns its input, at inference and in training. (The noise layers, the identity
//! at inference only, are in `noise.rs`.)

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{add_into, no_params, stateless_train, Params};
use crate::Tensor;

/// Keras `Identity()`: returns its input.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, Identity, Layer};
/// let mut x = zeros::<2, 1>();
/// x.as_mut_slice().copy_from_slice(&[1.0, -1.0]);
/// assert_eq!(Identity.forward(&x).as_slice(), &[1.0, -1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Identity;

zeroable!([] Identity => Identity);

impl<T: Clone> Layer<T> for Identity {
    type Output = T;
    #[inline]
    fn forward(&self, x: &T) -> T {
        x.clone()
    }
}

no_weights!(Weights for Identity);

stateless_train! {
    /// Training: the identity, and the gradient passes unchanged.
    impl[const F: usize, const P: usize] Train<Tensor<F, P>> for Identity;
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            add_into(dx.as_mut_slice(), dy.as_slice());
        }
    }
}

no_params!(Params for Identity);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{zeros, AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout};

    #[test]
    fn every_layer_returns_its_input_at_inference() {
        let mut x = zeros::<2, 3>();
        x.as_mut_slice()
            .copy_from_slice(&[1.0, -2.0, 3.5, 0.0, -0.5, 9.0]);
        assert_eq!(Identity.forward(&x), x);
        assert_eq!(SpatialDropout::new(0.9, &[3, 2], false).forward(&x), x);
        assert_eq!(GaussianNoise::new(1.0).forward(&x), x);
        assert_eq!(GaussianDropout::new(0.5).forward(&x), x);
        assert_eq!(AlphaDropout::new(0.5).forward(&x), x);
        assert_eq!(Identity.param_count(), 0);
    }

    #[test]
    fn gradients_match_finite_differences() {
        crate::train::check::gradients::<_, Tensor<3, 2>>(&Identity, 1);
    }
}
