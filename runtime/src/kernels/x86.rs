//! SIMD versions of the matrix kernels for x86_64, chosen at run time by [`super::simd`]: AVX-512
//! where the CPU has it, AVX2 + FMA otherwise. One generic implementation over [`Vector`]
//! (8 lanes in a `__m256`, 16 in a `__m512`), compiled once per instruction set.
//!
//! Column-major throughout. A register tile of `MV` vectors of rows × `NR` columns of `C` stays
//! in registers for the whole pass over `k`: per `k`, `MV` loads from a column of `A`, `NR`
//! broadcasts from `B` and `MV·NR` fused multiply-adds. `C`'s last rows, when `m` is not a
//! multiple of the lane count, go through masked loads and stores, so every row takes the same
//! path.
//!
//! Fused multiply-adds round once where the portable kernels round twice, so results differ from
//! theirs in the last bits (well inside Keras's 1e-5); the portable path is the one that gives
//! the same bits on every target.

use core::arch::x86_64::*;

/// A SIMD register of f32 lanes and the operations the kernels need. Every method is
/// `#[inline(always)]` without target features of its own: it is only ever inlined into a
/// function compiled with them.
pub(crate) trait Vector: Copy {
    /// Lanes per register.
    const LANES: usize;
    /// Which lanes a masked load or store touches.
    type Mask: Copy;
    /// Columns of `C` per register tile (with two vectors of rows).
    const NR: usize;
    fn zero() -> Self;
    /// Lanes `0..rows` (`rows ≤ LANES`).
    fn mask(rows: usize) -> Self::Mask;
    /// # Safety
    /// `p` holds `LANES` values.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p` holds `LANES` values.
    unsafe fn store(p: *mut f32, v: Self);
    /// # Safety
    /// `p` holds the values of the mask's lanes (the others read as zero).
    unsafe fn load_masked(p: *const f32, m: Self::Mask) -> Self;
    /// # Safety
    /// `p` holds the values of the mask's lanes.
    unsafe fn store_masked(p: *mut f32, m: Self::Mask, v: Self);
    /// # Safety
    /// `p` points to one value.
    unsafe fn broadcast(p: *const f32) -> Self;
    /// `a·b + c`, rounded once.
    fn fmadd(a: Self, b: Self, c: Self) -> Self;
    fn add(a: Self, b: Self) -> Self;
    /// `a > b ? a : b` per lane (so `b` where `a` is NaN), as `maxps`.
    fn max(a: Self, b: Self) -> Self;
}

/// AVX2 + FMA: 8 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256);

/// AVX-512: 16 lanes.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512);

