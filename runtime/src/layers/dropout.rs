//! `Dropout`: the identity at inference.

use crate::layer::{no_weights, Layer, Weights};

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
