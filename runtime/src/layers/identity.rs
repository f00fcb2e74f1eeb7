//! The layers that are the identity at inference: `Identity`, and the noise and dropout
//! variants that only act in training (`SpatialDropout1D/2D/3D`, `GaussianNoise`,
//! `GaussianDropout`, `AlphaDropout`). Each keeps its training argument for the record.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;

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

/// Keras `SpatialDropout1D(rate, seed=None)`, `SpatialDropout2D(rate, data_format=None,
/// seed=None)`, `SpatialDropout3D(…)`: in training they drop whole channels; at inference
/// (`predict`) Keras returns the input unchanged, and so does this layer.
///
/// # Shapes
/// - input and output: any tensor, unchanged (Keras asks rank 2, 3 or 4 without the batch).
///
/// ```
/// use static_keras_runtime::{zeros, Layer, SpatialDropout};
/// let x = zeros::<3, 4>();
/// assert_eq!(SpatialDropout::new(0.5).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpatialDropout {
    /// The training-time rate at which channels are dropped.
    pub rate: f32,
}

zeroable!([] SpatialDropout => SpatialDropout { rate });

impl SpatialDropout {
    /// A layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self { rate }
    }
}

/// Keras `GaussianNoise(stddev, seed=None)`: adds zero-mean noise in training; the identity at
/// inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, GaussianNoise, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(GaussianNoise::new(0.1).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GaussianNoise {
    /// The training-time standard deviation of the noise.
    pub stddev: f32,
}

zeroable!([] GaussianNoise => GaussianNoise { stddev });

impl GaussianNoise {
    /// A layer with the given training noise.
    pub const fn new(stddev: f32) -> Self {
        Self { stddev }
    }
}

/// Keras `GaussianDropout(rate, seed=None)`: multiplies by noise of mean 1 in training; the
/// identity at inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, GaussianDropout, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(GaussianDropout::new(0.2).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GaussianDropout {
    /// The training-time rate.
    pub rate: f32,
}

zeroable!([] GaussianDropout => GaussianDropout { rate });

impl GaussianDropout {
    /// A layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self { rate }
    }
}

/// Keras `AlphaDropout(rate, noise_shape=None, seed=None)`: SELU-preserving dropout in
/// training; the identity at inference.
///
/// # Shapes
/// - input and output: any tensor, unchanged.
///
/// ```
/// use static_keras_runtime::{zeros, AlphaDropout, Layer};
/// let x = zeros::<3, 1>();
/// assert_eq!(AlphaDropout::new(0.2).forward(&x), x);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AlphaDropout {
    /// The training-time rate.
    pub rate: f32,
}

zeroable!([] AlphaDropout => AlphaDropout { rate });

impl AlphaDropout {
    /// A layer with the given training rate.
    pub const fn new(rate: f32) -> Self {
        Self { rate }
    }
}

/// The identity `Layer` and empty `Weights` of each type.
macro_rules! identity_layers {
    ($($ty:ident),*) => {$(
        impl<T: Clone> Layer<T> for $ty {
            type Output = T;
            #[inline]
            fn forward(&self, x: &T) -> T {
                x.clone()
            }
        }

        no_weights!(Weights for $ty);
    )*};
}

identity_layers!(
    Identity,
    SpatialDropout,
    GaussianNoise,
    GaussianDropout,
    AlphaDropout
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeros;

    #[test]
    fn every_layer_returns_its_input() {
        let mut x = zeros::<2, 3>();
        x.as_mut_slice()
            .copy_from_slice(&[1.0, -2.0, 3.5, 0.0, -0.5, 9.0]);
        assert_eq!(Identity.forward(&x), x);
        assert_eq!(SpatialDropout::new(0.9).forward(&x), x);
        assert_eq!(GaussianNoise::new(1.0).forward(&x), x);
        assert_eq!(GaussianDropout::new(0.5).forward(&x), x);
        assert_eq!(AlphaDropout::new(0.5).forward(&x), x);
        assert_eq!(Identity.param_count(), 0);
    }
}
