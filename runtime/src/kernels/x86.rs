//! The x86_64 instruction sets of the SIMD kernels: AVX-512 where the CPU has it, AVX2 + FMA
//! otherwise. Each is a [`Vector`] (16 lanes in a `__m512`, 8 in a `__m256`) with a token that
//! only its feature detection makes, and a `#[target_feature]` entry that compiles a [`Kernel`]
//! for it ([`run`]). The fused LSTM and GRU gates are AVX-512 only.

use core::arch::x86_64::*;

use super::simd::{Kernel, Vector};

/// Which instruction set the SIMD kernels use on this CPU.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    Avx2,
    Avx512,
}

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
    const NR: usize = 6;

    #[inline(always)]
    fn zero(_: Avx2Token) -> Self {
        // SAFETY: the token proves AVX.
        Self(unsafe { _mm256_setzero_ps() })
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
}

// SAFETY: `Avx512Token` is made only by `detect`, after the CPU was found to have AVX-512F; an
// `Avx512` is made only by the methods below, each taking a token or an `Avx512`. Every
// instruction below is AVX-512F.
unsafe impl Vector for Avx512 {
    type Token = Avx512Token;
    type Mask = __mmask16;
    const LANES: usize = 16;
    const NR: usize = 12;

    #[inline(always)]
    fn zero(_: Avx512Token) -> Self {
        // SAFETY: the token proves AVX-512F.
        Self(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    fn mask(_: Avx512Token, rows: usize) -> __mmask16 {
        lanes(rows, 0)
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
}

/// The lanes of the vector of 16 values from `j` that are below `units` (none past the end).
#[inline(always)]
fn lanes(units: usize, j: usize) -> __mmask16 {
    ((1u32 << units.saturating_sub(j).min(16)) - 1) as __mmask16
}

/// Lanes `0..rows` set (`rows ≤ 8`), for the activations' tails.
#[inline(always)]
fn mask(t: Avx2Token, rows: usize) -> __m256i {
    Avx2::mask(t, rows)
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

/// The logistic sigmoid (`tanh` with `tanh`) of every value, 8 at a time, the last few through
/// masked loads and stores.
#[target_feature(enable = "avx2,fma")]
pub(super) fn map8(t: Avx2Token, values: &mut [f32], tanh: bool) {
    let f = |v| if tanh { tanh8(v) } else { sigmoid8(v) };
    let mut chunks = values.chunks_exact_mut(8);
    for c in &mut chunks {
        // SAFETY: `c` holds 8 values.
        unsafe { _mm256_storeu_ps(c.as_mut_ptr(), f(_mm256_loadu_ps(c.as_ptr()))) };
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let m = mask(t, rest.len());
        // SAFETY: `rest` holds the mask's `rest.len()` lanes, the only ones touched.
        unsafe {
            let v = f(_mm256_maskload_ps(rest.as_ptr(), m));
            _mm256_maskstore_ps(rest.as_mut_ptr(), m, v);
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

/// The 16 values of `v` from `at`, of which the lanes of `mk` are read (the others zero):
/// `mk` must be [`lanes`]`(units, j)` for `at = g·units + j` with `v` holding a multiple of
/// `units` values, so that the lanes read are inside `v`. The pointer is formed at
/// `min(at, len)`: a vector wholly past the end has an empty mask and reads nothing.
#[target_feature(enable = "avx512f")]
#[inline]
fn load(v: &[f32], at: usize, mk: __mmask16) -> __m512 {
    debug_assert!(mk == 0 || at + (mk.count_ones() as usize) <= v.len());
    // SAFETY: the offset is at most `v.len()` (one past the end at most), and the lanes of `mk`
    // read from it are inside `v` (the caller's mask, checked in debug builds).
    unsafe { _mm512_maskz_loadu_ps(mk, v.as_ptr().add(at.min(v.len()))) }
}

/// [`load`] of `v` plus that of `w` when given.
#[target_feature(enable = "avx512f")]
#[inline]
fn load_sum(v: &[f32], w: Option<&[f32]>, at: usize, mk: __mmask16) -> __m512 {
    let s = load(v, at, mk);
    match w {
        Some(w) => _mm512_add_ps(s, load(w, at, mk)),
        None => s,
    }
}

/// Writes the lanes of `mk` to `v` from `at`, as [`load`] reads them.
#[target_feature(enable = "avx512f")]
#[inline]
fn store(v: &mut [f32], at: usize, mk: __mmask16, x: __m512) {
    debug_assert!(mk == 0 || at + (mk.count_ones() as usize) <= v.len());
    // SAFETY: as `load`: the offset is at most one past the end, the lanes written inside `v`.
    unsafe { _mm512_mask_storeu_ps(v.as_mut_ptr().add(at.min(v.len())), mk, x) }
}

/// The rest of an LSTM step with sigmoid gates and tanh activations, in one pass: the sums of
/// the gates i, f, c, o (`units` values each) are `z`, plus `xw` and `bias` when given; `c` and
/// `h` are updated.
#[target_feature(enable = "avx512f")]
pub(super) fn lstm_gates(
    _: Avx512Token,
    z: &[f32],
    xw: Option<&[f32]>,
    bias: Option<&[f32]>,
    c: &mut [f32],
    h: &mut [f32],
) {
    let units = c.len();
    // The lengths that make every masked access of `load` and `store` inside its slice.
    assert!(z.len() == 4 * units && h.len() == units);
    assert!(xw.is_none_or(|v| v.len() == 4 * units) && bias.is_none_or(|v| v.len() == 4 * units));
    // Blocks of 4 vectors, each phase over the whole block: 4 independent chains of
    // activations in flight rather than one (the gates' latency, not their count, bounds a step).
    let mut j = 0;
    while j < units {
        let mut o = [_mm512_setzero_ps(); 4];
        let mut c_new = [_mm512_setzero_ps(); 4];
        for b in 0..4 {
            let jb = j + 16 * b;
            let mk = lanes(units, jb);
            let sum = |g: usize| {
                let at = g * units + jb;
                let v = load_sum(z, xw, at, mk);
                match bias {
                    Some(bias) => _mm512_add_ps(v, load(bias, at, mk)),
                    None => v,
                }
            };
            let i = sigmoid16(sum(0));
            let f = sigmoid16(sum(1));
            let g = tanh16(sum(2));
            o[b] = sigmoid16(sum(3));
            c_new[b] = _mm512_fmadd_ps(f, load(c, jb, mk), _mm512_mul_ps(i, g));
        }
        for b in 0..4 {
            let jb = j + 16 * b;
            let mk = lanes(units, jb);
            store(c, jb, mk, c_new[b]);
            store(h, jb, mk, _mm512_mul_ps(o[b], tanh16(c_new[b])));
        }
        j += 64;
    }
}

/// The rest of a GRU step (`reset_after`) with sigmoid gates and a tanh candidate, in one pass:
/// `xw` holds the input projections `[xz, xr, xh]`, to which `bias_in` is added when given,
/// `rec` the recurrent products `[rz, rr, rh]`, to which `bias_rec` is added when given; `h` is
/// updated.
#[target_feature(enable = "avx512f")]
pub(super) fn gru_gates(
    _: Avx512Token,
    xw: &[f32],
    bias_in: Option<&[f32]>,
    rec: &[f32],
    bias_rec: Option<&[f32]>,
    h: &mut [f32],
) {
    let units = h.len();
    // The lengths that make every masked access of `load` and `store` inside its slice.
    assert!(xw.len() == 3 * units && rec.len() == 3 * units);
    assert!(bias_in.is_none_or(|v| v.len() == 3 * units));
    assert!(bias_rec.is_none_or(|v| v.len() == 3 * units));
    // Blocks of 4 vectors, each phase over the whole block, as in `lstm_gates`.
    let mut j = 0;
    while j < units {
        let mut z = [_mm512_setzero_ps(); 4];
        let mut pre = [_mm512_setzero_ps(); 4];
        for b in 0..4 {
            let jb = j + 16 * b;
            let mk = lanes(units, jb);
            let (iz, ir, ih) = (jb, units + jb, 2 * units + jb);
            let rz = load_sum(rec, bias_rec, iz, mk);
            let rr = load_sum(rec, bias_rec, ir, mk);
            let rh = load_sum(rec, bias_rec, ih, mk);
            let xz = load_sum(xw, bias_in, iz, mk);
            let xr = load_sum(xw, bias_in, ir, mk);
            let xh = load_sum(xw, bias_in, ih, mk);
            z[b] = sigmoid16(_mm512_add_ps(xz, rz));
            let r = sigmoid16(_mm512_add_ps(xr, rr));
            pre[b] = _mm512_fmadd_ps(r, rh, xh);
        }
        for b in 0..4 {
            let jb = j + 16 * b;
            let mk = lanes(units, jb);
            let candidate = tanh16(pre[b]);
            // z·h + (1 − z)·h̃ = h̃ + z·(h − h̃)
            let h_old = load(h, jb, mk);
            let h_new = _mm512_fmadd_ps(z[b], _mm512_sub_ps(h_old, candidate), candidate);
            store(h, jb, mk, h_new);
        }
        j += 64;
    }
}

/// The 16-lane sigmoid (`tanh` with `tanh`) of every value, for the tests.
#[cfg(test)]
#[target_feature(enable = "avx512f")]
pub(super) fn map16(_: Avx512Token, values: &mut [f32], tanh: bool) {
    for chunk in values.chunks_mut(16) {
        let mk = lanes(chunk.len(), 0);
        // SAFETY: the mask covers the chunk's values, the only ones touched.
        unsafe {
            let v = _mm512_maskz_loadu_ps(mk, chunk.as_ptr());
            let v = if tanh { tanh16(v) } else { sigmoid16(v) };
            _mm512_mask_storeu_ps(chunk.as_mut_ptr(), mk, v);
        }
    }
}
