//! AVX2 + FMA versions of the matrix kernels, chosen at run time by [`super::simd`].
//!
//! Column-major throughout. A register tile of `8·MV` rows × `NR` columns of `C` stays in
//! registers for the whole pass over `k`: per `k`, `MV` loads from a column of `A`, `NR`
//! broadcasts from `B` and `MV·NR` fused multiply-adds. `C`'s last rows, when `m` is not a
//! multiple of 8, go through masked loads and stores, so every row takes the same path.
//!
//! Fused multiply-adds round once where the portable kernels round twice, so results differ from
//! theirs in the last bits (well inside Keras's 1e-5); the portable path is the one that gives
//! the same bits on every target.

use core::arch::x86_64::*;

/// `c (m×n, ldc) = a (m×k, lda) · b (k×n, ldb) + (c if accumulate)`.
///
/// # Safety
/// The CPU supports AVX2 and FMA; `a`, `b`, `c` hold the matrices their sizes and strides say
/// (`lda, ldc ≥ m`, `ldb ≥ k`; the last column needs only `m` or `k` values).
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    let g = Gemm {
        k,
        a,
        lda,
        b,
        ldb,
        c,
        ldc,
        accumulate,
    };
    // SAFETY (every call below): tiles stay inside the rows `0..m` and columns `0..n` the
    // caller vouched for.
    unsafe {
        if n == 1 {
            return g.column(m, 0);
        }
        let mut j = 0;
        while j + 6 <= n {
            g.columns::<6>(m, j);
            j += 6;
        }
        match n - j {
            5 => g.columns::<5>(m, j),
            4 => g.columns::<4>(m, j),
            3 => g.columns::<3>(m, j),
            2 => g.columns::<2>(m, j),
            1 => g.column(m, j),
            _ => {}
        }
    }
}

#[derive(Clone, Copy)]
struct Gemm {
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
}

