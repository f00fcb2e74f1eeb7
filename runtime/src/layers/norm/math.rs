//! Square roots usable in `const` context, and the sums the normalization statistics share.
//!
//! `f32::sqrt` is not `const` and `libm` is not either, but the per-channel factors of a
//! BatchNormalization built by `from_le_bytes_const` must be computed by the compiler. These
//! functions use only `f64` arithmetic, which is `const`, and every caller (const or not) goes
//! through them, so a model built at compile time and one loaded at run time hold the same bits
//! on every target.

/// `1/√x` for an f64 `x > 0`, by Newton's method from the classic bit-level first guess
/// (about 3.4% off); six steps reach the f64 rounding error.
const fn rsqrt_f64(x: f64) -> f64 {
    let mut y = f64::from_bits(0x5FE6_EB50_C7B5_37A9 - (x.to_bits() >> 1));
    let half = 0.5 * x;
    let mut i = 0;
    while i < 6 {
        y *= 1.5 - half * y * y;
        i += 1;
    }
    y
}

/// `1/√x` rounded once to f32 (Keras's `rsqrt`): computed in f64 to about 1e-16 and then
/// rounded, so it is the correctly rounded value except, at worst, within 1e-16 of a rounding
/// boundary. (XLA's CPU `rsqrt` is a refined hardware estimate: it matches this value in about
/// 86% of cases and is otherwise one ulp away.)
pub const fn rsqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        // ±0 → ±∞, as 1/√±0.
        return 1.0 / x;
    }
    if x == f32::INFINITY {
        return 0.0;
    }
    rsqrt_f64(x as f64) as f32
}

/// `√x`, correctly rounded to f32 (what `sqrtf` and the hardware square root give).
pub const fn sqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x == f32::INFINITY {
        return x;
    }
    let d = x as f64;
    let mut s = (d * rsqrt_f64(d)) as f32;
    // Exact fix-up: a midpoint between two f32 neighbours has at most 26 significant bits, so
    // its square is exact in f64 and compares exactly with `d`. (√x is never exactly on a
    // midpoint.) `s` is positive and finite, so its neighbours are one bit pattern away.
    let up = f32::from_bits(s.to_bits() + 1);
    let mid = (s as f64 + up as f64) * 0.5;
    if mid * mid < d {
        s = up;
    } else {
        let down = f32::from_bits(s.to_bits() - 1);
        let mid = (s as f64 + down as f64) * 0.5;
        if mid * mid > d {
            s = down;
        }
    }
    s
}

/// `round(m·a + c)` with one rounding (a fused multiply-add, as XLA contracts Keras's
/// `-mean * inv + beta`): the product of two f32 is exact in f64, so only the sum rounds
/// twice, which changes the result only in rare near-tie cases. For factors computed once per
/// channel, where the cost does not matter.
pub const fn fma(m: f32, a: f32, c: f32) -> f32 {
    (m as f64 * a as f64 + c as f64) as f32
}

/// The sum of `values`, in eight interleaved partial sums (what the compiler vectorises, and
/// more accurate than one running sum on long rows).
#[inline]
pub fn sum(values: &[f32]) -> f32 {
    let (chunks, rest) = values.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    let mut total =
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &v in rest {
        total += v;
    }
    total
}

/// `Σ (v − mean)²` over `values`, as [`sum`] adds.
#[inline]
pub fn sum_sq_dev(values: &[f32], mean: f32) -> f32 {
    let (chunks, rest) = values.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            let d = v - mean;
            *a += d * d;
        }
    }
    let mut total =
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for &v in rest {
        let d = v - mean;
        total += d * d;
    }
    total
}

/// Per-channel sums of `f(c, i)` over the indices `i` of a sample of `len` values seen as
/// `(outer, C, INNER)` (`c` the channel of `i`): the outer positions are summed in blocks of 64
/// before being added up, which keeps long sums accurate. For the training statistics.
#[inline(always)]
pub fn channel_sums<const C: usize, const INNER: usize>(
    len: usize,
    f: impl Fn(usize, usize) -> f32,
) -> [f32; C] {
    let mut total = [0.0f32; C];
    let outer = len / (C * INNER);
    for block in (0..outer).step_by(64) {
        let mut acc = [0.0f32; C];
        for o in block..(block + 64).min(outer) {
            for (c, acc) in acc.iter_mut().enumerate() {
                let start = (o * C + c) * INNER;
                for i in start..start + INNER {
                    *acc += f(c, i);
                }
            }
        }
        total.iter_mut().zip(acc).for_each(|(t, a)| *t += a);
    }
    total
}

