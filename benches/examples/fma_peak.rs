//! The core's peak f32 multiply-add rate, the ceiling the "of peak" figures of BENCHMARKS.md
//! divide by: twelve independent chains of fused multiply-adds (enough to cover the latency of
//! two FMA pipes), timed on one thread, with AVX-512 and with AVX2.
//!
//! numpy's sgemm is no ceiling on every CPU: its OpenBLAS picks AVX2 kernels ("Haswell") on a
//! CPU it does not know, such as an AVX-512 Zen 5.
//!
//! ```sh
//! cd benches && taskset -c 1 cargo run --release --example fma_peak
//! ```

#[cfg(target_arch = "x86_64")]
mod peak {
    use std::arch::x86_64::*;
    use std::hint::black_box;
    use std::time::Instant;

    /// Twelve accumulators, each `a = a·x + y` per step: `steps · 12 · lanes · 2` flops.
    macro_rules! chains {
        ($set:ident, $fma:ident, $add:ident, $reduce:expr, $steps:expr) => {{
            let x = $set(black_box(0.999_999));
            let y = $set(black_box(1e-7));
            let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5] = [$set(1.0); 6];
            let [mut a6, mut a7, mut a8, mut a9, mut a10, mut a11] = [$set(2.0); 6];
            for _ in 0..$steps {
                a0 = $fma(a0, x, y);
                a1 = $fma(a1, x, y);
                a2 = $fma(a2, x, y);
                a3 = $fma(a3, x, y);
                a4 = $fma(a4, x, y);
                a5 = $fma(a5, x, y);
                a6 = $fma(a6, x, y);
                a7 = $fma(a7, x, y);
                a8 = $fma(a8, x, y);
                a9 = $fma(a9, x, y);
                a10 = $fma(a10, x, y);
                a11 = $fma(a11, x, y);
            }
            let s = $add($add($add(a0, a1), $add(a2, a3)), $add($add(a4, a5), a6));
            let t = $add($add($add(a7, a8), $add(a9, a10)), a11);
            $reduce($add(s, t))
        }};
    }

    #[target_feature(enable = "avx512f")]
    fn avx512(steps: u64) -> f32 {
        chains!(
            _mm512_set1_ps,
            _mm512_fmadd_ps,
            _mm512_add_ps,
            _mm512_reduce_add_ps,
            steps
        )
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2(steps: u64) -> f32 {
        let first = |v: __m256| _mm256_cvtss_f32(v);
        chains!(_mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, first, steps)
    }

    /// The best and the median GFLOP/s of 7 timings of `f` over `steps` steps of `lanes`-wide
    /// vectors.
    fn best(name: &str, lanes: u64, steps: u64, f: impl Fn(u64) -> f32) {
        let mut rates = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            black_box(f(black_box(steps)));
            let seconds = start.elapsed().as_secs_f64();
            rates.push((steps * 12 * lanes * 2) as f64 / seconds * 1e-9);
        }
        rates.sort_by(f64::total_cmp);
        println!(
            "{name}: {:.1} GFLOP/s (best of 7; median {:.1})",
            rates[6], rates[3]
        );
    }

    pub fn main() {
        let steps = 50_000_000;
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            best("AVX-512 FMA", 16, steps, |s| unsafe { avx512(s) });
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            best("AVX2 FMA", 8, steps, |s| unsafe { avx2(s) });
        }
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    peak::main();
    #[cfg(not(target_arch = "x86_64"))]
    println!("fma_peak measures x86_64 only");
}