// SAFETY (every `unsafe` block in these impls): the intrinsics need AVX2 + FMA (resp. AVX-512F),
// which every function these are inlined into enables; pointers are the caller's promise.
impl Vector for Avx2 {
    const LANES: usize = 8;
    type Mask = __m256i;
    const NR: usize = 6;
    #[inline(always)]
    fn zero() -> Self {
        Self(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    fn mask(rows: usize) -> __m256i {
        unsafe {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(rows as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Self(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self) {
        unsafe { _mm256_storeu_ps(p, v.0) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __m256i) -> Self {
        Self(unsafe { _mm256_maskload_ps(p, m) })
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __m256i, v: Self) {
        unsafe { _mm256_maskstore_ps(p, m, v.0) }
    }
    #[inline(always)]
    unsafe fn broadcast(p: *const f32) -> Self {
        Self(unsafe { _mm256_broadcast_ss(&*p) })
    }
    #[inline(always)]
    fn fmadd(a: Self, b: Self, c: Self) -> Self {
        Self(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        Self(unsafe { _mm256_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn max(a: Self, b: Self) -> Self {
        // SAFETY: as `add`.
        Self(unsafe { _mm256_max_ps(a.0, b.0) })
    }
}

impl Vector for Avx512 {
    const LANES: usize = 16;
    type Mask = __mmask16;
    const NR: usize = 12;
    #[inline(always)]
    fn zero() -> Self {
        Self(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    fn mask(rows: usize) -> __mmask16 {
        ((1u32 << rows) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Self(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self) {
        unsafe { _mm512_storeu_ps(p, v.0) }
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __mmask16) -> Self {
        Self(unsafe { _mm512_maskz_loadu_ps(m, p) })
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __mmask16, v: Self) {
        unsafe { _mm512_mask_storeu_ps(p, m, v.0) }
    }
    #[inline(always)]
    unsafe fn broadcast(p: *const f32) -> Self {
        Self(unsafe { _mm512_set1_ps(*p) })
    }
    #[inline(always)]
    fn fmadd(a: Self, b: Self, c: Self) -> Self {
        Self(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        Self(unsafe { _mm512_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn max(a: Self, b: Self) -> Self {
        // SAFETY: as `add`.
        Self(unsafe { _mm512_max_ps(a.0, b.0) })
    }
}

/// Which instruction set the SIMD kernels use on this CPU, if any.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Avx2,
    Avx512,
}

/// The best instruction set of this CPU for the kernels (checked once, then cached by std).
#[inline]
pub(crate) fn isa() -> Option<Isa> {
    if std::is_x86_feature_detected!("avx512f") {
        Some(Isa::Avx512)
    } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        Some(Isa::Avx2)
    } else {
        None
    }
}

/// `c (m×n, ldc) = a (m×k, lda) · b (k×n, ldb) + (c if accumulate)`.
///
/// # Safety
/// The CPU supports `isa`; `a`, `b`, `c` hold the matrices their sizes and strides say
/// (`lda, ldc ≥ m`, `ldb ≥ k`; the last column needs only `m` or `k` values).
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemm(
    isa: Isa,
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
    // SAFETY: the CPU has the instruction set (the caller's promise).
    unsafe {
        match isa {
            Isa::Avx2 => gemm_avx2(&g, m, n),
            Isa::Avx512 => gemm_avx512(&g, m, n),
        }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_avx2(g: &Gemm, m: usize, n: usize) {
    // SAFETY: as for `gemm`.
    unsafe { g.run::<Avx2>(m, n) }
}

#[target_feature(enable = "avx512f")]
unsafe fn gemm_avx512(g: &Gemm, m: usize, n: usize) {
    // SAFETY: as for `gemm`.
    unsafe { g.run::<Avx512>(m, n) }
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

impl Gemm {
    /// The whole product: blocks of `V::NR` columns, then the rest.
    #[inline(always)]
    unsafe fn run<V: Vector>(&self, m: usize, n: usize) {
        // SAFETY (every call below): tiles stay inside the rows `0..m` and columns `0..n` the
        // caller vouched for.
        unsafe {
            if n == 1 {
                return self.column::<V>(m, 0);
            }
            let mut j = 0;
            while j + V::NR <= n {
                if V::NR == 12 {
                    self.columns::<V, 12>(m, j);
                } else {
                    self.columns::<V, 6>(m, j);
                }
                j += V::NR;
            }
            match n - j {
                0 => {}
                1 => self.column::<V>(m, j),
                2 => self.columns::<V, 2>(m, j),
                3 => self.columns::<V, 3>(m, j),
                4 => self.columns::<V, 4>(m, j),
                5 => self.columns::<V, 5>(m, j),
                6 => self.columns::<V, 6>(m, j),
                7 => self.columns::<V, 7>(m, j),
                8 => self.columns::<V, 8>(m, j),
                9 => self.columns::<V, 9>(m, j),
                10 => self.columns::<V, 10>(m, j),
                _ => self.columns::<V, 11>(m, j),
            }
        }
    }

    /// Columns `j..j + NR` of `C`, in tiles of two vectors of rows (then one, then a masked
    /// rest).
    #[inline(always)]
    unsafe fn columns<V: Vector, const NR: usize>(&self, m: usize, j: usize) {
        let l = V::LANES;
        let mut i = 0;
        // SAFETY: each tile covers rows inside `0..m`.
        unsafe {
            while i + 2 * l <= m {
                self.tile::<V, 2, NR, false>(i, j, l);
                i += 2 * l;
            }
            let r = m - i;
            if r > l {
                self.tile::<V, 2, NR, true>(i, j, r - l);
            } else if r == l {
                self.tile::<V, 1, NR, false>(i, j, l);
            } else if r > 0 {
                self.tile::<V, 1, NR, true>(i, j, r);
            }
        }
    }

    /// Rows `i..i + MV·LANES` (the last vector holding `last` rows when `TAIL`), columns
    /// `j..j + NR`.
    #[inline(always)]
    unsafe fn tile<V: Vector, const MV: usize, const NR: usize, const TAIL: bool>(
        &self,
        i: usize,
        j: usize,
        last: usize,
    ) {
        let mk = V::mask(last);
        let l = V::LANES;
        // SAFETY: rows i.. and columns j.. are inside the matrices (see `gemm`).
        unsafe {
            let mut acc = [[V::zero(); MV]; NR];
            let mut a = self.a.add(i);
            let b = self.b.add(j * self.ldb);
            for p in 0..self.k {
                let mut av = [V::zero(); MV];
                for (v, av) in av.iter_mut().enumerate() {
                    *av = if TAIL && v + 1 == MV {
                        V::load_masked(a.add(l * v), mk)
                    } else {
                        V::load(a.add(l * v))
                    };
                }
                for (jj, acc) in acc.iter_mut().enumerate() {
                    let x = V::broadcast(b.add(jj * self.ldb + p));
                    for (acc, &av) in acc.iter_mut().zip(&av) {
                        *acc = V::fmadd(av, x, *acc);
                    }
                }
                a = a.add(self.lda);
            }
            for (jj, acc) in acc.iter().enumerate() {
                let c = self.c.add((j + jj) * self.ldc + i);
                for (v, &sum) in acc.iter().enumerate() {
                    self.store::<V, TAIL>(c.add(l * v), v + 1 == MV, mk, sum);
                }
            }
        }
    }

    /// Writes (or adds, when accumulating) one vector of `C`; masked if it is the tail.
    #[inline(always)]
    unsafe fn store<V: Vector, const TAIL: bool>(
        &self,
        p: *mut f32,
        last: bool,
        mk: V::Mask,
        sum: V,
    ) {
        // SAFETY: `p` is inside `C` for the lanes written (see `tile`).
        unsafe {
            if TAIL && last {
                let sum = if self.accumulate {
                    V::add(V::load_masked(p, mk), sum)
                } else {
                    sum
                };
                V::store_masked(p, mk, sum);
            } else {
                let sum = if self.accumulate {
                    V::add(V::load(p), sum)
                } else {
                    sum
                };
                V::store(p, sum);
            }
        }
    }

    /// Column `j` of `C` (a matrix-vector product): 8 vectors of rows per pass, and for short
    /// columns several partial sums over `k`, so at least 8 independent sums are in flight
    /// either way.
    #[inline(always)]
    unsafe fn column<V: Vector>(&self, m: usize, j: usize) {
        let l = V::LANES;
        let mut i = 0;
        // SAFETY: each tile covers rows inside `0..m`.
        unsafe {
            while i + 8 * l <= m {
                // AVX-512 has the registers for two partial sums of 8 vectors.
                if l == 16 {
                    self.column_tile::<V, 8, 2, false>(i, j, l);
                } else {
                    self.column_tile::<V, 8, 1, false>(i, j, l);
                }
                i += 8 * l;
            }
            let rest = m - i;
            if rest == 0 {
                return;
            }
            let vectors = rest.div_ceil(l);
            let last = rest - l * (vectors - 1);
            match vectors {
                1 if last == l => self.column_tile::<V, 1, 8, false>(i, j, l),
                1 => self.column_tile::<V, 1, 8, true>(i, j, last),
                2 => self.column_tile::<V, 2, 4, true>(i, j, last),
                3 => self.column_tile::<V, 3, 2, true>(i, j, last),
                4 => self.column_tile::<V, 4, 2, true>(i, j, last),
                5 => self.column_tile::<V, 5, 1, true>(i, j, last),
                6 => self.column_tile::<V, 6, 1, true>(i, j, last),
                7 => self.column_tile::<V, 7, 1, true>(i, j, last),
                _ => self.column_tile::<V, 8, 1, true>(i, j, last),
            }
        }
    }

    /// Rows `i..i + MV·LANES` of column `j`, with `U` partial sums over `k` (`p mod U`) added at
    /// the end. A full last vector through the masked path costs little: masks are all set.
    #[inline(always)]
    unsafe fn column_tile<V: Vector, const MV: usize, const U: usize, const TAIL: bool>(
        &self,
        i: usize,
        j: usize,
        last: usize,
    ) {
        let mk = V::mask(last);
        let l = V::LANES;
        // SAFETY: rows i.. of column j are inside the matrices (see `gemm`).
        unsafe {
            let mut acc = [[V::zero(); MV]; U];
            let a0 = self.a.add(i);
            let b = self.b.add(j * self.ldb);
            let load = |a: *const f32, v: usize| {
                if TAIL && v + 1 == MV {
                    V::load_masked(a.add(l * v), mk)
                } else {
                    V::load(a.add(l * v))
                }
            };
            let mut p = 0;
            while p + U <= self.k {
                for (u, acc) in acc.iter_mut().enumerate() {
                    let a = a0.add((p + u) * self.lda);
                    let x = V::broadcast(b.add(p + u));
                    for (v, acc) in acc.iter_mut().enumerate() {
                        *acc = V::fmadd(load(a, v), x, *acc);
                    }
                }
                p += U;
            }
            while p < self.k {
                let a = a0.add(p * self.lda);
                let x = V::broadcast(b.add(p));
                for (v, acc) in acc[0].iter_mut().enumerate() {
                    *acc = V::fmadd(load(a, v), x, *acc);
                }
                p += 1;
            }
            let c = self.c.add(j * self.ldc + i);
            for v in 0..MV {
                let mut sum = acc[0][v];
                for acc in &acc[1..] {
                    sum = V::add(sum, acc[v]);
                }
                self.store::<V, TAIL>(c.add(l * v), v + 1 == MV, mk, sum);
            }
        }
    }
}

/// Lanes `0..rows` set (`rows ≤ 8`), for the activations' tails.
#[inline(always)]
fn mask(rows: usize) -> __m256i {
    Avx2::mask(rows)
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

/// `y (m) += a (m×k, lda) · x (k)` for a recurrent step: every row of a block of up to 16
/// vectors (12 with AVX2's 16 registers) per column, so a kernel of up to 256 rows is read as
/// one sequential stream; columns in the order `0..k`, or `k−1..0` with `reverse`. A recurrent
/// kernel a little larger than the L1 cache is then read alternately forwards and backwards by
/// consecutive steps, and the part read last by one step is still cached for the next.
///
/// # Safety
/// The CPU supports `isa`; `a` holds `k` columns of `m` values `lda` apart, `x` `k` values, `y`
/// `m` values.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn gemv_sweep(
    isa: Isa,
    m: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
) {
    // SAFETY: the CPU has the instruction set (the caller's promise).
    unsafe {
        match isa {
            Isa::Avx2 => sweep_avx2(m, k, a, lda, x, y, reverse),
            Isa::Avx512 => sweep_avx512(m, k, a, lda, x, y, reverse),
        }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn sweep_avx2(
    m: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
) {
    // SAFETY: as for `gemv_sweep`.
    unsafe { sweep::<Avx2>(m, k, a, lda, x, y, reverse) }
}

#[target_feature(enable = "avx512f")]
unsafe fn sweep_avx512(
    m: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
) {
    // SAFETY: as for `gemv_sweep`.
    unsafe { sweep::<Avx512>(m, k, a, lda, x, y, reverse) }
}

/// [`gemv_sweep`] in blocks of rows.
#[inline(always)]
unsafe fn sweep<V: Vector>(
    m: usize,
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
) {
    let l = V::LANES;
    let most = if l == 16 { 16 } else { 12 };
    let mut i = 0;
    // SAFETY: each block covers rows inside `0..m`.
    unsafe {
        while i < m {
            let vectors = (m - i).div_ceil(l).min(most);
            let rows = (m - i).min(vectors * l);
            let last = rows - (vectors - 1) * l;
            let (a, y) = (a.add(i), y.add(i));
            match vectors {
                1 => sweep_block::<V, 1>(k, a, lda, x, y, reverse, last),
                2 => sweep_block::<V, 2>(k, a, lda, x, y, reverse, last),
                3 => sweep_block::<V, 3>(k, a, lda, x, y, reverse, last),
                4 => sweep_block::<V, 4>(k, a, lda, x, y, reverse, last),
                5 => sweep_block::<V, 5>(k, a, lda, x, y, reverse, last),
                6 => sweep_block::<V, 6>(k, a, lda, x, y, reverse, last),
                7 => sweep_block::<V, 7>(k, a, lda, x, y, reverse, last),
                8 => sweep_block::<V, 8>(k, a, lda, x, y, reverse, last),
                9 => sweep_block::<V, 9>(k, a, lda, x, y, reverse, last),
                10 => sweep_block::<V, 10>(k, a, lda, x, y, reverse, last),
                11 => sweep_block::<V, 11>(k, a, lda, x, y, reverse, last),
                12 => sweep_block::<V, 12>(k, a, lda, x, y, reverse, last),
                13 => sweep_block::<V, 13>(k, a, lda, x, y, reverse, last),
                14 => sweep_block::<V, 14>(k, a, lda, x, y, reverse, last),
                15 => sweep_block::<V, 15>(k, a, lda, x, y, reverse, last),
                _ => sweep_block::<V, 16>(k, a, lda, x, y, reverse, last),
            }
            i += rows;
        }
    }
}

/// `MV` vectors of rows (the last holding `last` rows) of [`gemv_sweep`], summed in registers.
#[inline(always)]
unsafe fn sweep_block<V: Vector, const MV: usize>(
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
    last: usize,
) {
    let l = V::LANES;
    let mk = V::mask(last);
    // SAFETY: the block's rows of every column are inside `a`, its rows inside `y`.
    unsafe {
        let mut acc = [V::zero(); MV];
        for (v, acc) in acc.iter_mut().enumerate() {
            *acc = if v + 1 == MV {
                V::load_masked(y.add(l * v), mk)
            } else {
                V::load(y.add(l * v))
            };
        }
        // Column by column, forwards or backwards (the pointers step past the end only after
        // the last column, without being read).
        let (mut col, mut xp, step) = if reverse && k > 0 {
            (a.add((k - 1) * lda), x.add(k - 1), -1isize)
        } else {
            (a, x, 1isize)
        };
        for _ in 0..k {
            let xv = V::broadcast(xp);
            for (v, acc) in acc.iter_mut().enumerate() {
                let w = if v + 1 == MV {
                    V::load_masked(col.add(l * v), mk)
                } else {
                    V::load(col.add(l * v))
                };
                *acc = V::fmadd(w, xv, *acc);
            }
            col = col.wrapping_offset(step * lda as isize);
            xp = xp.wrapping_offset(step);
        }
        for (v, &acc) in acc.iter().enumerate() {
            if v + 1 == MV {
                V::store_masked(y.add(l * v), mk, acc);
            } else {
                V::store(y.add(l * v), acc);
            }
        }
    }
}

/// `exp` on 16 lanes, as [`exp8`] (the same reduction and polynomial), scaled by `2^n` with
/// `vscalefps`.
#[target_feature(enable = "avx512f")]
#[inline]
fn exp16(x: __m512) -> __m512 {
    let x = _mm512_min_ps(
        _mm512_max_ps(x, _mm512_set1_ps(-88.0)),
        _mm512_set1_ps(88.0),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, _mm512_set1_ps(core::f32::consts::LOG2_E)),
    );
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
    let mut p = _mm512_set1_ps(1.987_569_2e-4);
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    let p = _mm512_add_ps(
        _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r),
        _mm512_set1_ps(1.0),
    );
    _mm512_scalef_ps(p, n)
}

/// `1 / d` for `d ≥ 1`: the 14-bit estimate and one Newton step (within about 1 ulp).
#[target_feature(enable = "avx512f")]
#[inline]
fn recip16(d: __m512) -> __m512 {
    let r = _mm512_rcp14_ps(d);
    _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0)), r)
}

/// `1 / (1 + e^−x)` on 16 lanes.
#[target_feature(enable = "avx512f")]
#[inline]
fn sigmoid16(x: __m512) -> __m512 {
    let e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
    recip16(_mm512_add_ps(_mm512_set1_ps(1.0), e))
}

/// `tanh` on 16 lanes, as [`tanh8`].
#[target_feature(enable = "avx512f")]
#[inline]
fn tanh16(x: __m512) -> __m512 {
    let a = _mm512_abs_ps(x);
    let z = _mm512_mul_ps(x, x);
    let mut p = _mm512_set1_ps(-5.704_988_7e-3);
    for c in [2.063_909e-2, -5.373_971_6e-2, 0.133_314_42, -0.333_332_8] {
        p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(c));
    }
    let small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    let one = _mm512_set1_ps(1.0);
    let a9 = _mm512_min_ps(a, _mm512_set1_ps(9.0));
    let e = exp16(_mm512_add_ps(a9, a9));
    let q = recip16(_mm512_add_ps(e, one));
    let large = _mm512_fnmadd_ps(_mm512_set1_ps(2.0), q, one);
    // The sign of x on |tanh x|.
    let sign = _mm512_set1_epi32(i32::MIN);
    let large = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(large),
        _mm512_and_si512(_mm512_castps_si512(x), sign),
    ));
    let is_small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, _mm512_set1_ps(0.625));
    _mm512_mask_blend_ps(is_small, large, small)
}

/// Loads `mk`'s lanes of `p` plus those of `q` unless it is null.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load_sum(mk: __mmask16, p: *const f32, q: *const f32) -> __m512 {
    // SAFETY: the caller's pointers hold the mask's lanes.
    unsafe {
        let v = _mm512_maskz_loadu_ps(mk, p);
        if q.is_null() {
            v
        } else {
            _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, q))
        }
    }
}

/// The rest of an LSTM step with sigmoid gates and tanh activations, in one pass: the sums of
/// the gates i, f, c, o (`units` values each) are `z`, plus `xw` and `bias` where not null;
/// `c` and `h` are updated.
///
/// # Safety
/// The CPU supports AVX-512F; `z` (and `xw`, `bias` unless null) hold `4·units` values, `c` and
/// `h` `units` each.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn lstm_gates(
    units: usize,
    z: *const f32,
    xw: *const f32,
    bias: *const f32,
    c: *mut f32,
    h: *mut f32,
) {
    // Blocks of 4 vectors, each phase over the whole block: 4 independent chains of
    // activations in flight rather than one (the gates' latency, not their count, bounds a step).
    let mut j = 0;
    // SAFETY: every access is inside the lanes of its mask, within `units` (a vector past the end
    // has an empty mask).
    unsafe {
        let at = |p: *const f32, i: usize| if p.is_null() { p } else { p.add(i) };
        while j < units {
            let mut o = [_mm512_setzero_ps(); 4];
            let mut c_new = [_mm512_setzero_ps(); 4];
            for b in 0..4 {
                let jb = j + 16 * b;
                let mk = lanes(units, jb);
                let sum = |g: usize| {
                    let i = g * units + jb;
                    let v = load_sum(mk, z.add(i), at(xw, i));
                    if bias.is_null() {
                        v
                    } else {
                        _mm512_add_ps(v, _mm512_maskz_loadu_ps(mk, bias.add(i)))
                    }
                };
                let i = sigmoid16(sum(0));
                let f = sigmoid16(sum(1));
                let g = tanh16(sum(2));
                o[b] = sigmoid16(sum(3));
                c_new[b] =
                    _mm512_fmadd_ps(f, _mm512_maskz_loadu_ps(mk, c.add(jb)), _mm512_mul_ps(i, g));
            }
            for b in 0..4 {
                let jb = j + 16 * b;
                let mk = lanes(units, jb);
                _mm512_mask_storeu_ps(c.add(jb), mk, c_new[b]);
                _mm512_mask_storeu_ps(h.add(jb), mk, _mm512_mul_ps(o[b], tanh16(c_new[b])));
            }
            j += 64;
        }
    }
}

/// The lanes of the vector of 16 values from `j` that are below `units` (none past the end).
#[inline(always)]
fn lanes(units: usize, j: usize) -> __mmask16 {
    ((1u32 << units.saturating_sub(j).min(16)) - 1) as __mmask16
}

/// The rest of a GRU step (`reset_after`) with sigmoid gates and a tanh candidate, in one pass:
/// `xw` holds the input projections `[xz, xr, xh]`, to which `bias_in` is added unless it is
/// null, `rec` the recurrent products `[rz, rr, rh]`, to which `bias_rec` is added unless it is
/// null; `h` is updated.
///
/// # Safety
/// The CPU supports AVX-512F; `xw`, `rec` (and the biases unless null) hold `3·units` values,
/// `h` `units`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn gru_gates(
    units: usize,
    xw: *const f32,
    bias_in: *const f32,
    rec: *const f32,
    bias_rec: *const f32,
    h: *mut f32,
) {
    // Blocks of 4 vectors, each phase over the whole block, as in `lstm_gates`.
    let mut j = 0;
    // SAFETY: every access is inside the lanes of its mask, within `units` (a vector past the end
    // has an empty mask).
    unsafe {
        let at = |p: *const f32, i: usize| if p.is_null() { p } else { p.add(i) };
        while j < units {
            let mut z = [_mm512_setzero_ps(); 4];
            let mut pre = [_mm512_setzero_ps(); 4];
            for b in 0..4 {
                let jb = j + 16 * b;
                let mk = lanes(units, jb);
                let (iz, ir, ih) = (jb, units + jb, 2 * units + jb);
                let rz = load_sum(mk, rec.add(iz), at(bias_rec, iz));
                let rr = load_sum(mk, rec.add(ir), at(bias_rec, ir));
                let rh = load_sum(mk, rec.add(ih), at(bias_rec, ih));
                let xz = load_sum(mk, xw.add(iz), at(bias_in, iz));
                let xr = load_sum(mk, xw.add(ir), at(bias_in, ir));
                let xh = load_sum(mk, xw.add(ih), at(bias_in, ih));
                z[b] = sigmoid16(_mm512_add_ps(xz, rz));
                let r = sigmoid16(_mm512_add_ps(xr, rr));
                pre[b] = _mm512_fmadd_ps(r, rh, xh);
            }
            for b in 0..4 {
                let jb = j + 16 * b;
                let mk = lanes(units, jb);
                let candidate = tanh16(pre[b]);
                // z·h + (1 − z)·h̃ = h̃ + z·(h − h̃)
                let h_old = _mm512_maskz_loadu_ps(mk, h.add(jb));
                let h_new = _mm512_fmadd_ps(z[b], _mm512_sub_ps(h_old, candidate), candidate);
                _mm512_mask_storeu_ps(h.add(jb), mk, h_new);
            }
            j += 64;
        }
    }
}

/// The 16-lane sigmoid (`tanh` with `tanh`) of every value, for the tests.
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(test)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn map16(values: &mut [f32], tanh: bool) {
    for chunk in values.chunks_mut(16) {
        let mk = ((1u32 << chunk.len()) - 1) as __mmask16;
        // SAFETY: the mask covers the chunk's values.
        unsafe {
            let v = _mm512_maskz_loadu_ps(mk, chunk.as_ptr());
            let v = if tanh { tanh16(v) } else { sigmoid16(v) };
            _mm512_mask_storeu_ps(chunk.as_mut_ptr(), mk, v);
        }
    }
}
