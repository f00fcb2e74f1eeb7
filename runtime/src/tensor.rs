//! The one tensor type.

use core::fmt;
use core::ops::{Index, IndexMut};

use nalgebra::{ArrayStorage, SMatrix};

use crate::Error;

/// An activation of Keras shape `(d0, …, dn-1, F)` (batch axis excluded): `F` values along the
/// last axis at each of `P` positions, every other axis folded into `P`.
///
/// The `F·P` values are stored in Keras's row-major order, so the Keras tensor `(H, W, C)` is a
/// `Tensor<C, {H*W}>`, a vector `(F,)` is a `Tensor<F, 1>`, and `Flatten` or `Reshape` never move
/// data.
///
/// # Indexing
/// - `t[i]` is the `i`-th value in Keras's row-major order (what `x.flatten()[i]` gives in NumPy);
/// - `t[[position, feature]]` indexes the folded Keras shape `(P, F)` in Keras's order: the
///   position first (for `(T, F)` the time step, for `(H, W, C)` the pixel `h·W + w`), the last
///   axis second. It is `t[position * F + feature]`.
///
/// ```
/// use static_keras_runtime::Tensor;
/// // Keras shape (2, 3): two time steps of three features, in row-major order.
/// let t = Tensor::<3, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(t[[1, 0]], 4.0); // step 1, feature 0
/// assert_eq!(t[4], 5.0); // the same values, flat
/// assert_eq!(t.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(t.argmax(), 5);
/// ```
///
/// # Layout
/// The tensor is exactly its `F·P` `f32` values (`size_of::<Tensor<F, P>>() == 4·F·P`, the
/// alignment of `f32`), so a slice of tensors is one run of values, and the bytes of a tensor are
/// Keras's row-major bytes. Internally the runtime computes on it as the column-major nalgebra
/// matrix `F × P` (one column per position, so contractions over the last axis, as in `Dense`,
/// are matrix products); [`as_matrix`](Self::as_matrix) gives that view to code that wants it.
#[derive(Clone, Copy, PartialEq)]
#[repr(transparent)]
pub struct Tensor<const F: usize, const P: usize>(SMatrix<f32, F, P>);

impl<const F: usize, const P: usize> Tensor<F, P> {
    /// The number of values, `F·P`.
    pub const LEN: usize = F * P;

    /// A tensor of zeros, usable in `const` context.
    ///
    /// ```
    /// use static_keras_runtime::Tensor;
    /// const T: Tensor<2, 3> = Tensor::zeros();
    /// assert!(T.iter().all(|&v| v == 0.0));
    /// ```
    pub const fn zeros() -> Self {
        Self(SMatrix::from_array_storage(ArrayStorage([[0.0; F]; P])))
    }

    /// The tensor holding `values`, given in Keras's row-major order.
    ///
    /// # Panics
    /// When `values.len()` is not `F·P`. `Tensor::try_from(values)` (the [`TryFrom`] impl)
    /// returns an [`Error::InputLength`] instead.
    ///
    /// ```
    /// use static_keras_runtime::Tensor;
    /// let t = Tensor::<2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]); // Keras [[1, 2], [3, 4]]
    /// assert_eq!(t[[1, 0]], 3.0);
    /// ```
    #[track_caller]
    pub fn from_slice(values: &[f32]) -> Self {
        assert!(
            values.len() == F * P,
            "Tensor::from_slice: {} values given, but a Tensor<{F}, {P}> holds {}",
            values.len(),
            F * P
        );
        let mut t = Self::zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    /// The tensor whose values are `values` (in Keras's row-major order), borrowed in place: how
    /// a planned workspace holds activations without copying them.
    ///
    /// # Panics
    /// When `values.len()` is not `F·P`.
    ///
    /// ```
    /// use static_keras_runtime::Tensor;
    /// let values = [1.0, 2.0, 3.0, 4.0];
    /// assert_eq!(Tensor::<2, 2>::view(&values)[[1, 0]], 3.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn view(values: &[f32]) -> &Self {
        assert!(
            values.len() == F * P,
            "Tensor::view: {} values given, but a Tensor<{F}, {P}> holds {}",
            values.len(),
            F * P
        );
        const { assert!(core::mem::size_of::<Self>() == 4 * F * P) };
        // SAFETY: as in `flat`, a `Tensor<F, P>` is exactly `F·P` f32 values with the alignment
        // of f32 and no padding (the size is checked above); the length is checked above and
        // the borrow is `values`'s.
        unsafe { &*values.as_ptr().cast::<Self>() }
    }

