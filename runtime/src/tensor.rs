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
    let mut data = [[0.0f32; F]; P];
    let mut p = 0;
    while p < P {
        let mut f = 0;
        while f < F {
            let i = 4 * (p * F + f);
            data[p][f] = f32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            f += 1;
        }
        p += 1;
    }
    Tensor::from_array_storage(nalgebra::ArrayStorage(data))
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

/// A tensor of zeros, usable in `const` context (nalgebra's `zeros()` is not `const`).
pub const fn zeros<const F: usize, const P: usize>() -> Tensor<F, P> {
    Tensor::from_array_storage(nalgebra::ArrayStorage([[0.0; F]; P]))
}

/// The values of several tensors, one after the other: a batch of `Tensor<F, P>` is the
/// column-major `F × (P·len)` matrix, so a layer acting on the last axis runs one matrix product
/// over the whole batch.
pub fn flat<const F: usize, const P: usize>(tensors: &[Tensor<F, P>]) -> &[f32] {
    const { assert!(core::mem::size_of::<Tensor<F, P>>() == 4 * F * P) };
    // SAFETY: `Tensor<F, P>` is nalgebra's `#[repr(C)]` `Matrix` whose only sized field is the
    // `#[repr(transparent)]` `ArrayStorage([[f32; F]; P])`: `F·P` f32 values with the alignment
    // of f32 and no padding (the size is checked above), so a slice of them is `F·P·len`
    // consecutive f32 values.
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
        ts[1][(1, 2)] = 5.0;
        assert_eq!(flat(&ts).len(), 12);
        assert_eq!(flat(&ts)[6 + 2 * 2 + 1], 5.0);
        flat_mut(&mut ts)[0] = 1.0;
        assert_eq!(ts[0][(0, 0)], 1.0);
    }
}
