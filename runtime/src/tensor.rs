//! The one tensor type.

/// An activation of Keras shape `(d0, …, dn-1, F)` (batch axis excluded), stored with the last axis
/// `F` as the rows of a column-major nalgebra matrix and every other axis folded into `P` columns.
///
/// Column-major storage of `F × P` puts the bytes exactly in Keras's row-major order, so the Keras
/// tensor `(H, W, C)` is a `Tensor<C, {H*W}>`, a vector `(F,)` is a `Tensor<F, 1>`, and `Flatten` or
/// `Reshape` never move data. Contractions over the last axis (Dense, the channels of a convolution)
/// are matrix products on this matrix.
///
/// ```
/// use static_keras_runtime::Tensor;
/// // Keras shape (2, 3): two time steps of three features, in row-major order.
/// let t = Tensor::<3, 2>::from_column_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(t[(0, 1)], 4.0); // feature 0 of step 1
/// assert_eq!(t.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// ```
pub type Tensor<const F: usize, const P: usize> = nalgebra::SMatrix<f32, F, P>;
