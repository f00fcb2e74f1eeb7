//! How a training step spreads a batch over threads (feature `parallel`) or not.
//!
//! The generated training step ([`super::Trainable::train_batch_parts`]) runs each call whose
//! samples do not interact in training through [`forward`] and [`backward`]: with `parallel` and
//! `parts` gradient buffers, the batch is cut into `parts` contiguous chunks of
//! `n.div_ceil(parts)` samples (the last one shorter), each chunk runs on rayon's pool and adds
//! its parameter gradients into its own buffer, and the step adds the buffers into the
//! gradients in chunk order at the end. The chunks depend on the batch size and `parts` only,
//! never on the number of threads, so the results are the same bit for bit on 1, 2 or N threads.
//!
//! Calls whose samples interact stay on the calling thread, over the whole batch, as without
//! `parallel`: BatchNormalization in training mode (batch statistics) and every layer drawing
//! random numbers (Dropout, the noise layers, recurrent dropout), whose draws come from one
//! stream in sample order; so are the loss, the metrics, merges and masks.

use super::{Train, TrainCtx};

/// Whether this build splits training steps across threads (the `parallel` feature).
pub const PARALLEL: bool = cfg!(feature = "parallel");

/// What the values handed to the threads must be: `Send + Sync` with `parallel`, anything
/// without it (so a `no_std` build asks nothing of its types).
#[cfg(feature = "parallel")]
pub trait Shared: Send + Sync {}
#[cfg(feature = "parallel")]
impl<T: Send + Sync + ?Sized> Shared for T {}

/// What the values handed to the threads must be: `Send + Sync` with `parallel`, anything
/// without it (so a `no_std` build asks nothing of its types).
#[cfg(not(feature = "parallel"))]
pub trait Shared {}
#[cfg(not(feature = "parallel"))]
impl<T: ?Sized> Shared for T {}

/// How the split calls ran (feature `parallel`): counters over the whole process, for
/// benchmarks and tests to see whether the chunks really ran on several threads (a time alone
/// does not tell a split that ran serially from a slow one).
#[cfg(feature = "parallel")]
pub mod counts {
    use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    static CHUNKS: AtomicUsize = AtomicUsize::new(0);
    static HELPED: AtomicUsize = AtomicUsize::new(0);

    /// The split calls since the start of the process.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Counts {
        /// Calls cut into chunks.
        pub calls: usize,
        /// Chunks run.
        pub chunks: usize,
        /// Chunks run by another thread than the one that made the call (the rest ran on the
        /// calling thread, while the other threads slept or had not woken up yet).
        pub helped: usize,
    }

    impl core::ops::Add for Counts {
        type Output = Counts;
        fn add(self, o: Counts) -> Counts {
            Counts {
                calls: self.calls + o.calls,
                chunks: self.chunks + o.chunks,
                helped: self.helped + o.helped,
            }
        }
    }

    impl core::ops::Sub for Counts {
        type Output = Counts;
        fn sub(self, o: Counts) -> Counts {
            Counts {
                calls: self.calls - o.calls,
                chunks: self.chunks - o.chunks,
                helped: self.helped - o.helped,
            }
        }
    }

    /// The counts so far.
    pub fn get() -> Counts {
        Counts {
            calls: CALLS.load(Relaxed),
            chunks: CHUNKS.load(Relaxed),
            helped: HELPED.load(Relaxed),
        }
    }

    /// A split call starts on the rayon thread `caller` (its index, if a worker); returns it.
    pub(super) fn call() -> Option<usize> {
        CALLS.fetch_add(1, Relaxed);
        rayon::current_thread_index()
    }

    /// A chunk of a call made on `caller` runs on this thread.
    pub(super) fn chunk(caller: Option<usize>) {
        CHUNKS.fetch_add(1, Relaxed);
        if rayon::current_thread_index() != caller {
            HELPED.fetch_add(1, Relaxed);
        }
    }
}

/// The fewest workspace words (activations and caches, [`super::Trainable::workspace_words`])
/// a step must touch before a trainer left at its default parts cuts it into chunks (see
/// [`worth_splitting`]).
pub const SPLIT_MIN_WORDS: usize = 1 << 17;

/// Whether a default trainer cuts a step whose workspace is `words` long (the model's
/// `workspace_words(n)` for a batch of `n`) into chunks: only when it is at least
/// [`SPLIT_MIN_WORDS`]. Every split call is a fork and a join on rayon's pool, and a step adds
/// one gradient buffer per chunk into the gradients, which costs tens of microseconds per call
/// (an idle worker's wake-up) and a pass over the parameters per chunk: more than a small step
/// saves (M1, the 784→128→10 MLP, takes 0.2 ms a step at batch 32 serially and 0.36 ms cut
/// into 4 chunks on one thread). The workspace stands in for the step's work as it is known
/// before the step without timing anything: the rule depends on the model and the batch size
/// only, so the results stay independent of the number of threads. A trainer given its parts
/// explicitly ([`super::Trainer::split_into`], [`super::Trainer::with_parts`]) always splits.
pub fn worth_splitting(words: usize) -> bool {
    words >= SPLIT_MIN_WORDS
}

/// The samples per chunk when a batch of `n` is cut into `parts` chunks, or `None` when it is
/// not cut (one part, one sample, or no `parallel` feature).
pub fn chunk_len(n: usize, parts: usize) -> Option<usize> {
    (PARALLEL && parts > 1 && n > 1).then(|| n.div_ceil(parts))
}

