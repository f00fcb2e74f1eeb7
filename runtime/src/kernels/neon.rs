//! The aarch64 instruction set of the SIMD kernels: Advanced SIMD (NEON), 4 lanes in a
//! `float32x4_t`, 32 registers. A [`Vector`] with a token that only the CPU's feature detection
//! makes, and a `#[target_feature]` entry that compiles a [`Kernel`] for it ([`run`]).
//!
//! Every aarch64 CPU has NEON and Rust's aarch64 targets enable it, but the intrinsics are
//! `#[target_feature(enable = "neon")]` functions, callable without `unsafe` only from functions
//! with that attribute: as on x86, the token (or a vector, made from one) is the proof each call
//! relies on.

use core::arch::aarch64::*;

use super::vector::{Kernel, Vector};
use super::Isa;

/// Runs `kernel` compiled for `isa` (NEON, the one aarch64 instruction set of the kernels);
/// `None` (nothing run) if the CPU does not have it.
#[inline]
pub(crate) fn run<K: Kernel>(isa: Isa, kernel: K) -> Option<K::Output> {
    let Isa::Neon = isa;
    let t = NeonToken::detect()?;
    // SAFETY: `t` exists, so the CPU has NEON, the feature `entry` enables.
    Some(unsafe { entry(t, kernel) })
}

/// The NEON entry: `kernel`'s body compiled with NEON.
#[target_feature(enable = "neon")]
fn entry<K: Kernel>(t: NeonToken, kernel: K) -> K::Output {
    kernel.run::<Neon>(t)
}

/// Proof that the CPU has NEON: only [`NeonToken::detect`] makes one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeonToken(());

impl NeonToken {
    /// The token, if the CPU has NEON.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        std::arch::is_aarch64_feature_detected!("neon").then_some(Self(()))
    }
}

/// NEON: 4 lanes. The field is private: a value exists only where a [`NeonToken`] did.
#[derive(Clone, Copy)]
pub(crate) struct Neon(float32x4_t);

// SAFETY: `NeonToken` is made only by `detect`, after the CPU was found to have NEON; a `Neon` is
// made only by the methods below, each taking a token or a `Neon`. Every instruction below is
// Advanced SIMD (ARMv8.0-A). The masked loads and stores access only the lanes `0..m` of their
// mask `m` (a lane count), lane by lane or as a 2-lane half.
unsafe impl Vector for Neon {
    type Token = NeonToken;
    /// The number of lanes accessed, `0..=4`.
    type Mask = usize;
    const LANES: usize = 4;
    const REGISTERS: usize = 32;
    /// Two vectors of rows × 8 columns: 16 sums, the 2 vectors of rows of `A` of 4 consecutive
    /// `k` and a vector of 4 values of `B` in 25 of the 32 registers (the product's tile takes
    /// `B` a vector at a time with by-element `fmla`s, [`Vector::LANE_FMADD`]).
    const NR: usize = 8;

