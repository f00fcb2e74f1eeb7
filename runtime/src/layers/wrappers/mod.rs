//! The wrappers, layers that run another layer: [`TimeDistributed`] applies one layer to every
//! slice of a sequence, [`Bidirectional`] runs a recurrent layer forwards and a copy of it
//! backwards and merges the two.
//!
//! The merge modes of [`Bidirectional`] are types ([`Concat`], [`Sum`], [`Mul`], [`Ave`],
//! [`Separate`] for Keras's `merge_mode=None`), because they decide the output's type.

mod bidirectional;
mod time_distributed;

pub use bidirectional::{
    Ave, Bidirectional, BidirectionalCache, Concat, MergeMode, Mul, Rnn, RnnWeights, Separate,
    SeparateCache, SeparateOutputs, Sum, TrainMerge, Values,
};
pub use time_distributed::TimeDistributed;

use crate::Tensor;

/// `values`, a whole number of `Tensor<F, P>` one after the other, as those tensors (the
/// inverse of [`crate::flat`]).
///
/// # Panics
/// When `values.len()` is not a multiple of `F·P`.
pub(crate) fn tensors<const F: usize, const P: usize>(values: &[f32]) -> &[Tensor<F, P>] {
    const { assert!(core::mem::size_of::<Tensor<F, P>>() == 4 * F * P && F * P > 0) };
    assert!(
        values.len().is_multiple_of(F * P),
        "{} values are not a whole number of tensors of {}",
        values.len(),
        F * P
    );
    // SAFETY: `Tensor<F, P>` is exactly `F·P` f32 values with the alignment of f32 (see
    // `crate::flat`, checked above), so `values.len() / (F·P)` consecutive tensors occupy exactly
    // the memory of `values`, which is borrowed for the result's lifetime.
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast(), values.len() / (F * P)) }
}

/// [`tensors`], mutable.
pub(crate) fn tensors_mut<const F: usize, const P: usize>(
    values: &mut [f32],
) -> &mut [Tensor<F, P>] {
    const { assert!(core::mem::size_of::<Tensor<F, P>>() == 4 * F * P && F * P > 0) };
    assert!(
        values.len().is_multiple_of(F * P),
        "{} values are not a whole number of tensors of {}",
        values.len(),
        F * P
    );
    // SAFETY: as in `tensors`; the borrow of `values` is exclusive for the result's lifetime.
    unsafe { core::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), values.len() / (F * P)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_view_a_run_of_values() {
        let mut values: [f32; 6] = core::array::from_fn(|i| i as f32);
        let ts = tensors::<3, 1>(&values);
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[1].as_slice(), &[3.0, 4.0, 5.0]);
        tensors_mut::<1, 2>(&mut values)[2][[1, 0]] = -1.0;
        assert_eq!(values[5], -1.0);
        assert_eq!(crate::flat(tensors::<2, 3>(&values)), &values);
    }

    #[test]
    #[should_panic(expected = "5 values are not a whole number of tensors of 2")]
    fn a_partial_tensor_panics() {
        let _ = tensors::<2, 1>(&[0.0; 5]);
    }
}
