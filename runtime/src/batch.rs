//! How `predict_batch` spreads a batch over threads (feature `parallel`) or not.

/// Runs `f` over `inputs` and `outputs` (of equal length): with the `parallel` feature, split
/// into one contiguous part per thread of rayon's pool; without it, in one call on this thread.
///
/// Generated models call this from `predict_batch`. Without `parallel` it never allocates; with
/// it, rayon's first use sets up its thread pool on the heap.
pub fn split_batch<I, O, F>(inputs: &[I], outputs: &mut [O], f: &F)
where
    I: Sync,
    O: Send,
    F: Fn(&[I], &mut [O]) + Sync,
{
    assert_eq!(inputs.len(), outputs.len(), "as many outputs as inputs");
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads();
        if threads > 1 && inputs.len() > 1 {
            let part = inputs.len().div_ceil(threads);
            inputs
                .par_chunks(part)
                .zip(outputs.par_chunks_mut(part))
                .for_each(|(x, y)| f(x, y));
            return;
        }
    }
    f(inputs, outputs);
}