/// Lanes `0..rows` set (`rows ≤ 8`).
#[inline(always)]
fn mask(rows: usize) -> __m256i {
    // SAFETY: plain register arithmetic (AVX2 is enabled in every caller).
    unsafe {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(rows as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
}

/// Loads 8 values, or the first `rows` of them (the others zero) when `TAIL`.
#[inline(always)]
unsafe fn load<const TAIL: bool>(p: *const f32, m: __m256i) -> __m256 {
    // SAFETY: the caller's pointer holds 8 values, or `rows` when TAIL (masked lanes are
    // not read).
    unsafe {
        if TAIL {
            _mm256_maskload_ps(p, m)
        } else {
            _mm256_loadu_ps(p)
        }
    }
}

#[inline(always)]
unsafe fn store<const TAIL: bool>(p: *mut f32, m: __m256i, v: __m256) {
    // SAFETY: as for `load`.
    unsafe {
        if TAIL {
            _mm256_maskstore_ps(p, m, v)
        } else {
            _mm256_storeu_ps(p, v)
        }
    }
}

impl Gemm {
    /// Columns `j..j + NR` of `C`, in tiles of 16 rows (then 8, then a masked rest).
    #[inline(always)]
    unsafe fn columns<const NR: usize>(&self, m: usize, j: usize) {
        let mut i = 0;
        // SAFETY: each tile covers rows inside `0..m`.
        unsafe {
            while i + 16 <= m {
                self.tile::<2, NR, false>(i, j, 8);
                i += 16;
            }
            match m - i {
                0 => {}
                r @ 9..=15 => self.tile::<2, NR, true>(i, j, r - 8),
                8 => self.tile::<1, NR, false>(i, j, 8),
                r => self.tile::<1, NR, true>(i, j, r),
            }
        }
    }

    /// Rows `i..i + 8·MV` (the last vector holding `last` rows when `TAIL`), columns
    /// `j..j + NR`.
    #[inline(always)]
    unsafe fn tile<const MV: usize, const NR: usize, const TAIL: bool>(
        &self,
        i: usize,
        j: usize,
        last: usize,
    ) {
        let mk = mask(last);
        // SAFETY: rows i.. and columns j.. are inside the matrices (see `gemm`).
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); MV]; NR];
            let mut a = self.a.add(i);
            let b = self.b.add(j * self.ldb);
            for p in 0..self.k {
                let mut av = [_mm256_setzero_ps(); MV];
                for (v, av) in av.iter_mut().enumerate() {
                    *av = if v + 1 == MV {
                        load::<TAIL>(a.add(8 * v), mk)
                    } else {
                        _mm256_loadu_ps(a.add(8 * v))
                    };
                }
                for (jj, acc) in acc.iter_mut().enumerate() {
                    let x = _mm256_broadcast_ss(&*b.add(jj * self.ldb + p));
                    for (acc, &av) in acc.iter_mut().zip(&av) {
                        *acc = _mm256_fmadd_ps(av, x, *acc);
                    }
                }
                a = a.add(self.lda);
            }
            for (jj, acc) in acc.iter().enumerate() {
                let c = self.c.add((j + jj) * self.ldc + i);
                for (v, &sum) in acc.iter().enumerate() {
                    let p = c.add(8 * v);
                    if v + 1 == MV {
                        let sum = if self.accumulate {
                            _mm256_add_ps(load::<TAIL>(p, mk), sum)
                        } else {
                            sum
                        };
                        store::<TAIL>(p, mk, sum);
                    } else {
                        let sum = if self.accumulate {
                            _mm256_add_ps(_mm256_loadu_ps(p), sum)
                        } else {
                            sum
                        };
                        _mm256_storeu_ps(p, sum);
                    }
                }
            }
        }
    }

    /// Column `j` of `C` (a matrix-vector product): 64 rows per pass, and for short columns
    /// several partial sums over `k`, so at least 8 independent sums are in flight either way.
    #[inline(always)]
    unsafe fn column(&self, m: usize, j: usize) {
        let mut i = 0;
        // SAFETY: each tile covers rows inside `0..m`.
        unsafe {
            while i + 64 <= m {
                self.column_tile::<8, 1, false>(i, j, 8);
                i += 64;
            }
            let rest = m - i;
            let last = rest - 8 * ((rest.max(1) - 1) / 8);
            match rest.div_ceil(8) {
                0 => {}
                1 if last == 8 => self.column_tile::<1, 8, false>(i, j, 8),
                1 => self.column_tile::<1, 8, true>(i, j, last),
                2 => self.column_tile::<2, 4, true>(i, j, last),
                3 => self.column_tile::<3, 2, true>(i, j, last),
                4 => self.column_tile::<4, 2, true>(i, j, last),
                5 => self.column_tile::<5, 1, true>(i, j, last),
                6 => self.column_tile::<6, 1, true>(i, j, last),
                7 => self.column_tile::<7, 1, true>(i, j, last),
                _ => self.column_tile::<8, 1, true>(i, j, last),
            }
        }
    }

    /// Rows `i..i + 8·MV` of column `j`, with `U` partial sums over `k` (`p mod U`) added at the
    /// end. A full last vector through the masked path costs little: masks are all set.
    #[inline(always)]
    unsafe fn column_tile<const MV: usize, const U: usize, const TAIL: bool>(
        &self,
        i: usize,
        j: usize,
        last: usize,
    ) {
        let mk = mask(last);
        // SAFETY: rows i.. of column j are inside the matrices (see `gemm`).
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); MV]; U];
            let a0 = self.a.add(i);
            let b = self.b.add(j * self.ldb);
            let mut p = 0;
            while p + U <= self.k {
                for (u, acc) in acc.iter_mut().enumerate() {
                    let a = a0.add((p + u) * self.lda);
                    let x = _mm256_broadcast_ss(&*b.add(p + u));
                    for (v, acc) in acc.iter_mut().enumerate() {
                        let av = if v + 1 == MV {
                            load::<TAIL>(a.add(8 * v), mk)
                        } else {
                            _mm256_loadu_ps(a.add(8 * v))
                        };
                        *acc = _mm256_fmadd_ps(av, x, *acc);
                    }
                }
                p += U;
            }
            while p < self.k {
                let a = a0.add(p * self.lda);
                let x = _mm256_broadcast_ss(&*b.add(p));
                for (v, acc) in acc[0].iter_mut().enumerate() {
                    let av = if v + 1 == MV {
                        load::<TAIL>(a.add(8 * v), mk)
                    } else {
                        _mm256_loadu_ps(a.add(8 * v))
                    };
                    *acc = _mm256_fmadd_ps(av, x, *acc);
                }
                p += 1;
            }
            let c = self.c.add(j * self.ldc + i);
            for v in 0..MV {
                let mut sum = acc[0][v];
                for acc in &acc[1..] {
                    sum = _mm256_add_ps(sum, acc[v]);
                }
                let p = c.add(8 * v);
                if v + 1 == MV {
                    if self.accumulate {
                        sum = _mm256_add_ps(load::<TAIL>(p, mk), sum);
                    }
                    store::<TAIL>(p, mk, sum);
                } else {
                    if self.accumulate {
                        sum = _mm256_add_ps(_mm256_loadu_ps(p), sum);
                    }
                    _mm256_storeu_ps(p, sum);
                }
            }
        }
    }
}
