//! `Rescaling`: `y = x·scale + offset`.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::{zeroable, InPlace};
use crate::train::{no_params, stateless_train, Params};
use crate::{zeros, Tensor};

/// Keras `Rescaling(scale, offset=0.0)` with scalar `scale` and `offset`: `y = x·scale + offset`
/// for every value (e.g. `Rescaling(1.0 / 255)` for pixels).
///
/// # Shapes
/// - input and output: `Tensor<F, P>` (any Keras shape). No variables.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, Rescaling, Tensor};
/// let r = Rescaling::new(0.5, -1.0);
/// let mut x: Tensor<2, 1> = zeros();
/// x.as_mut_slice().copy_from_slice(&[4.0, 0.0]);
/// assert_eq!(r.forward(&x).as_slice(), &[1.0, -1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rescaling {
    /// The factor.
    pub scale: f32,
    /// Added after the factor.
    pub offset: f32,
}

zeroable!([] Rescaling => Rescaling { scale, offset });

impl Rescaling {
    /// The layer; usable in `const` context.
    pub const fn new(scale: f32, offset: f32) -> Self {
        Self { scale, offset }
    }
}

impl Default for Rescaling {
    /// The identity (`scale = 1`, `offset = 0`).
    fn default() -> Self {
        Self::new(1.0, 0.0)
    }
}

impl<const F: usize, const P: usize> Layer<Tensor<F, P>> for Rescaling {
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>) {
        let (scale, offset) = (self.scale, self.offset);
        for (y, &x) in y.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *y = x * scale + offset;
        }
    }
}

impl<const F: usize, const P: usize> InPlace<Tensor<F, P>> for Rescaling {
    fn forward_in_place(&self, x: &mut Tensor<F, P>) {
        let (scale, offset) = (self.scale, self.offset);
        for v in x.as_mut_slice() {
            *v = *v * scale + offset;
        }
    }
}

no_weights!(Weights for Rescaling);

stateless_train! {
    /// The training path: `∂x = ∂y · scale`.
    impl[const F: usize, const P: usize] Train<Tensor<F, P>> for Rescaling;
    fn backward(&self, _x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        for (d, &g) in dx.as_mut_slice().iter_mut().zip(dy.as_slice()) {
            *d += g * self.scale;
        }
    }
}

no_params!(Params for Rescaling);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_to_unit_range() {
        let r = Rescaling::new(1.0 / 127.5, -1.0);
        let mut x: Tensor<3, 1> = zeros();
        x.as_mut_slice().copy_from_slice(&[0.0, 127.5, 255.0]);
        assert_eq!(r.forward(&x).as_slice(), &[-1.0, 0.0, 1.0]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        crate::train::check::gradients::<_, Tensor<3, 2>>(&Rescaling::new(-2.5, 0.5), 1);
    }
}