    /// [`Tensor::view`], mutable.
    ///
    /// # Panics
    /// When `values.len()` is not `F·P`.
    #[inline]
    #[track_caller]
    pub fn view_mut(values: &mut [f32]) -> &mut Self {
        assert!(
            values.len() == F * P,
            "Tensor::view_mut: {} values given, but a Tensor<{F}, {P}> holds {}",
            values.len(),
            F * P
        );
        const { assert!(core::mem::size_of::<Self>() == 4 * F * P) };
        // SAFETY: as in `view`; the borrow is exclusive for the result's lifetime.
        unsafe { &mut *values.as_mut_ptr().cast::<Self>() }
    }

    /// The values in Keras's row-major order.
    #[inline]
    pub const fn as_slice(&self) -> &[f32] {
        self.0.data.0.as_flattened()
    }

    /// The values in Keras's row-major order, mutable.
    #[inline]
    pub const fn as_mut_slice(&mut self) -> &mut [f32] {
        self.0.data.0.as_flattened_mut()
    }

    /// The values in Keras's row-major order.
    pub fn iter(&self) -> core::slice::Iter<'_, f32> {
        self.as_slice().iter()
    }

    /// The values in Keras's row-major order, mutable.
    pub fn iter_mut(&mut self) -> core::slice::IterMut<'_, f32> {
        self.as_mut_slice().iter_mut()
    }

    /// The number of values, `F·P` (as [`Tensor::LEN`]).
    pub const fn len(&self) -> usize {
        F * P
    }

    /// Whether the tensor holds no values (`F` or `P` is 0).
    pub const fn is_empty(&self) -> bool {
        F * P == 0
    }

    /// The flat index (row-major) of the largest value, the first one on ties; a NaN counts as
    /// the largest, as in NumPy's `argmax`. For a classifier's output `(classes,)`, the class.
    ///
    /// An empty tensor has no largest value: calling this on one does not build.
    ///
    /// ```
    /// use static_keras_runtime::Tensor;
    /// let probs = Tensor::<4, 1>::from_slice(&[0.1, 0.4, 0.1, 0.4]);
    /// assert_eq!(probs.argmax(), 1);
    /// ```
    pub fn argmax(&self) -> usize {
        const { assert!(F * P > 0, "argmax of an empty tensor") };
        let values = self.as_slice();
        let mut best = 0;
        for (i, &v) in values.iter().enumerate() {
            if v.is_nan() {
                return i;
            }
            if v > values[best] {
                best = i;
            }
        }
        best
    }

    /// The tensor as the nalgebra matrix the runtime computes on: `F` rows (the last Keras axis)
    /// × `P` columns (the positions), column-major, so element `(feature, position)` of the matrix
    /// is `self[[position, feature]]`.
    ///
    /// ```
    /// use static_keras_runtime::Tensor;
    /// let t = Tensor::<3, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// assert_eq!(t.as_matrix()[(0, 1)], t[[1, 0]]);
    /// assert_eq!(t.as_matrix().column(1).sum(), 15.0);
    /// ```
    pub const fn as_matrix(&self) -> &SMatrix<f32, F, P> {
        &self.0
    }

    /// [`as_matrix`](Self::as_matrix), mutable.
    pub const fn as_matrix_mut(&mut self) -> &mut SMatrix<f32, F, P> {
        &mut self.0
    }

    /// The tensor whose [`as_matrix`](Self::as_matrix) view is `matrix` (`F × P`, one column per
    /// position).
    pub const fn from_matrix(matrix: SMatrix<f32, F, P>) -> Self {
        Self(matrix)
    }

    /// The `F × P` column-major matrix of [`as_matrix`](Self::as_matrix), by value.
    pub const fn into_matrix(self) -> SMatrix<f32, F, P> {
        self.0
    }
}

