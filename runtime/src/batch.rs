//! How `predict_batch` spreads a batch over threads (feature `parallel`) or not.

/// Runs `f` over `inputs` and `outputs` (of equal length): with the `parallel` feature, split
/// into one contiguous part per thread of rayon's pool; without it, in one call on this thread.
///
/// Generated models call this from `predict_batch`. Without `parallel` it never allocates; with
/// it, rayon's first use sets up its thread pool on the heap. Every part runs on the kernels the
/// calling thread chose ([`crate::kernels::with`]), so one batch never mixes kernels.
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
            // The choice is the calling thread's; rayon's workers have their own.
            let kernels = crate::kernels::current();
            inputs
                .par_chunks(part)
                .zip(outputs.par_chunks_mut(part))
                .for_each(|(x, y)| crate::kernels::with(kernels, || f(x, y)));
            return;
        }
    }
    f(inputs, outputs);
}

#[cfg(all(test, feature = "parallel"))]
mod tests {
    use super::*;
    use crate::kernels::{gemm, simd, with, Kernels};
    use std::vec::Vec;

    /// A sample's output: a product whose SIMD and portable results differ in the last bits.
    fn run(weights: &[f32], inputs: &[[f32; 300]], outputs: &mut [[f32; 16]]) {
        for (x, y) in inputs.iter().zip(outputs) {
            gemm(16, 300, 1, weights, x, y, false);
        }
    }

    fn bits(outputs: &[[f32; 16]]) -> Vec<u32> {
        outputs.iter().flatten().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn a_parallel_batch_runs_on_the_callers_kernels() {
        let value = |i: usize| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 1.1;
        let weights: Vec<f32> = (0..16 * 300).map(value).collect();
        let inputs: Vec<[f32; 300]> = (0..64)
            .map(|s| core::array::from_fn(|i| value(300 * s + i + 17)))
            .collect();
        let threads = std::sync::Mutex::new(std::vec::Vec::new());
        let f = |x: &[[f32; 300]], y: &mut [[f32; 16]]| {
            threads.lock().unwrap().push(std::thread::current().id());
            // Long enough that idle workers take parts (else the caller may run them all).
            std::thread::sleep(std::time::Duration::from_millis(5));
            run(&weights, x, y)
        };
        let serial = |choice| {
            let mut out = std::vec![[0.0f32; 16]; 64];
            with(choice, || f(&inputs, &mut out));
            bits(&out)
        };
        let (portable, fastest) = (serial(Kernels::Portable), serial(Kernels::Fastest));
        // Where the SIMD kernels run, the two paths differ (else this could not tell them apart).
        assert_eq!(simd(), portable != fastest);
        // More workers than this machine may have cores, so the batch is split for sure.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        for (choice, want) in [(Kernels::Portable, &portable), (Kernels::Fastest, &fastest)] {
            for _ in 0..10 {
                let mut out = std::vec![[0.0f32; 16]; 64];
                pool.install(|| with(choice, || split_batch(&inputs, &mut out, &f)));
                assert!(
                    bits(&out) == *want,
                    "{choice:?}: a part ran on other kernels"
                );
            }
        }
        let mut threads = threads.into_inner().unwrap();
        threads.sort_by_key(|id| std::format!("{id:?}"));
        threads.dedup();
        assert!(
            threads.len() > 2,
            "the batches ran on {} threads",
            threads.len()
        );
    }
}
