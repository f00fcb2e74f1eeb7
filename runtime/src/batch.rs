//! How `predict_batch` spreads a batch over threads (feature `parallel`) or not.

/// The fewest multiply-adds (by the model's own estimate) each part of a split batch holds. A
/// split costs a fork and a join on rayon's pool, about 20 µs here when a worker has to be
/// woken (measured on M1, the 784-128-10 MLP, at batch 64 on 2 threads: 0.87–1.02 µs a sample
/// split, 1.31–1.44 unsplit), so a part must hold more work than that: 2²¹ multiply-adds are
/// about 30 µs at this machine's single-core rate. A batch is cut into at most
/// `n · macs / SPLIT_MIN_MACS` parts.
pub const SPLIT_MIN_MACS: usize = 1 << 21;

/// Runs `f` over `inputs` and `outputs` (of equal length): with the `parallel` feature, split
/// into contiguous parts, one per thread of rayon's pool where the batch holds enough work
/// (`macs_per_sample`, the model's estimate of one sample's multiply-adds: see
/// [`SPLIT_MIN_MACS`]); otherwise, and without `parallel`, in one call on this thread. The
/// calling thread runs the first part itself while the pool runs the others, so a call from
/// outside the pool wakes one worker per extra part and no more.
///
/// `f` runs its samples in chunks of `chunk` (a layer's batched kernel may give a sample other
/// bits in a chunk of another size), so parts start at multiples of `chunk`: every chunk holds
/// the same samples whatever the split, and the outputs do not depend on the thread count.
///
/// Generated models call this from `predict_batch`. Without `parallel` it never allocates; with
/// it, rayon's first use sets up its thread pool on the heap, and each extra part is a boxed
/// job. Every part runs on the kernels the calling thread chose ([`crate::kernels::with`]), so
/// one batch never mixes kernels, and every sample's output is the same whatever the split.
pub fn split_batch<I, O, F>(
    inputs: &[I],
    outputs: &mut [O],
    macs_per_sample: usize,
    chunk: usize,
    f: &F,
) where
    I: Sync,
    O: Send,
    F: Fn(&[I], &mut [O]) + Sync,
{
    assert_eq!(inputs.len(), outputs.len(), "as many outputs as inputs");
    #[cfg(feature = "parallel")]
    {
        let parts = parts(inputs.len(), macs_per_sample, rayon::current_num_threads());
        if parts > 1 {
            let part = part_len(inputs.len(), parts, chunk);
            // The choice is the calling thread's; rayon's workers have their own.
            let kernels = crate::kernels::current();
            let mut xs = inputs.chunks(part);
            let mut ys = outputs.chunks_mut(part);
            if let (Some(x0), Some(y0)) = (xs.next(), ys.next()) {
                rayon::in_place_scope(|s| {
                    for (x, y) in xs.zip(ys) {
                        s.spawn(move |_| crate::kernels::with(kernels, || f(x, y)));
                    }
                    f(x0, y0);
                });
            }
            return;
        }
    }
    #[cfg(not(feature = "parallel"))]
    let _ = (macs_per_sample, chunk);
    f(inputs, outputs);
}