/// A tensor of zeros, usable in `const` context (the free form of [`Tensor::zeros`], whose sizes
/// come from the type expected).
pub const fn zeros<const F: usize, const P: usize>() -> Tensor<F, P> {
    Tensor::zeros()
}

impl<const F: usize, const P: usize> Default for Tensor<F, P> {
    /// Zeros.
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const F: usize, const P: usize> fmt::Debug for Tensor<F, P> {
    /// `Tensor([[…F values…], …P positions…])`, the folded Keras shape `(P, F)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tensor").field(&self.0.data.0).finish()
    }
}

impl<const F: usize, const P: usize> TryFrom<&[f32]> for Tensor<F, P> {
    type Error = Error;

    /// The tensor holding `values` (Keras's row-major order), or [`Error::InputLength`] when
    /// there are not exactly `F·P` of them.
    ///
    /// ```
    /// use static_keras_runtime::{Error, Tensor};
    /// let t = Tensor::<2, 1>::try_from(&[1.0, 2.0][..]).unwrap();
    /// assert_eq!(t.as_slice(), &[1.0, 2.0]);
    /// assert_eq!(
    ///     Tensor::<2, 1>::try_from(&[1.0][..]),
    ///     Err(Error::InputLength { expected: 2, actual: 1 })
    /// );
    /// ```
    fn try_from(values: &[f32]) -> Result<Self, Error> {
        if values.len() != F * P {
            return Err(Error::InputLength {
                expected: F * P,
                actual: values.len(),
            });
        }
        Ok(Self::from_slice(values))
    }
}

impl<const F: usize, const P: usize> Index<usize> for Tensor<F, P> {
    type Output = f32;

    /// The `i`-th value in row-major order. Panics when `i >= F·P`.
    #[inline]
    #[track_caller]
    fn index(&self, i: usize) -> &f32 {
        &self.as_slice()[i]
    }
}

impl<const F: usize, const P: usize> IndexMut<usize> for Tensor<F, P> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, i: usize) -> &mut f32 {
        &mut self.as_mut_slice()[i]
    }
}

#[inline]
#[track_caller]
fn position_feature<const F: usize, const P: usize>([p, f]: [usize; 2]) -> usize {
    assert!(
        p < P && f < F,
        "index [{p}, {f}] out of range for a tensor of {P} positions × {F} features"
    );
    p * F + f
}

impl<const F: usize, const P: usize> Index<[usize; 2]> for Tensor<F, P> {
    type Output = f32;

    /// The value at `[position, feature]` of the folded Keras shape `(P, F)`. Panics when
    /// `position >= P` or `feature >= F`.
    #[inline]
    #[track_caller]
    fn index(&self, index: [usize; 2]) -> &f32 {
        &self.as_slice()[position_feature::<F, P>(index)]
    }
}

impl<const F: usize, const P: usize> IndexMut<[usize; 2]> for Tensor<F, P> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, index: [usize; 2]) -> &mut f32 {
        &mut self.as_mut_slice()[position_feature::<F, P>(index)]
    }
}

