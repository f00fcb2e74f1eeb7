//! The x86_64 instruction sets of the SIMD kernels: AVX-512 where the CPU has it, AVX2 + FMA
//! otherwise. Each is a [`Vector`] (16 lanes in a `__m512`, 8 in a `__m256`) with a token that
//! only its feature detection makes, and a `#[target_feature]` entry that compiles a [`Kernel`]
//! for it ([`run`]).

use core::arch::x86_64::*;

use super::vector::{Kernel, Vector};
use super::Isa;

/// The best instruction set of this CPU for the kernels (checked once, then cached by std).
#[inline]
pub(crate) fn isa() -> Option<Isa> {
    if Avx512Token::detect().is_some() {
        Some(Isa::Avx512)
    } else if Avx2Token::detect().is_some() {
        Some(Isa::Avx2)
    } else {
        None
    }
}

/// Runs `kernel` compiled for `isa`; `None` (nothing run) if the CPU does not have it.
#[inline]
pub(crate) fn run<K: Kernel>(isa: Isa, kernel: K) -> Option<K::Output> {
    match isa {
        Isa::Avx512 => {
            let t = Avx512Token::detect()?;
            // SAFETY: `t` exists, so the CPU has AVX-512F, the feature `avx512` enables.
            Some(unsafe { avx512(t, kernel) })
        }
        Isa::Avx2 => {
            let t = Avx2Token::detect()?;
            // SAFETY: `t` exists, so the CPU has AVX2 and FMA, the features `avx2` enables.
            Some(unsafe { avx2(t, kernel) })
        }
    }
}

/// The AVX-512 entry: `kernel`'s body compiled with AVX-512F.
#[target_feature(enable = "avx512f")]
fn avx512<K: Kernel>(t: Avx512Token, kernel: K) -> K::Output {
    kernel.run::<Avx512>(t)
}

/// The AVX2 entry: `kernel`'s body compiled with AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
fn avx2<K: Kernel>(t: Avx2Token, kernel: K) -> K::Output {
    kernel.run::<Avx2>(t)
}

/// Proof that the CPU has AVX2 and FMA: only [`Avx2Token::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2Token(());

impl Avx2Token {
    /// The token, if the CPU has AVX2 and FMA.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        (std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"))
            .then_some(Self(()))
    }
}

/// Proof that the CPU has AVX-512F: only [`Avx512Token::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512Token(());

impl Avx512Token {
    /// The token, if the CPU has AVX-512F.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        std::is_x86_feature_detected!("avx512f").then_some(Self(()))
    }
}

/// AVX2 + FMA: 8 lanes. The field is private: a value exists only where an [`Avx2Token`] did.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256);

/// AVX-512: 16 lanes. The field is private: a value exists only where an [`Avx512Token`] did.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512);

// SAFETY: `Avx2Token` is made only by `detect`, after the CPU was found to have AVX2 and FMA;
// an `Avx2` is made only by the methods below, each taking a token or an `Avx2`. Every
// instruction below is AVX, AVX2 or FMA.
unsafe impl Vector for Avx2 {
    type Token = Avx2Token;
    type Mask = __m256i;
    const LANES: usize = 8;
    const REGISTERS: usize = 16;
    const NR: usize = 6;

