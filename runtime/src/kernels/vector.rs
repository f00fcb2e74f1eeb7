//! What every SIMD micro-kernel is written against: a [`Vector`] of f32 lanes whose instructions
//! can only run once the CPU was found to have them, and a [`Kernel`], the body written once and
//! compiled per instruction set by the dispatch ([`super::run_simd`]).
//!
//! The soundness argument lives in the types. A [`Vector::Token`] is a zero-sized proof that the
//! CPU has the instruction set: its only constructor runs the CPU's feature detection. A vector
//! value can only be made from a token (its field is private to the module of its instruction
//! set), so an operation on vector values (`fmadd`, `add`, …) is safe: the value's existence
//! proves the instruction exists. What stays `unsafe` are the memory accesses through raw
//! pointers (loads, stores, broadcasts), whose bounds each caller proves, and the one call of a
//! `#[target_feature]` entry per instruction set, whose proof is the token it receives.
//!
//! Adding an instruction set (as NEON was, `kernels/neon.rs`) is one `unsafe impl Vector` for
//! its register type, one token with its detection, one `#[target_feature]` entry calling
//! [`Kernel::run`], one variant of [`super::Isa`] and one arm of the dispatch.

/// A SIMD register of `LANES` f32 values and the operations the kernels need. Every method is
/// `#[inline(always)]` without target features of its own: it is inlined into a [`Kernel::run`]
/// compiled, by its instruction set's entry, with them.
///
/// # Safety
/// An implementor guarantees that a `Token` value exists only on a CPU with the instructions its
/// methods execute, and that a `Self` value can only be created from a `Token` (through these
/// methods: the register field is private), so that each method is sound to call whenever its
/// arguments exist and, for the `unsafe` ones, their pointers are valid as documented.
pub(crate) unsafe trait Vector: Copy {
    /// The proof that the CPU has the instruction set.
    type Token: Copy;
    /// Which lanes a masked load or store touches.
    type Mask: Copy;
    /// Lanes per register.
    const LANES: usize;
    /// Vector registers of the instruction set (16 or 32): how many sums a tile can keep.
    const REGISTERS: usize;
    /// Columns of `C` per register tile of the matrix product (with two vectors of rows): as
    /// many as the register file holds beside the operands.
    const NR: usize;

    /// Every lane zero.
    fn zero(t: Self::Token) -> Self;
    /// Every lane `x`.
    fn splat(t: Self::Token, x: f32) -> Self;
    /// Lanes `0..rows` (`rows ≤ LANES`; none when `rows` is 0).
    fn mask(t: Self::Token, rows: usize) -> Self::Mask;
    /// `LANES` values from `p`.
    ///
    /// # Safety
    /// `p` is valid for reads of `LANES` values.
    unsafe fn load(t: Self::Token, p: *const f32) -> Self;
    /// The mask's lanes from `p` (the others zero).
    ///
    /// # Safety
    /// `p` is valid for reads of the mask's lanes (no others are accessed).
    unsafe fn load_masked(t: Self::Token, p: *const f32, m: Self::Mask) -> Self;
    /// Every lane `*p`.
    ///
    /// # Safety
    /// `p` is valid for a read of one value.
    unsafe fn broadcast(t: Self::Token, p: *const f32) -> Self;
    /// Writes the `LANES` values to `p`.
    ///
    /// # Safety
    /// `p` is valid for writes of `LANES` values.
    unsafe fn store(p: *mut f32, v: Self);
    /// Writes the mask's lanes to `p`.
    ///
    /// # Safety
    /// `p` is valid for writes of the mask's lanes (no others are accessed).
    unsafe fn store_masked(p: *mut f32, m: Self::Mask, v: Self);

    /// `a·b + c`, rounded once.
    fn fmadd(a: Self, b: Self, c: Self) -> Self;
    /// `c − a·b`, rounded once.
    fn fnmadd(a: Self, b: Self, c: Self) -> Self;
    /// `a + b`.
    fn add(a: Self, b: Self) -> Self;
    /// `a − b`.
    fn sub(a: Self, b: Self) -> Self;
    /// `a · b`.
    fn mul(a: Self, b: Self) -> Self;
    /// `a > b ? a : b` per lane (so `b` where either is NaN), as `maxps` (NEON's `fmax` returns
    /// the NaN instead: its implementation compares and selects).
    fn max(a: Self, b: Self) -> Self;
    /// `a < b ? a : b` per lane (so `b` where either is NaN), as `minps`.
    fn min(a: Self, b: Self) -> Self;
    /// `|a|`.
    fn abs(a: Self) -> Self;
    /// `a` rounded to the nearest integer, ties to even.
    fn round(a: Self) -> Self;
    /// `p · 2^n` for integral `n` in `[-127, 127]`: exact where the result is normal (the
    /// instruction sets differ below: AVX2 and NEON scale by a biased exponent, flushing
    /// `n = −127` to zero, AVX-512's `vscalefps` keeps the subnormal).
    fn scale(p: Self, n: Self) -> Self;
    /// `1 / d` for `d ≥ 1`: correctly rounded with AVX2 and NEON (a division), within about 1
    /// ulp with AVX-512 (the 14-bit estimate and one Newton step).
    fn recip(d: Self) -> Self;
    /// `m` (not negative) with the sign of `s`.
    fn with_sign_of(m: Self, s: Self) -> Self;
    /// Per lane, `x` where `a < b` (ordered: not where either is NaN), `y` elsewhere.
    fn select_lt(a: Self, b: Self, x: Self, y: Self) -> Self;

    /// Whether [`Vector::fmadd_lane`] is one instruction (NEON's by-element `fmla`), so that a
    /// matrix product does better loading `B` a vector of consecutive values at a time than
    /// broadcasting each value from memory.
    const LANE_FMADD: bool = false;
    /// Whether the matrix product packs blocks of `B` into a contiguous panel (the product's
    /// module says where). With NEON's by-element multiply-adds it saves the column addresses:
    /// M1 at batch 64 ran 9.8% fewer instructions. With AVX-512's broadcasts from memory it
    /// measured 5% slower on the same product (the packed and read panel did not stay in L1
    /// beside the weights), so x86 reads `B` in place.
    const PACK_B: bool = false;
    /// `a·b[I] + c`, rounded once: lane `I` (`0 ≤ I < LANES`) of `b` times every lane of `a`.
    /// By default through memory (a store and a broadcast): correct everywhere, fast only where
    /// an instruction set overrides it ([`Vector::LANE_FMADD`]).
    #[inline(always)]
    fn fmadd_lane<const I: i32>(t: Self::Token, a: Self, b: Self, c: Self) -> Self {
        assert!(I >= 0 && (I as usize) < Self::LANES && Self::LANES <= 16);
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 ≥ `LANES` values to write, and lane `I < LANES` to read.
        let x = unsafe {
            Self::store(lanes.as_mut_ptr(), b);
            Self::broadcast(t, lanes.as_ptr().add(I as usize))
        };
        Self::fmadd(a, x, c)
    }
}

/// A SIMD kernel written once over [`Vector`]: its arguments are the value, [`Kernel::run`] its
/// body, compiled once per instruction set by that instruction set's `#[target_feature]` entry.
pub(crate) trait Kernel {
    /// What the kernel returns.
    type Output;
    /// The body, for the vectors `V` (`#[inline(always)]` in every implementation, so that it is
    /// compiled with the entry's target features).
    fn run<V: Vector>(self, t: V::Token) -> Self::Output;
}
