//! `Reshape` and `Flatten`: a new shape over the same row-major values.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{add_into, no_params, stateless_train, Params};
use crate::Tensor;

/// Keras `Reshape(target_shape)`: the same values in row-major order under a new shape.
///
/// The layer is described by the input `(IF, IP)` and output `(OF, OP)` tensor dimensions
/// (last axis, other axes folded); `IF·IP` must equal `OF·OP`, which is checked at compile time.
///
/// # Shapes
/// - input: `Tensor<IF, IP>`; output: `Tensor<OF, OP>`.
///
/// ```
/// use static_keras_runtime::{Layer, Reshape, Tensor};
/// // Keras: Reshape((2, 3)) on an input of shape (6,)
/// let x = Tensor::<6, 1>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let y: Tensor<3, 2> = Reshape::<6, 1, 3, 2>.forward(&x);
/// assert_eq!(y[[1, 0]], 4.0); // Keras y[1, 0]
/// ```
///
/// A reshape that changes the number of values does not build:
///
/// ```compile_fail
/// use static_keras_runtime::{Layer, Reshape, Tensor};
/// let y: Tensor<3, 3> = Reshape::<16, 1, 3, 3>.forward(&Tensor::<16, 1>::zeros());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reshape<const IF: usize, const IP: usize, const OF: usize, const OP: usize>;

zeroable!([const IF: usize, const IP: usize, const OF: usize, const OP: usize] Reshape<IF, IP, OF, OP> => Reshape);

/// Keras `Flatten()`: `(…, F)` with `P` positions becomes `(N,)`, `N = F·P`.
///
/// ```
/// use static_keras_runtime::{Flatten, Layer, Tensor};
/// let x = Tensor::<2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]); // Keras (2, 2)
/// let y = Flatten::<2, 2, 4>::default().forward(&x);
/// assert_eq!(y.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
/// ```
pub type Flatten<const F: usize, const P: usize, const N: usize> = Reshape<F, P, N, 1>;

impl<const IF: usize, const IP: usize, const OF: usize, const OP: usize> Layer<Tensor<IF, IP>>
    for Reshape<IF, IP, OF, OP>
{
    type Output = Tensor<OF, OP>;
    #[inline]
    fn forward(&self, x: &Tensor<IF, IP>) -> Tensor<OF, OP> {
        const { assert!(IF * IP == OF * OP, "Reshape must keep the number of values") };
        Tensor::<OF, OP>::from_slice(x.as_slice())
    }
}

no_weights!(<const IF: usize, const IP: usize, const OF: usize, const OP: usize> Weights for Reshape<IF, IP, OF, OP>);

stateless_train! {
    /// The gradient passes through under the input's shape.
    impl[const IF: usize, const IP: usize, const OF: usize, const OP: usize]
        Train<Tensor<IF, IP>> for Reshape<IF, IP, OF, OP>;
    fn backward(&self, _x, _y, dy, dx) {
        if let Some(dx) = dx {
            add_into(dx.as_mut_slice(), dy.as_slice());
        }
    }
}

no_params!(<const IF: usize, const IP: usize, const OF: usize, const OP: usize> Params for Reshape<IF, IP, OF, OP>);