/// [`Train::forward_train_batch`] of a call whose samples do not interact, cut into `parts`
/// chunks run on rayon's pool (see the module's doc). Each chunk gets a copy of `ctx`: such a
/// call draws no random numbers (checked in debug builds).
pub fn forward<T, In>(
    layer: &T,
    xs: &[In],
    ys: &mut [T::Output],
    caches: &mut [T::Cache],
    ctx: &mut TrainCtx,
    parts: usize,
) where
    T: Train<In> + Shared,
    In: Shared,
    T::Output: Shared,
    T::Cache: Shared,
{
    #[cfg(feature = "parallel")]
    if let Some(len) = chunk_len(xs.len(), parts).filter(|_| !T::BATCH_STATISTICS) {
        use rayon::prelude::*;
        // The caller's kernel choice holds in the workers too: one step never mixes kernels.
        let kernels = crate::kernels::current();
        let caller = counts::call();
        let start = ctx.clone();
        xs.par_chunks(len)
            .zip(ys.par_chunks_mut(len))
            .zip(caches.par_chunks_mut(len))
            .for_each(|((x, y), c)| {
                let mut ctx = start.clone();
                counts::chunk(caller);
                crate::kernels::with(kernels, || layer.forward_train_batch(x, y, c, &mut ctx));
                debug_assert_eq!(ctx.rng, start.rng, "a split call drew random numbers");
            });
        return;
    }
    let _ = parts;
    layer.forward_train_batch(xs, ys, caches, ctx);
}

/// [`Train::backward_batch`] of a call run by [`forward`] whose layer does not train (no
/// parameter gradients): each chunk adds its input gradients into its own samples of `dxs`.
pub fn backward<T, In>(
    layer: &T,
    xs: &[In],
    ys: &[T::Output],
    caches: &mut [T::Cache],
    dys: &[T::Output],
    dxs: Option<&mut [In]>,
    parts: usize,
) where
    T: Train<In> + Shared,
    In: Shared,
    T::Output: Shared,
    T::Cache: Shared,
{
    #[cfg(feature = "parallel")]
    if let Some(len) = chunk_len(xs.len(), parts).filter(|_| !T::BATCH_STATISTICS) {
        use rayon::prelude::*;
        // The caller's kernel choice holds in the workers too: one step never mixes kernels.
        let kernels = crate::kernels::current();
        let caller = counts::call();
        let work = xs
            .par_chunks(len)
            .zip(ys.par_chunks(len))
            .zip(caches.par_chunks_mut(len))
            .zip(dys.par_chunks(len));
        match dxs {
            Some(dxs) => work
                .zip(dxs.par_chunks_mut(len))
                .for_each(|((((x, y), c), dy), dx)| {
                    counts::chunk(caller);
                    crate::kernels::with(kernels, || {
                        layer.backward_batch(x, y, c, dy, Some(dx), None)
                    })
                }),
            None => work.for_each(|(((x, y), c), dy)| {
                counts::chunk(caller);
                crate::kernels::with(kernels, || layer.backward_batch(x, y, c, dy, None, None))
            }),
        }
        return;
    }
    let _ = parts;
    layer.backward_batch(xs, ys, caches, dys, dxs, None);
}

/// [`Train::backward_batch`] of a call run by [`forward`] whose layer trains: chunk `i` adds its
/// parameter gradients into `pick(&mut grad_parts[i])` and its input gradients into its own
/// samples of `dxs`. The caller adds the parts into the gradients afterwards, in chunk order.
/// Not cut (see [`chunk_len`]), the call adds into `grads`.
#[allow(clippy::too_many_arguments)]
pub fn backward_train<T, In, P, F>(
    layer: &T,
    xs: &[In],
    ys: &[T::Output],
    caches: &mut [T::Cache],
    dys: &[T::Output],
    dxs: Option<&mut [In]>,
    grads: &mut T,
    grad_parts: &mut [P],
    pick: F,
) where
    T: Train<In> + Shared,
    In: Shared,
    T::Output: Shared,
    T::Cache: Shared,
    P: Shared,
    F: Fn(&mut P) -> &mut T + Shared,
{
    #[cfg(feature = "parallel")]
    if let Some(len) = chunk_len(xs.len(), grad_parts.len()).filter(|_| !T::BATCH_STATISTICS) {
        use rayon::prelude::*;
        // The caller's kernel choice holds in the workers too: one step never mixes kernels.
        let kernels = crate::kernels::current();
        let caller = counts::call();
        let chunks = xs.len().div_ceil(len);
        let work = xs
            .par_chunks(len)
            .zip(ys.par_chunks(len))
            .zip(caches.par_chunks_mut(len))
            .zip(dys.par_chunks(len))
            .zip(grad_parts[..chunks].par_iter_mut());
        match dxs {
            Some(dxs) => {
                work.zip(dxs.par_chunks_mut(len))
                    .for_each(|(((((x, y), c), dy), part), dx)| {
                        let part = pick(part);
                        counts::chunk(caller);
                        crate::kernels::with(kernels, || {
                            layer.backward_batch(x, y, c, dy, Some(dx), Some(part))
                        });
                    })
            }
            None => work.for_each(|((((x, y), c), dy), part)| {
                let part = pick(part);
                counts::chunk(caller);
                crate::kernels::with(kernels, || {
                    layer.backward_batch(x, y, c, dy, None, Some(part))
                });
            }),
        }
        return;
    }
    let _ = (grad_parts, pick);
    layer.backward_batch(xs, ys, caches, dys, dxs, Some(grads));
}