/// [`split_batch`] for a model that runs each sample in a planned workspace of type `W` (a model
/// whose activations are too big for the stack, see [`crate::Planned`]): `f(x, workspace)` gives
/// one sample's output, and each part makes one workspace and reuses it for all its samples, so
/// a batch zeroes one workspace instead of one per sample (a workspace's contents between calls
/// mean nothing). Without a split the workspace lives on this thread's stack, as
/// [`crate::Model::predict`]'s does; with one, each part's is on the heap (a pool thread's stack
/// is smaller than the caller's, and the split allocates its jobs anyway).
pub fn split_batch_in<I, O, W, F>(inputs: &[I], outputs: &mut [O], macs_per_sample: usize, f: &F)
where
    I: Sync,
    O: Send,
    W: crate::Zeroable,
    F: Fn(&I, &mut W) -> O + Sync,
{
    assert_eq!(inputs.len(), outputs.len(), "as many outputs as inputs");
    let run = |inputs: &[I], outputs: &mut [O], workspace: &mut W| {
        for (x, y) in inputs.iter().zip(outputs) {
            *y = f(x, workspace);
        }
    };
    #[cfg(feature = "parallel")]
    {
        let parts = parts(inputs.len(), macs_per_sample, rayon::current_num_threads());
        if parts > 1 {
            let part = part_len(inputs.len(), parts, 1);
            let kernels = crate::kernels::current();
            let mut xs = inputs.chunks(part);
            let mut ys = outputs.chunks_mut(part);
            if let (Some(x0), Some(y0)) = (xs.next(), ys.next()) {
                rayon::in_place_scope(|s| {
                    for (x, y) in xs.zip(ys) {
                        s.spawn(move |_| {
                            crate::kernels::with(kernels, || {
                                run(x, y, &mut crate::memory::zeroed_box::<W>())
                            })
                        });
                    }
                    run(x0, y0, &mut crate::memory::zeroed_box::<W>());
                });
            }
            return;
        }
    }
    #[cfg(not(feature = "parallel"))]
    let _ = macs_per_sample;
    let mut workspace: W = crate::memory::zeroed();
    run(inputs, outputs, &mut workspace);
}

/// How many parts [`split_batch`] cuts a batch of `n` samples of `macs_per_sample` each into on
/// `threads` threads: one per thread, fewer where a part would hold less than
/// [`SPLIT_MIN_MACS`], never more than `n`, at least one.
#[cfg(any(test, feature = "parallel"))]
fn parts(n: usize, macs_per_sample: usize, threads: usize) -> usize {
    let work = n.saturating_mul(macs_per_sample) / SPLIT_MIN_MACS;
    threads.min(n).min(work).max(1)
}

/// The samples per part when a batch of `n` is cut into at most `parts` parts that start at
/// multiples of `chunk`.
#[cfg(any(test, feature = "parallel"))]
fn part_len(n: usize, parts: usize, chunk: usize) -> usize {
    let chunk = chunk.max(1);
    n.div_ceil(parts.max(1)).div_ceil(chunk) * chunk
}

#[cfg(test)]
mod rule {
    use super::{part_len, parts, SPLIT_MIN_MACS};

    #[test]
    fn parts_start_at_whole_chunks() {
        assert_eq!(part_len(64, 2, 16), 32);
        assert_eq!(part_len(33, 2, 16), 32);
        assert_eq!(part_len(33, 3, 16), 16);
        assert_eq!(part_len(10, 3, 1), 4);
        assert_eq!(part_len(10, 3, 0), 4);
        assert_eq!(part_len(5, 2, 16), 16);
    }

    #[test]
    fn a_batch_splits_only_into_parts_worth_a_fork() {
        // The 784-128-10 MLP (about 10^5 multiply-adds a sample): 64 samples are worth three
        // parts (two on two threads), 16 samples one.
        assert_eq!(parts(64, 101_760, 2), 2);
        assert_eq!(parts(64, 101_760, 8), 3);
        assert_eq!(parts(16, 101_760, 2), 1);
        // Twice the threshold in all: two parts on two threads, still two on eight.
        assert_eq!(parts(2, SPLIT_MIN_MACS, 2), 2);
        assert_eq!(parts(4, SPLIT_MIN_MACS / 2, 8), 2);
        // Just under it: one.
        assert_eq!(parts(2, SPLIT_MIN_MACS - 1, 2), 1);
        // Never more parts than samples or threads, never none.
        assert_eq!(parts(3, usize::MAX, 8), 3);
        assert_eq!(parts(64, usize::MAX, 2), 2);
        assert_eq!(parts(0, usize::MAX, 2), 1);
        assert_eq!(parts(64, 0, 2), 1);
    }
}