/// `y = x·a[c] + b[c]` for the channel `c` of every value, the tensor seen as `(outer, C, INNER)`
/// (`INNER = 1` when the channel axis is the last one).
#[inline(always)]
pub fn affine<const C: usize, const INNER: usize>(
    x: &[f32],
    y: &mut [f32],
    a: &[f32; C],
    b: &[f32; C],
) {
    if INNER == 1 {
        let (xs, _) = x.as_chunks::<C>();
        let (ys, _) = y.as_chunks_mut::<C>();
        for (xs, ys) in xs.iter().zip(ys) {
            for c in 0..C {
                ys[c] = xs[c] * a[c] + b[c];
            }
        }
    } else {
        for (xs, ys) in x.chunks_exact(C * INNER).zip(y.chunks_exact_mut(C * INNER)) {
            for c in 0..C {
                let (a, b) = (a[c], b[c]);
                let range = c * INNER..(c + 1) * INNER;
                for (y, &x) in ys[range.clone()].iter_mut().zip(&xs[range]) {
                    *y = x * a + b;
                }
            }
        }
    }
}

/// [`affine`] with the widest vectors the CPU has (AVX-512, AVX2 or NEON where the SIMD kernels
/// run): the same operations per value, so the same bits.
pub fn affine_dispatch<const C: usize, const INNER: usize>(
    x: &[f32],
    y: &mut [f32],
    a: &[f32; C],
    b: &[f32; C],
) {
    #[cfg(simd_kernels)]
    {
        let call = Affine::<C, INNER> {
            x: Some(x),
            y: &mut *y,
            a,
            b,
        };
        if crate::kernels::run_simd(call).is_some() {
            return;
        }
    }
    affine::<C, INNER>(x, y, a, b)
}

/// [`affine`] over the values themselves: `v = v·a[c] + b[c]`, the same operations per value.
#[inline(always)]
pub fn affine_in_place<const C: usize, const INNER: usize>(
    values: &mut [f32],
    a: &[f32; C],
    b: &[f32; C],
) {
    if INNER == 1 {
        let (vs, _) = values.as_chunks_mut::<C>();
        for vs in vs {
            for c in 0..C {
                vs[c] = vs[c] * a[c] + b[c];
            }
        }
    } else {
        for vs in values.chunks_exact_mut(C * INNER) {
            for c in 0..C {
                let (a, b) = (a[c], b[c]);
                for v in &mut vs[c * INNER..(c + 1) * INNER] {
                    *v = *v * a + b;
                }
            }
        }
    }
}

/// [`affine_in_place`] with the widest vectors the CPU has, as [`affine_dispatch`].
pub fn affine_in_place_dispatch<const C: usize, const INNER: usize>(
    values: &mut [f32],
    a: &[f32; C],
    b: &[f32; C],
) {
    #[cfg(simd_kernels)]
    {
        let call = Affine::<C, INNER> {
            x: None,
            y: &mut *values,
            a,
            b,
        };
        if crate::kernels::run_simd(call).is_some() {
            return;
        }
    }
    affine_in_place::<C, INNER>(values, a, b)
}

/// [`affine`] (from `x`) or [`affine_in_place`] (without), run as a SIMD kernel: the portable
/// code compiled with the instruction set's target features.
#[cfg(simd_kernels)]
struct Affine<'a, const C: usize, const INNER: usize> {
    x: Option<&'a [f32]>,
    y: &'a mut [f32],
    a: &'a [f32; C],
    b: &'a [f32; C],
}

