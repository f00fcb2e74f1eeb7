//! `exp`, the logistic sigmoid, `tanh` and softmax's exponentials on vectors, written once over
//! [`Vector`]. Their specification is the portable scalar code (`libm::expf`,
//! [`crate::activation::sigmoid`], `libm::tanhf`), which they match within 2.5e-7 relative
//! (tested at the edges below).
//!
//! NaN propagates: every clamp puts the constant first, so `minps`/`maxps` return the NaN.

use super::vector::{Kernel, Vector};

/// `e^x`: Cody–Waite reduction `x = n·ln 2 + r`, |r| ≤ ln 2 / 2, and Cephes's degree-6
/// polynomial for `e^r` (about 1 ulp); inputs are clamped to ±88 (no overflow to infinity).
#[inline(always)]
pub(crate) fn exp<V: Vector>(t: V::Token, x: V) -> V {
    let x = V::min(V::splat(t, 88.0), V::max(V::splat(t, -88.0), x));
    let n = V::round(V::mul(x, V::splat(t, core::f32::consts::LOG2_E)));
    let r = V::fnmadd(n, V::splat(t, 0.693_359_4), x);
    let r = V::fnmadd(n, V::splat(t, -2.121_944_4e-4), r);
    let mut p = V::splat(t, 1.987_569_2e-4);
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = V::fmadd(p, r, V::splat(t, c));
    }
    let p = V::add(V::fmadd(p, V::mul(r, r), r), V::splat(t, 1.0));
    V::scale(p, n)
}

/// `1 / (1 + e^−x)`, as JAX's `lax.logistic`.
#[inline(always)]
pub(crate) fn sigmoid<V: Vector>(t: V::Token, x: V) -> V {
    let e = exp(t, V::sub(V::zero(t), x));
    V::recip(V::add(V::splat(t, 1.0), e))
}

/// `tanh`: Cephes's odd polynomial below |x| = 0.625, `1 − 2 / (e^{2|x|} + 1)` with the sign of
/// `x` above (|x| clamped to 9, where tanh is 1 in f32).
#[inline(always)]
pub(crate) fn tanh<V: Vector>(t: V::Token, x: V) -> V {
    let a = V::abs(x);
    let z = V::mul(x, x);
    let mut p = V::splat(t, -5.704_988_7e-3);
    for c in [2.063_909e-2, -5.373_971_6e-2, 0.133_314_42, -0.333_332_8] {
        p = V::fmadd(p, z, V::splat(t, c));
    }
    // `x + x·(p·z)` has the sign of `x` (|p·z| < 1) except at −0, where it is +0: the sign is
    // put back (libm's tanh(−0) is −0).
    let small = V::with_sign_of(V::abs(V::fmadd(V::mul(p, z), x, x)), x);
    let one = V::splat(t, 1.0);
    let a9 = V::min(V::splat(t, 9.0), a);
    let e = exp(t, V::add(a9, a9));
    let large = V::fnmadd(V::splat(t, 2.0), V::recip(V::add(e, one)), one);
    let large = V::with_sign_of(large, x);
    V::select_lt(a, V::splat(t, 0.625), small, large)
}

/// The logistic sigmoid (`tanh` when `tanh`) of every value, a vector at a time, the last few
/// through masked loads and stores.
pub(crate) struct Map<'a> {
    pub values: &'a mut [f32],
    pub tanh: bool,
}

impl Kernel for Map<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let f = |v| if self.tanh { tanh(t, v) } else { sigmoid(t, v) };
        let mut chunks = self.values.chunks_exact_mut(V::LANES);
        for c in &mut chunks {
            // SAFETY: `c` holds `LANES` values.
            unsafe { V::store(c.as_mut_ptr(), f(V::load(t, c.as_ptr()))) };
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let m = V::mask(t, rest.len());
            // SAFETY: `rest` holds the mask's `rest.len()` lanes, the only ones touched.
            unsafe {
                V::store_masked(rest.as_mut_ptr(), m, f(V::load_masked(t, rest.as_ptr(), m)))
            };
        }
    }
}

/// Softmax over consecutive rows of `axis` values: per row the maximum `m` and then, a vector at
/// a time, `e^(x − m)` (the subtraction rounds as the portable softmax's does; only `exp`
/// differs, by about an ulp), then the portable softmax's in-order sum and division
/// ([`crate::activation::divide_by_sum`]). On the benchmark MLP's batch of 64, `libm::expf` for
/// the 640 values took 8% of the call. Its vector loop is [`Map`]'s, written out again: one
/// helper taking the function as a closure made M1 at batch 64 9% slower (the closure does not
/// get the kernel's instruction set, so its `exp` was not inlined).
pub(crate) struct Softmax<'a> {
    pub values: &'a mut [f32],
    pub axis: usize,
}

impl Kernel for Softmax<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        for row in self.values.chunks_exact_mut(self.axis) {
            let m = V::splat(t, crate::activation::max_of(row));
            let f = |v| exp(t, V::sub(v, m));
            let mut chunks = row.chunks_exact_mut(V::LANES);
            for c in &mut chunks {
                // SAFETY: `c` holds `LANES` values.
                unsafe { V::store(c.as_mut_ptr(), f(V::load(t, c.as_ptr()))) };
            }
            let rest = chunks.into_remainder();
            if !rest.is_empty() {
                let mk = V::mask(t, rest.len());
                // SAFETY: `rest` holds the mask's `rest.len()` lanes, the only ones touched.
                unsafe {
                    V::store_masked(
                        rest.as_mut_ptr(),
                        mk,
                        f(V::load_masked(t, rest.as_ptr(), mk)),
                    )
                };
            }
            crate::activation::divide_by_sum(row);
        }
    }
}