    #[inline(always)]
    fn zero(_: NeonToken) -> Self {
        // SAFETY: the token proves NEON.
        unsafe { Self(vdupq_n_f32(0.0)) }
    }
    #[inline(always)]
    fn splat(_: NeonToken, x: f32) -> Self {
        // SAFETY: the token proves NEON.
        unsafe { Self(vdupq_n_f32(x)) }
    }
    #[inline(always)]
    fn mask(_: NeonToken, rows: usize) -> usize {
        rows.min(4)
    }
    #[inline(always)]
    unsafe fn load(_: NeonToken, p: *const f32) -> Self {
        // SAFETY: the token proves NEON; `p` holds 4 values (the caller's promise).
        Self(unsafe { vld1q_f32(p) })
    }
    #[inline(always)]
    unsafe fn load_masked(_: NeonToken, p: *const f32, m: usize) -> Self {
        // SAFETY: the token proves NEON.
        let zero = unsafe { vdupq_n_f32(0.0) };
        // SAFETY: the token proves NEON; each arm reads lanes `0..m` from `p` and no others,
        // which `p` holds (the caller's promise): one lane, a 2-lane half, a half and lane 2, or
        // all 4.
        Self(unsafe {
            match m {
                0 => zero,
                1 => vld1q_lane_f32::<0>(p, zero),
                2 => vcombine_f32(vld1_f32(p), vdup_n_f32(0.0)),
                3 => vld1q_lane_f32::<2>(p.add(2), vcombine_f32(vld1_f32(p), vdup_n_f32(0.0))),
                _ => vld1q_f32(p),
            }
        })
    }
    #[inline(always)]
    unsafe fn broadcast(_: NeonToken, p: *const f32) -> Self {
        // SAFETY: the token proves NEON; `p` holds one value (the caller's promise).
        Self(unsafe { vld1q_dup_f32(p) })
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self) {
        // SAFETY: `v` proves NEON; `p` holds 4 values (the caller's promise).
        unsafe { vst1q_f32(p, v.0) }
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: usize, v: Self) {
        // SAFETY: `v` proves NEON; each arm writes lanes `0..m` to `p` and no others, which `p`
        // holds (the caller's promise).
        unsafe {
            match m {
                0 => {}
                1 => vst1q_lane_f32::<0>(p, v.0),
                2 => vst1_f32(p, vget_low_f32(v.0)),
                3 => {
                    vst1_f32(p, vget_low_f32(v.0));
                    vst1q_lane_f32::<2>(p.add(2), v.0);
                }
                _ => vst1q_f32(p, v.0),
            }
        }
    }
    #[inline(always)]
    fn fmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vfmaq_f32(c.0, a.0, b.0)) }
    }
    const LANE_FMADD: bool = true;
    const PACK_B: bool = true;
    #[inline(always)]
    fn fmadd_lane<const I: i32>(_: NeonToken, a: Self, b: Self, c: Self) -> Self {
        // SAFETY: the token proves NEON; `vfmaq_laneq_f32` checks at compile time that lane `I`
        // is one of the 4.
        unsafe { Self(vfmaq_laneq_f32::<I>(c.0, a.0, b.0)) }
    }
    #[inline(always)]
    fn fnmadd(a: Self, b: Self, c: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vfmsq_f32(c.0, a.0, b.0)) }
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vaddq_f32(a.0, b.0)) }
    }
    #[inline(always)]
    fn sub(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vsubq_f32(a.0, b.0)) }
    }
    #[inline(always)]
    fn mul(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vmulq_f32(a.0, b.0)) }
    }
    #[inline(always)]
    fn max(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe {
            // `fmax` would return a NaN operand; the contract is `maxps`'s `a > b ? a : b`.
            Self(vbslq_f32(vcgtq_f32(a.0, b.0), a.0, b.0))
        }
    }
    #[inline(always)]
    fn min(a: Self, b: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe {
            // As `max`: `a < b ? a : b`.
            Self(vbslq_f32(vcltq_f32(a.0, b.0), a.0, b.0))
        }
    }
    #[inline(always)]
    fn abs(a: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vabsq_f32(a.0)) }
    }
    #[inline(always)]
    fn round(a: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe { Self(vrndnq_f32(a.0)) }
    }
    #[inline(always)]
    fn scale(p: Self, n: Self) -> Self {
        // SAFETY: `p` proves NEON.
        unsafe {
            // 2^n built as the float whose biased exponent is n + 127 (as AVX2's).
            let bits = vshlq_n_s32::<23>(vaddq_s32(vcvtnq_s32_f32(n.0), vdupq_n_s32(127)));
            Self(vmulq_f32(p.0, vreinterpretq_f32_s32(bits)))
        }
    }
    #[inline(always)]
    fn recip(d: Self) -> Self {
        // SAFETY: `d` proves NEON.
        unsafe { Self(vdivq_f32(vdupq_n_f32(1.0), d.0)) }
    }
    #[inline(always)]
    fn with_sign_of(m: Self, s: Self) -> Self {
        // SAFETY: `m` proves NEON.
        unsafe {
            // The sign bit from `s`, the rest from `m`.
            Self(vbslq_f32(vdupq_n_u32(0x8000_0000), s.0, m.0))
        }
    }
    #[inline(always)]
    fn select_lt(a: Self, b: Self, x: Self, y: Self) -> Self {
        // SAFETY: `a` proves NEON.
        unsafe {
            // `fcmgt` is ordered: false where either is NaN.
            Self(vbslq_f32(vcltq_f32(a.0, b.0), x.0, y.0))
        }
    }
}
