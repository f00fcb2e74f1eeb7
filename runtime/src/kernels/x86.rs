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

/// `exp` on 8 lanes: Cody–Waite reduction `x = n·ln 2 + r`, |r| ≤ ln 2 / 2, and Cephes's degree-6
/// polynomial for `e^r` (about 1 ulp); inputs are clamped to ±88 (no overflow to infinity).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn exp8(x: __m256) -> __m256 {
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-88.0)),
        _mm256_set1_ps(88.0),
    );
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(core::f32::consts::LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm256_set1_ps(1.987_569_2e-4);
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let p = _mm256_add_ps(
        _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r),
        _mm256_set1_ps(1.0),
    );
    let scale = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    )));
    _mm256_mul_ps(p, scale)
}

/// `1 / (1 + e^−x)`, as JAX's `lax.logistic`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn sigmoid8(x: __m256) -> __m256 {
    let one = _mm256_set1_ps(1.0);
    let e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    _mm256_div_ps(one, _mm256_add_ps(one, e))
}

/// `tanh`: Cephes's odd polynomial below |x| = 0.625, `1 − 2 / (e^{2|x|} + 1)` with the sign of
/// `x` above (|x| clamped to 9, where tanh is 1 in f32).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tanh8(x: __m256) -> __m256 {
    let sign = _mm256_set1_ps(-0.0);
    let a = _mm256_andnot_ps(sign, x);
    let z = _mm256_mul_ps(x, x);
    let mut p = _mm256_set1_ps(-5.704_988_7e-3);
    for c in [2.063_909e-2, -5.373_971_6e-2, 0.133_314_42, -0.333_332_8] {
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(c));
    }
    let small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    let one = _mm256_set1_ps(1.0);
    let e = exp8(_mm256_add_ps(
        _mm256_min_ps(a, _mm256_set1_ps(9.0)),
        _mm256_min_ps(a, _mm256_set1_ps(9.0)),
    ));
    let large = _mm256_sub_ps(
        one,
        _mm256_div_ps(_mm256_set1_ps(2.0), _mm256_add_ps(e, one)),
    );
    let large = _mm256_or_ps(large, _mm256_and_ps(sign, x));
    let is_small = _mm256_cmp_ps::<_CMP_LT_OQ>(a, _mm256_set1_ps(0.625));
    _mm256_blendv_ps(large, small, is_small)
}

/// Applies `$f` to every value of `$values`, 8 at a time, the last few through masked loads and
/// stores. (A macro, not a function taking a closure: a closure's call would not inherit the
/// target features, and its intrinsics would not be inlined.)
macro_rules! map8 {
    ($values:expr, $f:ident) => {{
        let values: &mut [f32] = $values;
        let mut chunks = values.chunks_exact_mut(8);
        // SAFETY: each pointer holds 8 values, or `rest` values with the mask of `rest` lanes.
        unsafe {
            for c in &mut chunks {
                _mm256_storeu_ps(c.as_mut_ptr(), $f(_mm256_loadu_ps(c.as_ptr())));
            }
            let rest = chunks.into_remainder();
            if !rest.is_empty() {
                let m = mask(rest.len());
                let v = $f(_mm256_maskload_ps(rest.as_ptr(), m));
                _mm256_maskstore_ps(rest.as_mut_ptr(), m, v);
            }
        }
    }};
}

/// The logistic sigmoid of every value.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn sigmoid(values: &mut [f32]) {
    map8!(values, sigmoid8);
}

/// `tanh` of every value.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn tanh(values: &mut [f32]) {
    map8!(values, tanh8);
}