    #[inline(always)]
    fn zero(_: Avx2Token) -> Self {
        // SAFETY: the token proves AVX.
        Self(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    fn splat(_: Avx2Token, x: f32) -> Self {
        // SAFETY: the token proves AVX.
        Self(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    fn mask(_: Avx2Token, rows: usize) -> __m256i {
        // Lane `i` is set (all ones) where `i < rows`; `rows ≤ 8` fits an i32.
        // SAFETY: the token proves AVX2.
        unsafe {
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(rows as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
    }
    #[inline(always)]
    unsafe fn load(_: Avx2Token, p: *const f32) -> Self {
        // SAFETY: the token proves AVX; `p` holds 8 values (the caller's promise).
        Self(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_masked(_: Avx2Token, p: *const f32, m: __m256i) -> Self {
        // SAFETY: the token proves AVX; `vmaskmovps` touches only the mask's lanes, which `p`
        // holds (the caller's promise).
        Self(unsafe { _mm256_maskload_ps(p, m) })
    }
    #[inline(always)]
    unsafe fn broadcast(_: Avx2Token, p: *const f32) -> Self {
        // SAFETY: the token proves AVX; `p` holds one value (the caller's promise).
        Self(unsafe { _mm256_broadcast_ss(&*p) })
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self) {
        // SAFETY: `v` proves AVX; `p` holds 8 values (the caller's promise).
        unsafe { _mm256_storeu_ps(p, v.0) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __m256i, v: Self) {
        // SAFETY: `v` proves AVX; only the mask's lanes are written, which `p` holds.
        unsafe { _mm256_maskstore_ps(p, m, v.0) }
    }
    #[inline(always)]
    fn fmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves FMA.
        Self(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn max(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_max_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn fnmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves FMA.
        Self(unsafe { _mm256_fnmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn sub(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_sub_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn mul(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_mul_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn min(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_min_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn abs(a: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), a.0) })
    }
    #[inline(always)]
    fn round(a: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a.0) })
    }
    #[inline(always)]
    fn scale(p: Self, n: Self) -> Self {
        // 2^n built as the float whose biased exponent is n + 127.
        // SAFETY: `p` proves AVX2.
        Self(unsafe {
            let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(
                _mm256_cvtps_epi32(n.0),
                _mm256_set1_epi32(127),
            ));
            _mm256_mul_ps(p.0, _mm256_castsi256_ps(bits))
        })
    }
    #[inline(always)]
    fn recip(d: Self) -> Self {
        // SAFETY: `d` proves AVX.
        Self(unsafe { _mm256_div_ps(_mm256_set1_ps(1.0), d.0) })
    }
    #[inline(always)]
    fn with_sign_of(m: Self, s: Self) -> Self {
        // SAFETY: `m` proves AVX.
        Self(unsafe { _mm256_or_ps(m.0, _mm256_and_ps(_mm256_set1_ps(-0.0), s.0)) })
    }
    #[inline(always)]
    fn select_lt(a: Self, b: Self, x: Self, y: Self) -> Self {
        // SAFETY: `a` proves AVX.
        Self(unsafe { _mm256_blendv_ps(y.0, x.0, _mm256_cmp_ps::<_CMP_LT_OQ>(a.0, b.0)) })
    }
}

// SAFETY: `Avx512Token` is made only by `detect`, after the CPU was found to have AVX-512F; an
// `Avx512` is made only by the methods below, each taking a token or an `Avx512`. Every
// instruction below is AVX-512F.
unsafe impl Vector for Avx512 {
    type Token = Avx512Token;
    type Mask = __mmask16;
    const LANES: usize = 16;
    const REGISTERS: usize = 32;
    const NR: usize = 12;

    #[inline(always)]
    fn zero(_: Avx512Token) -> Self {
        // SAFETY: the token proves AVX-512F.
        Self(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    fn splat(_: Avx512Token, x: f32) -> Self {
        // SAFETY: the token proves AVX-512F.
        Self(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    fn mask(_: Avx512Token, rows: usize) -> __mmask16 {
        ((1u32 << rows.min(16)) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn load(_: Avx512Token, p: *const f32) -> Self {
        // SAFETY: the token proves AVX-512F; `p` holds 16 values (the caller's promise).
        Self(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_masked(_: Avx512Token, p: *const f32, m: __mmask16) -> Self {
        // SAFETY: the token proves AVX-512F; a masked load touches only the mask's lanes, which
        // `p` holds (the caller's promise).
        Self(unsafe { _mm512_maskz_loadu_ps(m, p) })
    }
    #[inline(always)]
    unsafe fn broadcast(_: Avx512Token, p: *const f32) -> Self {
        // SAFETY: the token proves AVX-512F; `p` holds one value (the caller's promise).
        Self(unsafe { _mm512_set1_ps(*p) })
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self) {
        // SAFETY: `v` proves AVX-512F; `p` holds 16 values (the caller's promise).
        unsafe { _mm512_storeu_ps(p, v.0) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __mmask16, v: Self) {
        // SAFETY: `v` proves AVX-512F; only the mask's lanes are written, which `p` holds.
        unsafe { _mm512_mask_storeu_ps(p, m, v.0) }
    }
    #[inline(always)]
    fn fmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_add_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn max(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_max_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn fnmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_fnmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    fn sub(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_sub_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn mul(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_mul_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn min(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_min_ps(a.0, b.0) })
    }
    #[inline(always)]
    fn abs(a: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_abs_ps(a.0) })
    }
    #[inline(always)]
    fn round(a: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a.0)
        })
    }
    #[inline(always)]
    fn scale(p: Self, n: Self) -> Self {
        // SAFETY: `p` proves AVX-512F.
        Self(unsafe { _mm512_scalef_ps(p.0, n.0) })
    }
    #[inline(always)]
    fn recip(d: Self) -> Self {
        // The 14-bit estimate and one Newton step: r + r·(1 − d·r).
        // SAFETY: `d` proves AVX-512F.
        Self(unsafe {
            let r = _mm512_rcp14_ps(d.0);
            _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d.0, r, _mm512_set1_ps(1.0)), r)
        })
    }
    #[inline(always)]
    fn with_sign_of(m: Self, s: Self) -> Self {
        // SAFETY: `m` proves AVX-512F.
        Self(unsafe {
            let sign = _mm512_and_si512(_mm512_castps_si512(s.0), _mm512_set1_epi32(i32::MIN));
            _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(m.0), sign))
        })
    }
    #[inline(always)]
    fn select_lt(a: Self, b: Self, x: Self, y: Self) -> Self {
        // SAFETY: `a` proves AVX-512F.
        Self(unsafe { _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(a.0, b.0), y.0, x.0) })
    }
}