impl<'a, const F: usize, const P: usize> IntoIterator for &'a Tensor<F, P> {
    type Item = &'a f32;
    type IntoIter = core::slice::Iter<'a, f32>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, const F: usize, const P: usize> IntoIterator for &'a mut Tensor<F, P> {
    type Item = &'a mut f32;
    type IntoIter = core::slice::IterMut<'a, f32>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// A tensor from `F·P` little-endian f32 values in Keras's row-major order, at compile time.
///
/// This is how a model is built inside a `static` (see `from_le_bytes_const` on generated
/// models): evaluated by the compiler, the weights land in read-only memory (flash on a
/// microcontroller) with no copy into RAM. Panics (a compile error in const context) when `bytes`
/// is shorter than `4·F·P`.
///
/// ```
/// use static_keras_runtime::tensor_from_le_bytes;
/// const BYTES: [u8; 8] = [0, 0, 128, 63, 0, 0, 0, 64]; // 1.0, 2.0
/// const T: static_keras_runtime::Tensor<2, 1> = tensor_from_le_bytes(&BYTES);
/// assert_eq!(T.as_slice(), &[1.0, 2.0]);
/// ```
pub const fn tensor_from_le_bytes<const F: usize, const P: usize>(bytes: &[u8]) -> Tensor<F, P> {
    assert!(
        bytes.len() >= 4 * F * P,
        "not enough weight bytes for this tensor"
    );
    let mut t = Tensor::<F, P>::zeros();
    fill_from_le_bytes(t.as_mut_slice(), bytes);
    t
}

/// Fills `dst` from as many little-endian f32 as it holds, at compile time (the building block
/// of every layer's `from_le_bytes_const`). Panics (a compile error in const context) when
/// `bytes` holds fewer than `4·dst.len()` bytes.
pub const fn fill_from_le_bytes(dst: &mut [f32], bytes: &[u8]) {
    assert!(bytes.len() >= 4 * dst.len(), "not enough weight bytes");
    let mut i = 0;
    while i < dst.len() {
        let b = 4 * i;
        dst[i] = f32::from_le_bytes([bytes[b], bytes[b + 1], bytes[b + 2], bytes[b + 3]]);
        i += 1;
    }
}

/// The values of several tensors, one after the other: a batch of `Tensor<F, P>` is the
/// column-major `F × (P·len)` matrix, so a layer acting on the last axis runs one matrix product
/// over the whole batch.
pub fn flat<const F: usize, const P: usize>(tensors: &[Tensor<F, P>]) -> &[f32] {
    const { assert!(core::mem::size_of::<Tensor<F, P>>() == 4 * F * P) };
    // SAFETY: `Tensor<F, P>` is `#[repr(transparent)]` over nalgebra's `#[repr(C)]` `Matrix`,
    // whose only sized field is the `#[repr(transparent)]` `ArrayStorage([[f32; F]; P])`: `F·P`
    // f32 values with the alignment of f32 and no padding (the size is checked above), so a
    // slice of them is `F·P·len` consecutive f32 values.
    unsafe { core::slice::from_raw_parts(tensors.as_ptr().cast(), F * P * tensors.len()) }
}

/// [`flat`], mutable.
pub fn flat_mut<const F: usize, const P: usize>(tensors: &mut [Tensor<F, P>]) -> &mut [f32] {
    const { assert!(core::mem::size_of::<Tensor<F, P>>() == 4 * F * P) };
    // SAFETY: as in `flat`; the borrow of `tensors` is exclusive for the result's lifetime.
    unsafe { core::slice::from_raw_parts_mut(tensors.as_mut_ptr().cast(), F * P * tensors.len()) }
}

/// Weights or scratch aligned to a 64-byte cache line, so that no vector load of a SIMD kernel
/// straddles two lines (a recurrent product over a misaligned kernel measured up to twice as
/// slow). Dereferences to the value it holds. On 32-bit Arm (microcontrollers, which have no data
/// cache to line up with) it adds no alignment, so it costs no stack there.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(not(target_arch = "arm"), repr(C, align(64)))]
#[cfg_attr(target_arch = "arm", repr(C))]
pub struct Aligned<T>(pub T);

impl<T> core::ops::Deref for Aligned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> core::ops::DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_one_matrix() {
        let mut ts = [zeros::<2, 3>(); 2];
        ts[1][[2, 1]] = 5.0;
        assert_eq!(flat(&ts).len(), 12);
        assert_eq!(flat(&ts)[6 + 2 * 2 + 1], 5.0);
        flat_mut(&mut ts)[0] = 1.0;
        assert_eq!(ts[0][[0, 0]], 1.0);
    }

    #[test]
    fn the_layout_is_the_values() {
        assert_eq!(core::mem::size_of::<Tensor<3, 5>>(), 4 * 15);
        assert_eq!(core::mem::align_of::<Tensor<3, 5>>(), 4);
        assert_eq!(Tensor::<3, 5>::LEN, 15);
        assert_eq!(zeros::<3, 5>().len(), 15);
    }

    #[test]
    fn indexing_is_position_then_feature() {
        let values: [f32; 6] = core::array::from_fn(|i| i as f32);
        let mut t = Tensor::<3, 2>::from_slice(&values);
        for p in 0..2 {
            for f in 0..3 {
                assert_eq!(t[[p, f]], (p * 3 + f) as f32);
                assert_eq!(t[[p, f]], t[p * 3 + f]);
                assert_eq!(t[[p, f]], t.as_matrix()[(f, p)]);
            }
        }
        t[[1, 2]] = -1.0;
        assert_eq!(t.as_slice()[5], -1.0);
        t[0] = 7.0;
        assert_eq!(t.as_matrix()[(0, 0)], 7.0);
        t.as_matrix_mut()[(1, 0)] = 8.0;
        assert_eq!(t[1], 8.0);
        assert_eq!(Tensor::from_matrix(t.into_matrix()), t);
    }

    #[test]
    #[should_panic(expected = "index [0, 3] out of range for a tensor of 2 positions × 3 features")]
    fn a_feature_past_the_last_axis_panics() {
        // Flat index 3 exists (it is [1, 0]); the feature index must not wrap into it.
        let _ = zeros::<3, 2>()[[0, 3]];
    }

    #[test]
    #[should_panic(expected = "index [2, 0] out of range")]
    fn a_position_past_the_end_panics() {
        let _ = zeros::<3, 2>()[[2, 0]];
    }

    #[test]
    #[should_panic(expected = "Tensor::from_slice: 5 values given, but a Tensor<3, 2> holds 6")]
    fn from_slice_of_the_wrong_length_panics() {
        let _ = Tensor::<3, 2>::from_slice(&[0.0; 5]);
    }

    #[test]
    fn try_from_reports_the_lengths() {
        assert_eq!(
            Tensor::<3, 2>::try_from(&[0.0; 7][..]),
            Err(Error::InputLength {
                expected: 6,
                actual: 7
            })
        );
        let t = Tensor::<3, 2>::try_from(&[1.0; 6][..]).unwrap();
        assert!(t.iter().all(|&v| v == 1.0));
    }

    #[test]
    fn argmax_takes_the_first_of_equals_and_any_nan() {
        assert_eq!(Tensor::<3, 1>::from_slice(&[1.0, 3.0, 3.0]).argmax(), 1);
        assert_eq!(Tensor::<3, 1>::from_slice(&[-3.0, -2.0, -5.0]).argmax(), 1);
        assert_eq!(Tensor::<1, 1>::from_slice(&[-1.0]).argmax(), 0);
        assert_eq!(
            Tensor::<2, 2>::from_slice(&[1.0, f32::NAN, 9.0, f32::NAN]).argmax(),
            1
        );
        assert_eq!(Tensor::<2, 1>::from_slice(&[f32::NAN, 9.0]).argmax(), 0);
        assert_eq!(
            Tensor::<3, 1>::from_slice(&[f32::NEG_INFINITY; 3]).argmax(),
            0
        );
    }

    #[test]
    fn the_api_is_const() {
        const T: Tensor<2, 2> = {
            let mut t = Tensor::zeros();
            t.as_mut_slice()[3] = 4.0;
            t
        };
        const S: &[f32] = T.as_slice();
        assert_eq!(S, &[0.0, 0.0, 0.0, 4.0]);
        const M: SMatrix<f32, 2, 2> = T.into_matrix();
        assert_eq!(Tensor::from_matrix(M), T);
    }

    #[test]
    fn debug_prints_the_positions() {
        extern crate alloc;
        let t = Tensor::<2, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(alloc::format!("{t:?}"), "Tensor([[1.0, 2.0], [3.0, 4.0]])");
        assert_eq!(Tensor::<2, 2>::default(), zeros());
    }
}