#[cfg(simd_kernels)]
impl<const C: usize, const INNER: usize> crate::kernels::vector::Kernel for Affine<'_, C, INNER> {
    type Output = ();

    #[inline(always)]
    fn run<V: crate::kernels::vector::Vector>(self, _: V::Token) {
        match self.x {
            Some(x) => affine::<C, INNER>(x, self.y, self.a, self.b),
            None => affine_in_place::<C, INNER>(self.y, self.a, self.b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic spread of f32 values over many binades (xorshift bits).
    fn samples(n: usize) -> impl Iterator<Item = f32> {
        let mut s = 0x9E37_79B9u32;
        (0..n).map(move |_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            // Positive, exponent from 2^-126 up to 2^127.
            f32::from_bits(s & 0x7F7F_FFFF)
        })
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        for x in samples(2_000_000).chain([1.0, 2.0, 4.0, 1e-3, 0.5, f32::MAX, f32::MIN_POSITIVE]) {
            assert_eq!(sqrt(x).to_bits(), libm::sqrtf(x).to_bits(), "sqrt({x:e})");
        }
        // Subnormals too.
        for bits in [1u32, 2, 3, 0x7F_FFFF, 0x40_0000] {
            let x = f32::from_bits(bits);
            assert_eq!(sqrt(x).to_bits(), libm::sqrtf(x).to_bits(), "sqrt({x:e})");
        }
        assert_eq!(sqrt(0.0), 0.0);
        assert_eq!(sqrt(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(sqrt(f32::INFINITY), f32::INFINITY);
    }

    #[test]
    fn rsqrt_is_the_f64_value_rounded() {
        for x in samples(2_000_000) {
            let exact = (1.0 / libm::sqrt(x as f64)) as f32;
            assert_eq!(rsqrt(x).to_bits(), exact.to_bits(), "rsqrt({x:e})");
        }
        assert_eq!(rsqrt(4.0), 0.5);
        assert_eq!(rsqrt(0.0), f32::INFINITY);
        assert_eq!(rsqrt(f32::INFINITY), 0.0);
        assert!(rsqrt(-1.0).is_nan());
        // Usable by the compiler.
        const R: f32 = rsqrt(0.25);
        assert_eq!(R, 2.0);
    }

    /// The SIMD builds of the affine maps (each instruction set this CPU has) compute the
    /// portable bits, from a buffer and in place, per channel and per inner run.
    #[cfg(simd_kernels)]
    #[test]
    fn the_simd_affine_maps_compute_the_portable_bits() {
        use std::{vec, vec::Vec};
        fn check<const C: usize, const INNER: usize>() {
            let value = |i: usize| ((i * 7919) % 1000) as f32 / 333.0 - 1.5;
            let x: Vec<f32> = (0..3 * C * INNER).map(value).collect();
            let a: [f32; C] = core::array::from_fn(|i| value(i + 3));
            let b: [f32; C] = core::array::from_fn(|i| value(i + 11));
            let mut want = vec![0.0; x.len()];
            affine::<C, INNER>(&x, &mut want, &a, &b);
            let mut in_place = x.clone();
            affine_in_place::<C, INNER>(&mut in_place, &a, &b);
            assert_eq!(in_place, want);
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for isa in crate::kernels::isas() {
                let mut got = vec![7.0; x.len()];
                let call = Affine::<C, INNER> {
                    x: Some(&x[..]),
                    y: &mut got,
                    a: &a,
                    b: &b,
                };
                crate::kernels::run(isa, call).expect("the CPU has it");
                assert_eq!(bits(&got), bits(&want), "{isa:?} {C}x{INNER}");
                let mut got = x.clone();
                let call = Affine::<C, INNER> {
                    x: None,
                    y: &mut got,
                    a: &a,
                    b: &b,
                };
                crate::kernels::run(isa, call).expect("the CPU has it");
                assert_eq!(bits(&got), bits(&want), "{isa:?} {C}x{INNER} in place");
            }
        }
        check::<19, 1>();
        check::<5, 13>();
        check::<32, 1>();
    }

    #[test]
    fn sums() {
        let v: [f32; 11] = core::array::from_fn(|i| i as f32);
        assert_eq!(sum(&v), 55.0);
        assert_eq!(sum_sq_dev(&v, 5.0), 110.0);
        assert_eq!(fma(2.0, 3.0, -1.0), 5.0);
    }
}
