//! `Masking`: marks the steps whose features all equal a padding value, for recurrent layers.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{no_params, stateless_train, Params};
use crate::{zeros, Tensor};

/// Keras `Masking(mask_value=0.0)`: a step (a position of the input) whose features all equal
/// `mask_value` is masked: its output is zeros, and the mask [`Masking::mask`] tells recurrent
/// layers downstream to skip it (they then carry their output and state over it, as in Keras).
///
/// Values are compared as f32, as Keras compares them with its float32 input.
///
/// # Shapes
/// - input and output: `Tensor<F, P>`; the mask has one entry per position, `[bool; P]`.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, Masking};
/// // Keras: Masking(-1.0) on a (3, 2) input whose step 1 is padding.
/// let mut x = zeros::<2, 3>();
/// x.as_mut_slice().copy_from_slice(&[1.0, -1.0, -1.0, -1.0, 0.0, 2.0]);
/// let masking = Masking::new(-1.0);
/// assert_eq!(masking.mask(&x), [true, false, true]);
/// assert_eq!(masking.forward(&x).as_slice(), &[1.0, -1.0, 0.0, 0.0, 0.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Masking {
    /// The padding value.
    pub mask_value: f32,
}

zeroable!([] Masking => Masking { mask_value });

impl Masking {
    /// A layer masking the steps that are all `mask_value`.
    pub const fn new(mask_value: f32) -> Self {
        Self { mask_value }
    }

    /// Keras's `compute_mask`: `true` where some feature of the position differs from
    /// `mask_value` (the position is kept).
    pub fn mask<const F: usize, const P: usize>(&self, x: &Tensor<F, P>) -> [bool; P] {
        let mut mask = [false; P];
        for (m, step) in mask.iter_mut().zip(x.as_slice().chunks_exact(F)) {
            *m = step.iter().any(|&v| v != self.mask_value);
        }
        mask
    }
}

impl<const F: usize, const P: usize> Layer<Tensor<F, P>> for Masking {
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = zeros::<F, P>();
        for (out, step) in y
            .as_mut_slice()
            .chunks_exact_mut(F)
            .zip(x.as_slice().chunks_exact(F))
        {
            if step.iter().any(|&v| v != self.mask_value) {
                out.copy_from_slice(step);
            }
        }
        y
    }
}

no_weights!(Weights for Masking);

stateless_train! {
    /// Training: the forward pass as at inference; the gradient passes to the kept steps and not to
    /// the masked ones (whose output is the constant 0).
    impl[const F: usize, const P: usize] Train<Tensor<F, P>> for Masking;
    fn backward(&self, x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        let kept = self.mask(x);
        for ((d, g), kept) in dx
            .as_mut_slice()
            .chunks_exact_mut(F)
            .zip(dy.as_slice().chunks_exact(F))
            .zip(kept)
        {
            if kept {
                crate::train::add_into(d, g);
            }
        }
    }
}

no_params!(Params for Masking);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Train, TrainCtx};

    #[test]
    fn a_step_is_masked_only_when_every_feature_is_the_mask_value() {
        let mut x = zeros::<3, 4>();
        x.as_mut_slice().copy_from_slice(&[
            0.0, 0.0, 0.0, // masked
            0.0, 0.0, 1e-30, // kept: one feature differs
            -0.0, 0.0, 0.0, // masked: -0 equals 0
            5.0, 5.0, 5.0,
        ]);
        let masking = Masking::default();
        assert_eq!(masking.mask(&x), [false, true, false, true]);
        let y = masking.forward(&x);
        assert_eq!(&y.as_slice()[3..6], &[0.0, 0.0, 1e-30]);
        assert_eq!(&y.as_slice()[9..], &[5.0, 5.0, 5.0]);
        assert!(y.as_slice()[6].is_sign_positive(), "masked steps are +0");
        let fives = Masking::new(5.0);
        assert_eq!(fives.mask(&x), [true, true, true, false]);
        assert_eq!(&fives.forward(&x).as_slice()[9..], &[0.0; 3]);
    }

    #[test]
    fn the_gradient_skips_masked_steps() {
        let x = Tensor::<2, 3>::from_slice(&[1.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        let dy = Tensor::<2, 3>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut dx = Tensor::<2, 3>::zeros();
        let mut y = Tensor::<2, 3>::zeros();
        let masking = Masking::default();
        masking.forward_train(&x, &mut y, &mut (), &mut TrainCtx::new(0));
        assert_eq!(y, masking.forward(&x));
        masking.backward(&x, &y, &mut (), &dy, Some(&mut dx), None);
        assert_eq!(dx.as_slice(), &[1.0, 2.0, 0.0, 0.0, 5.0, 6.0]);
    }
}
