//! Which kernels a computation runs: chosen per call, per thread, never process-wide.
//!
//! A choice is a scope on the calling thread: [`with`] sets it for one closure and restores the
//! previous one afterwards (on unwinding too). A choice made in one thread never changes what
//! another computes, and `predict_batch` with the `parallel` feature carries the caller's choice
//! into each of its workers, so one batch never mixes kernels. The feature `portable-kernels`
//! makes every choice the portable kernels, for builds whose bits must not depend on the CPU.
//!
//! ```
//! use static_keras_runtime::kernels::{self, Kernels};
//!
//! let (a, b) = ([1.0f32, 2.0, 3.0, 4.0], [0.5f32, 0.25]);
//! let mut c = [0.0f32; 2];
//! // A microcontroller's bits: no fused multiply-adds, the same order on every target.
//! kernels::with(Kernels::Portable, || kernels::gemm(2, 2, 1, &a, &b, &mut c, false));
//! assert_eq!(c, [1.0 * 0.5 + 3.0 * 0.25, 2.0 * 0.5 + 4.0 * 0.25]);
//! ```

/// The kernels a computation may run, chosen with [`with`].
///
/// Every choice gives Keras's numbers within the parity budget; they differ in speed and in the
/// last bits (the SIMD kernels fuse multiply-adds and sum in another order).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum Kernels {
    /// The best instruction set this CPU has (the default): AVX-512, else AVX2 + FMA on x86_64
    /// with `std`; NEON on aarch64 with `std`; the portable kernels elsewhere and without `std`.
    #[default]
    Fastest,
    /// At most AVX2 + FMA on x86_64, even on a CPU with AVX-512 (what an AVX2-only CPU runs);
    /// as [`Fastest`](Kernels::Fastest) on other targets (NEON on aarch64).
    Avx2,
    /// The portable kernels: plain Rust without fused multiply-adds, in a fixed order, so every
    /// target computes the same bits (a host then computes exactly what a microcontroller does).
    Portable,
}

#[cfg(feature = "std")]
std::thread_local! {
    /// This thread's choice. A `Copy` value without `Drop` and a constant initialiser: reading it
    /// is one thread-local load, cheap enough for every kernel call.
    static CHOICE: core::cell::Cell<Kernels> = const { core::cell::Cell::new(Kernels::Fastest) };
}

/// The choice in effect on this thread: the innermost [`with`], else [`Kernels::Fastest`].
///
/// With the feature `portable-kernels` the portable kernels run whatever this says.
#[cfg(feature = "std")]
#[inline]
pub fn current() -> Kernels {
    CHOICE.with(core::cell::Cell::get)
}

/// Runs `f` with `kernels` on this thread, then restores the previous choice (also when `f`
/// panics). Other threads keep their own choice; `predict_batch` carries this one into its
/// workers.
///
/// Without `std` there are only the portable kernels: `f` runs on them whatever the choice.
///
/// ```
/// use static_keras_runtime::kernels::{self, Kernels};
///
/// let outer = kernels::with(Kernels::Portable, || {
///     let inner = kernels::with(Kernels::Fastest, kernels::current);
///     (inner, kernels::current())
/// });
/// assert_eq!(outer, (Kernels::Fastest, Kernels::Portable));
/// assert_eq!(kernels::current(), Kernels::Fastest);
/// ```
#[inline]
pub fn with<R>(kernels: Kernels, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "std")]
    {
        /// Puts the previous choice back when dropped, so a panic in `f` does not leak the choice
        /// into whatever this thread runs next (a rayon worker, a test harness thread).
        struct Restore(Kernels);
        impl Drop for Restore {
            fn drop(&mut self) {
                CHOICE.with(|choice| choice.set(self.0));
            }
        }
        let _restore = Restore(CHOICE.with(|choice| choice.replace(kernels)));
        f()
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = kernels;
        f()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::kernels::{gemm, gemm_portable, simd};
    use std::sync::{Arc, Barrier};
    use std::vec::Vec;

    /// A product whose SIMD result differs from the portable one in the last bits: long sums of
    /// values with many significant bits, where fused multiply-adds round differently.
    fn operands() -> (Vec<f32>, Vec<f32>) {
        let (m, k, n) = (16, 300, 4);
        let value = |i: usize| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 1.1;
        let a = (0..m * k).map(value).collect();
        let b = (0..k * n).map(|i| value(i + 17)).collect();
        (a, b)
    }

    fn product(a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = std::vec![0.0; 64];
        gemm(16, 300, 4, a, b, &mut c, false);
        c
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn with_restores_the_choice_after_a_panic() {
        let caught = std::panic::catch_unwind(|| with(Kernels::Portable, || panic!("inside")));
        assert!(caught.is_err());
        assert_eq!(current(), Kernels::Fastest);
        with(Kernels::Avx2, || {
            with(Kernels::Portable, || {
                assert_eq!(current(), Kernels::Portable)
            });
            assert_eq!(current(), Kernels::Avx2);
        });
        assert_eq!(current(), Kernels::Fastest);
    }

    #[test]
    fn portable_is_the_portable_kernel_bit_for_bit() {
        let (a, b) = operands();
        let mut want = std::vec![0.0; 64];
        gemm_portable(16, 300, 4, &a, &b, &mut want, false);
        assert_eq!(
            bits(&with(Kernels::Portable, || product(&a, &b))),
            bits(&want)
        );
        assert!(with(Kernels::Portable, || !simd()));
    }

    /// The dispatching `gemm` on each choice, on small awkward sizes (every edge tile), against
    /// the portable kernel: small enough for Miri, which runs it with AVX2 + FMA enabled to check
    /// the SIMD kernels' pointer arithmetic (`.ci/miri.sh`).
    #[test]
    fn every_choice_computes_the_product_on_edge_sizes() {
        let value = |i: usize| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 1.1;
        for m in [1usize, 7, 17, 33] {
            for n in [1usize, 3, 5, 13] {
                for k in [1usize, 3, 9] {
                    let a: Vec<f32> = (0..m * k).map(value).collect();
                    let b: Vec<f32> = (0..k * n).map(|i| value(i + 5)).collect();
                    let mut want: Vec<f32> = (0..m * n).map(|i| value(i + 9)).collect();
                    let start = want.clone();
                    gemm_portable(m, k, n, &a, &b, &mut want, true);
                    for choice in [Kernels::Fastest, Kernels::Avx2, Kernels::Portable] {
                        let mut got = start.clone();
                        with(choice, || gemm(m, k, n, &a, &b, &mut got, true));
                        for (g, w) in got.iter().zip(&want) {
                            assert!((g - w).abs() <= 1e-5, "{choice:?} {m}x{k}x{n}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }

    /// Two threads inside their own choice at the same time, each computing many times: each gets
    /// its own kernels every time, whatever the other one chose.
    #[test]
    // Threads and 100 long products: too slow for Miri, which runs the two tests above.
    #[cfg_attr(miri, ignore)]
    fn two_threads_choosing_differently_each_get_their_own_kernels() {
        let (a, b) = operands();
        let mut portable = std::vec![0.0; 64];
        gemm_portable(16, 300, 4, &a, &b, &mut portable, false);
        let fastest = product(&a, &b);
        // Where the CPU has the SIMD kernels and they are compiled in, the default differs from
        // the portable kernels in some bits (else this test could not tell the paths apart).
        let simd_runs = simd();
        assert_eq!(simd_runs, bits(&fastest) != bits(&portable));
        if cfg!(feature = "portable-kernels") || !cfg!(simd_kernels) {
            assert!(!simd_runs);
        }
        let (a, b) = (Arc::new(a), Arc::new(b));
        let start = Arc::new(Barrier::new(2));
        let run = |choice: Kernels| {
            let (a, b, start) = (a.clone(), b.clone(), start.clone());
            std::thread::spawn(move || {
                with(choice, || {
                    // Both threads are inside `with` before either computes.
                    start.wait();
                    (0..50).map(|_| bits(&product(&a, &b))).collect::<Vec<_>>()
                })
            })
        };
        let (p, f) = (run(Kernels::Portable), run(Kernels::Fastest));
        let (p, f) = (p.join().unwrap(), f.join().unwrap());
        assert!(p.iter().all(|got| *got == bits(&portable)));
        assert!(f.iter().all(|got| *got == bits(&fastest)));
    }
}
