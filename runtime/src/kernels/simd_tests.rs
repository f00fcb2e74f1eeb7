//! The SIMD kernels against the portable ones (their specification), on every tile shape and
//! at the edges: sizes that are not multiples of the lanes or tiles, empty and one-element
//! operands, strided and offset matrices that end exactly where their last column does (so an
//! access past the end of a slice would read or write out of bounds).

use super::gates::{GruGates, LstmGates};
use super::math;
use super::product::{Gemm, Packing, Sweep};
use super::vector::{Kernel, Vector};
use super::*;
use std::vec;
use std::vec::Vec;

/// Values in [−1, 1] from a xorshift of `seed` (shared with the other SIMD kernels' tests).
pub(crate) fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

/// The tolerance of a SIMD sum of `k` products of values in [-1, 1] against the portable one:
/// fused multiply-adds and a different order of partial sums round differently by a few ulps
/// of `k`.
fn close(got: &[f32], want: &[f32], k: usize) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 * k as f32 + 1e-6,
            "at {i}: {g} vs {w}"
        );
    }
}

/// `gemm` through the dispatch for `isa`, the operands given as slices that end where the
/// matrices do.
#[allow(clippy::too_many_arguments)]
fn simd_gemm(
    isa: Isa,
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    let g = Gemm {
        m,
        k,
        n,
        a,
        lda,
        b,
        ldb,
        c,
        ldc,
        accumulate,
    };
    run(isa, g).expect("the CPU has the instruction set");
}

/// `a·b[I] + c` for every lane `I < 4` of the first 4 values, against `fmadd` with a broadcast.
struct LaneFmadd<'a> {
    a: &'a [f32],
    b: &'a [f32],
    c: &'a [f32],
}

impl Kernel for LaneFmadd<'_> {
    type Output = Vec<[Vec<f32>; 2]>;

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) -> Self::Output {
        let l = V::LANES;
        assert!(self.a.len() == l && self.b.len() == l && self.c.len() == l);
        // SAFETY: each slice holds `LANES` values.
        let (a, b, c) = unsafe {
            (
                V::load(t, self.a.as_ptr()),
                V::load(t, self.b.as_ptr()),
                V::load(t, self.c.as_ptr()),
            )
        };
        let out = |v: V| {
            let mut o = vec![0.0; l];
            // SAFETY: `o` holds `LANES` values.
            unsafe { V::store(o.as_mut_ptr(), v) };
            o
        };
        let got = [
            V::fmadd_lane::<0>(t, a, b, c),
            V::fmadd_lane::<1>(t, a, b, c),
            V::fmadd_lane::<2>(t, a, b, c),
            V::fmadd_lane::<3>(t, a, b, c),
        ];
        got.iter()
            .enumerate()
            .map(|(i, &g)| {
                // SAFETY: lane `i < 4 ≤ LANES` of `b`.
                let x = unsafe { V::broadcast(t, self.b.as_ptr().add(i)) };
                [out(g), out(V::fmadd(a, x, c))]
            })
            .collect()
    }
}

#[test]
fn lane_multiply_adds_are_broadcast_ones() {
    for isa in isas() {
        let l = match isa {
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => 4,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => 8,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => 16,
        };
        let (a, b, c) = (values(l, 4), values(l, 5), values(l, 6));
        let lanes = LaneFmadd {
            a: &a,
            b: &b,
            c: &c,
        };
        for (i, [got, want]) in run(isa, lanes).expect("the CPU has it").iter().enumerate() {
            assert_eq!(got, want, "lane {i} on {isa:?}");
        }
    }
}

#[test]
fn gemm_matches_the_portable_kernel() {
    let sizes = [
        1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 63, 64, 65, 70, 128, 130,
    ];
    for &m in &sizes {
        for &n in &[1usize, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16] {
            // Long reductions too (the Dense layers of the benchmark models have 784, 1600).
            for &k in &[1usize, 2, 3, 9, 17, 64, 300, 600] {
                let (a, b) = (values(m * k, 1), values(k * n, 2));
                for accumulate in [false, true] {
                    let mut want = values(m * n, 3);
                    gemm_portable(m, k, n, &a, &b, &mut want, accumulate);
                    for isa in isas() {
                        let mut got = values(m * n, 3);
                        simd_gemm(isa, (m, k, n), &a, m, &b, k, &mut got, m, accumulate);
                        close(&got, &want, k);
                    }
                }
            }
        }
    }
}

/// `v` cut to end at the last row of its last column: a matrix of `cols` columns of `rows` values
/// at a leading dimension `ld`, with nothing after it.
fn cut(v: Vec<f32>, cols: usize, rows: usize, ld: usize) -> Vec<f32> {
    let len = if cols == 0 { 0 } else { (cols - 1) * ld + rows };
    v[..len].to_vec()
}

/// Strided operands cut to end at their last column's last row, sizes around every lane and
/// tile boundary, and the empty products.
#[test]
fn gemm_at_the_edges_of_strided_operands() {
    // Under Miri (which checks every pointer offset, and runs about a million times slower) the
    // sizes around the AVX2 tile's edges only: one or two register tiles, with and without a
    // masked tail.
    let (ms, ns, ks): (&[usize], &[usize], &[usize]) = if cfg!(miri) {
        (&[0, 1, 7, 8, 9, 17, 33], &[0, 1, 5, 6, 7, 13], &[0, 1, 2])
    } else {
        (
            &[0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 127, 128, 129],
            &[0, 1, 2, 5, 6, 7, 11, 12, 13, 25],
            &[0, 1, 2, 5],
        )
    };
    for &m in ms {
        for &n in ns {
            for &k in ks {
                let (lda, ldb, ldc) = (m + 3, k + 1, m + 2);
                let a = cut(values(k * lda + 1, 21), k, m, lda);
                let b = cut(values(n * ldb + 1, 22), n, k, ldb);
                let c0 = cut(values(n * ldc + 1, 23), n, m, ldc);
                // The definition, column by column (sums in the order of `k`).
                let mut want = c0.clone();
                for j in 0..n {
                    for i in 0..m {
                        let mut s = want[j * ldc + i];
                        for p in 0..k {
                            s += a[p * lda + i] * b[j * ldb + p];
                        }
                        want[j * ldc + i] = s;
                    }
                }
                for isa in isas() {
                    let mut got = c0.clone();
                    simd_gemm(isa, (m, k, n), &a, lda, &b, ldb, &mut got, ldc, true);
                    // The gaps between columns of `c` are untouched.
                    for j in 0..n.saturating_sub(1) {
                        assert_eq!(
                            got[j * ldc + m..(j + 1) * ldc],
                            c0[j * ldc + m..(j + 1) * ldc]
                        );
                    }
                    close(&got, &want, k);
                }
            }
        }
    }
}

/// Packing blocks of `B` into the panel changes where the tiles read `B`, not what they add:
/// the packed product equals the unpacked one bit for bit on every instruction set (packing
/// forced on and off, whichever the instruction set chooses), with strided operands cut where they
/// end, `k` around the groups of lanes and the panel's limit, and column counts of every block.
#[test]
fn packed_products_are_the_unpacked_bits() {
    // Under Miri, the packing's edges for AVX2 (8 lanes, 6 columns): one group and a masked
    // rest, two tiles of rows and a masked one.
    let (ms, ns, ks): (&[usize], &[usize], &[usize]) = if cfg!(miri) {
        (&[17, 33], &[2, 7], &[1, 9])
    } else {
        (
            &[9, 17, 33, 40, 65, 128, 130],
            &[2, 3, 5, 6, 7, 8, 11, 12, 13, 25, 64],
            &[1, 3, 4, 5, 8, 15, 16, 17, 64, 127, 784, 1023, 1024, 1025],
        )
    };
    for &m in ms {
        for &n in ns {
            for &k in ks {
                let (lda, ldb, ldc) = (m + 3, k + 1, m + 2);
                let a = cut(values(k * lda + 1, 31), k, m, lda);
                let b = cut(values(n * ldb + 1, 32), n, k, ldb);
                let c0 = cut(values(n * ldc + 1, 33), n, m, ldc);
                for isa in isas() {
                    for accumulate in [false, true] {
                        fn with<'a>(
                            (m, k, n): (usize, usize, usize),
                            (a, lda): (&'a [f32], usize),
                            (b, ldb): (&'a [f32], usize),
                            (c, ldc): (&'a mut [f32], usize),
                            accumulate: bool,
                        ) -> Gemm<'a> {
                            Gemm {
                                m,
                                k,
                                n,
                                a,
                                lda,
                                b,
                                ldb,
                                c,
                                ldc,
                                accumulate,
                            }
                        }
                        let (mut got, mut want) = (c0.clone(), c0.clone());
                        let (mk, ak, bk) = ((m, k, n), (&a[..], lda), (&b[..], ldb));
                        let packed = with(mk, ak, bk, (&mut got, ldc), accumulate);
                        run(isa, Packing(packed, true)).expect("the CPU has it");
                        let unpacked = with(mk, ak, bk, (&mut want, ldc), accumulate);
                        run(isa, Packing(unpacked, false)).expect("the CPU has it");
                        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(
                            bits(&got),
                            bits(&want),
                            "{isa:?}: m {m}, k {k}, n {n}, accumulate {accumulate}"
                        );
                    }
                }
            }
        }
    }
}

/// The SIMD softmax against the portable one (`Activation::Softmax` inside
/// `with(Kernels::Portable, …)`): rows shorter and longer than a vector, a masked rest, a row of
/// one value, large differences (exponentials that underflow), values above exp's range, ties,
/// and a row holding −∞.
#[test]
fn softmax_matches_the_portable_one() {
    use crate::activation::Activation;
    let axes: &[usize] = if cfg!(miri) {
        &[1, 10, 17]
    } else {
        &[1, 2, 3, 7, 8, 10, 15, 16, 17, 31, 33, 64, 100]
    };
    for &axis in axes {
        let rows = 3;
        let mut x: Vec<f32> = values(axis * rows, axis as u32)
            .iter()
            .map(|v| v * 30.0)
            .collect();
        x[0] = -200.0;
        // A row above exp's range: only the subtracted maximum keeps it finite.
        for v in &mut x[axis..2 * axis] {
            *v += 100.0;
        }
        if axis > 2 {
            x[axis + 1] = f32::NEG_INFINITY;
            x[2 * axis] = x[2 * axis + 1];
        }
        let mut want = x.clone();
        super::with(Kernels::Portable, || {
            Activation::Softmax.apply(&mut want, axis)
        });
        for isa in isas() {
            let mut got = x.clone();
            run(
                isa,
                math::Softmax {
                    values: &mut got,
                    axis,
                },
            )
            .expect("the CPU has it");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs() + 1e-37,
                    "{isa:?}, axis {axis}, at {i}: {g} vs {w}"
                );
            }
            for row in got.chunks(axis) {
                let sum: f32 = row.iter().sum();
                assert!(
                    (sum - 1.0).abs() < 1e-5,
                    "{isa:?}, axis {axis}: sums to {sum}"
                );
            }
        }
    }
}

#[test]
fn gemm_rejects_operands_shorter_than_their_sizes() {
    for isa in isas() {
        let (a, b) = (values(15, 1), values(4, 2));
        let mut c = values(8, 3);
        let short = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            simd_gemm(isa, (8, 2, 1), &a, 8, &b, 2, &mut c, 8, true)
        }));
        assert!(short.is_err(), "{isa:?}: a 15-value A taken for 8x2");
    }
}

#[test]
fn sigmoid_and_tanh_match_libm() {
    if !simd() {
        return;
    }
    // Every 1/64 from -100 to 100, plus the edges and a length that is not a multiple of 8.
    let xs: Vec<f32> = (-6400..=6400)
        .map(|i| i as f32 / 64.0)
        .chain([0.0, -0.0, 1e-8, -1e-8, 0.624_999, 0.625, 9.0, 1e30, -1e30])
        .collect();
    let (mut s, mut t) = (xs.clone(), xs.clone());
    assert!(sigmoid_simd(&mut s) && tanh_simd(&mut t));
    for ((&x, &s), &t) in xs.iter().zip(&s).zip(&t) {
        let (ws, wt) = (1.0 / (1.0 + libm::expf(-x)), libm::tanhf(x));
        assert!(
            (s - ws).abs() <= 2.5e-7 * ws.abs().max(1e-30) + 1e-37,
            "sigmoid({x}) = {s}, not {ws}"
        );
        assert!(
            (t - wt).abs() <= 2.5e-7 * wt.abs().max(1e-30),
            "tanh({x}) = {t}, not {wt}"
        );
    }
}

#[test]
fn sigmoid_and_tanh_of_short_and_empty_slices() {
    if !simd() {
        return;
    }
    for len in 0..=17 {
        let xs = values(len, 30 + len as u32);
        let (mut s, mut t) = (xs.clone(), xs.clone());
        assert!(sigmoid_simd(&mut s) && tanh_simd(&mut t));
        for ((&x, &s), &t) in xs.iter().zip(&s).zip(&t) {
            assert!((s - 1.0 / (1.0 + libm::expf(-x))).abs() <= 2.5e-7);
            assert!((t - libm::tanhf(x)).abs() <= 2.5e-7);
        }
    }
}

#[test]
fn sweeps_match_the_portable_gemv_both_ways() {
    for &m in &[1usize, 5, 7, 8, 9, 16, 17, 64, 100, 192, 256, 257, 300, 520] {
        for &k in &[0usize, 1, 3, 64] {
            let lda = m + 3;
            let (x, y0) = (values(k, 8), values(m, 9));
            // `a` ends at its last column's last row.
            let a = values(k * lda, 7);
            let a = &a[..if k == 0 { 0 } else { (k - 1) * lda + m }];
            let mut want = y0.clone();
            gemv_portable(m, k, a, lda, &x, &mut want);
            for (isa, reverse) in isas().into_iter().flat_map(|i| [(i, false), (i, true)]) {
                let mut got = y0.clone();
                let sweep = Sweep {
                    m,
                    k,
                    a,
                    lda,
                    x: &x,
                    y: &mut got,
                    reverse,
                };
                run(isa, sweep).expect("the CPU has the instruction set");
                close(&got, &want, k);
            }
        }
    }
}

/// `exp`, the sigmoid and `tanh` of every value of a slice, on vectors of `V`.
struct Apply<'a> {
    values: &'a mut [f32],
    which: usize,
}

impl Kernel for Apply<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        for chunk in self.values.chunks_mut(V::LANES) {
            let m = V::mask(t, chunk.len());
            // SAFETY: the mask covers the chunk's values, the only ones touched.
            unsafe {
                let v = V::load_masked(t, chunk.as_ptr(), m);
                let v = match self.which {
                    0 => math::exp(t, v),
                    1 => math::sigmoid(t, v),
                    _ => math::tanh(t, v),
                };
                V::store_masked(chunk.as_mut_ptr(), m, v);
            }
        }
    }
}

/// The vector `exp`, sigmoid and `tanh` of every instruction set against their specification,
/// the portable scalar functions: on a sweep of the range, and at the edges (±0, subnormals,
/// the polynomial's and the clamps' thresholds and their neighbours, large ±, ±∞, NaN).
#[test]
fn exp_sigmoid_and_tanh_match_the_portable_functions() {
    let near = |x: f32| {
        [
            x,
            f32::from_bits(x.to_bits() - 1),
            f32::from_bits(x.to_bits() + 1),
        ]
    };
    let mut xs: Vec<f32> = (-6400..=6400).map(|i| i as f32 / 64.0).collect();
    for edge in [0.625f32, 9.0, 88.0, 87.0, 1e-8, 1.0, 20.0] {
        for x in near(edge) {
            xs.extend([x, -x]);
        }
    }
    xs.extend([
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        f32::from_bits(1),
        -f32::from_bits(1),
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]);
    type Scalar = fn(f32) -> f32;
    let specs: [(&str, Scalar); 3] = [
        ("exp", libm::expf),
        ("sigmoid", crate::activation::sigmoid),
        ("tanh", libm::tanhf),
    ];
    for isa in isas() {
        for (which, (name, spec)) in specs.into_iter().enumerate() {
            let mut got = xs.clone();
            let apply = Apply {
                values: &mut got,
                which,
            };
            run(isa, apply).expect("the CPU has the instruction set");
            for (&x, &g) in xs.iter().zip(&got) {
                let w = spec(x);
                if w.is_nan() {
                    assert!(g.is_nan(), "{isa:?} {name}({x}) = {g}, not NaN");
                    continue;
                }
                // `exp` is clamped to ±88: beyond, the value at the clamp (what the sigmoid
                // and `tanh` built on it need; neither saturates differently for it).
                let w = if which == 0 {
                    spec(x.clamp(-88.0, 88.0))
                } else {
                    w
                };
                // Relative 2.5e-7, and below the smallest normal an absolute 1e-37: the
                // instruction sets scale `e^-88` to a subnormal or flush it (see
                // `Vector::scale`).
                assert!(
                    (g - w).abs() <= 2.5e-7 * w.abs() + 1e-37,
                    "{isa:?} {name}({x}) = {g}, not {w}"
                );
                if x == 0.0 && which == 2 {
                    assert_eq!(
                        g.to_bits(),
                        x.to_bits(),
                        "{isa:?} tanh keeps the sign of zero"
                    );
                }
            }
        }
    }
}

/// The fused gates of every instruction set on every unit count around the vectors and the
/// blocks of 4 vectors (the offsets of the vectors past the end used to be formed out of
/// bounds), with and without the optional sums.
#[test]
fn fused_gates_match_the_formulas() {
    let sigmoid = |x: f32| 1.0 / (1.0 + libm::expf(-x));
    for isa in isas() {
        for units in [
            0usize, 1, 7, 8, 9, 15, 16, 17, 20, 31, 32, 33, 48, 63, 64, 65, 100,
        ] {
            for with in [false, true] {
                let (z, xw, bias) = (
                    values(4 * units, 10),
                    values(4 * units, 11),
                    values(4 * units, 12),
                );
                let (mut c, mut h) = (values(units, 13), values(units, 0));
                let c_old = c.clone();
                let (xw_o, bias_o) = if with {
                    (Some(&xw[..]), Some(&bias[..]))
                } else {
                    (None, None)
                };
                let gates = LstmGates {
                    z: &z,
                    xw: xw_o,
                    bias: bias_o,
                    c: &mut c,
                    h: &mut h,
                };
                run(isa, gates).expect("the CPU has the instruction set");
                for j in 0..units {
                    let g = |i: usize| {
                        let k = i * units + j;
                        if with {
                            z[k] + xw[k] + bias[k]
                        } else {
                            z[k]
                        }
                    };
                    let c_want = sigmoid(g(1)) * c_old[j] + sigmoid(g(0)) * libm::tanhf(g(2));
                    let h_want = sigmoid(g(3)) * libm::tanhf(c_want);
                    assert!((c[j] - c_want).abs() < 1e-6, "c {} vs {c_want}", c[j]);
                    assert!((h[j] - h_want).abs() < 1e-6, "h {} vs {h_want}", h[j]);
                }
                let (xw, rec, bias) = (
                    values(3 * units, 14),
                    values(3 * units, 15),
                    values(3 * units, 16),
                );
                let bias_in = values(3 * units, 18);
                let mut h = values(units, 17);
                let h_old = h.clone();
                let (bi, br) = if with {
                    (Some(&bias_in[..]), Some(&bias[..]))
                } else {
                    (None, None)
                };
                let gates = GruGates {
                    xw: &xw,
                    bias_in: bi,
                    rec: &rec,
                    bias_rec: br,
                    h: &mut h,
                };
                run(isa, gates).expect("the CPU has the instruction set");
                let xw: Vec<f32> = if with {
                    xw.iter().zip(&bias_in).map(|(x, b)| x + b).collect()
                } else {
                    xw
                };
                for j in 0..units {
                    let r = |i: usize| {
                        rec[i * units + j] + if with { bias[i * units + j] } else { 0.0 }
                    };
                    let z = sigmoid(xw[j] + r(0));
                    let reset = sigmoid(xw[units + j] + r(1));
                    let candidate = libm::tanhf(xw[2 * units + j] + reset * r(2));
                    let want = z * h_old[j] + (1.0 - z) * candidate;
                    assert!((h[j] - want).abs() < 1e-6, "h {} vs {want}", h[j]);
                }
            }
        }
    }
}

#[test]
fn gemv_matches_the_portable_kernel_with_a_stride() {
    if !simd() {
        return;
    }
    for &(m, k, lda) in &[
        (1, 5, 3),
        (10, 7, 12),
        (64, 9, 64),
        (72, 33, 200),
        (130, 4, 131),
    ] {
        let (a, x) = (values(k * lda, 4), values(k, 5));
        let mut want = values(m, 6);
        let mut got = want.clone();
        gemv_portable(m, k, &a, lda, &x, &mut want);
        gemv(m, k, &a, lda, &x, &mut got);
        close(&got, &want, k);
    }
    // `Kernels::Portable` is tested in `kernels::choice` (bit for bit against the portable
    // kernels, and on two threads choosing differently at once).
}

/// The choice picks the instruction set (`Avx2`: at most AVX2 + FMA on x86_64, as `Fastest`
/// elsewhere; NEON on aarch64), and the fused LSTM and GRU gates run on every instruction set the
/// choice gives, AVX2 and NEON included, with the formulas' values.
#[test]
fn the_choice_picks_the_instruction_set_and_the_gates_run_on_each() {
    let best = if cfg!(feature = "portable-kernels") {
        None
    } else {
        best_isa()
    };
    assert_eq!(with(Kernels::Fastest, simd_isa), best);
    let avx2 = with(Kernels::Avx2, simd_isa);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(avx2, best.map(|_| Isa::Avx2));
    #[cfg(target_arch = "aarch64")]
    {
        assert_eq!(avx2, best);
        if !cfg!(feature = "portable-kernels") {
            assert_eq!(best, Some(Isa::Neon));
        }
    }
    assert_eq!(with(Kernels::Portable, simd_isa), None);
    let sigmoid = |x: f32| 1.0 / (1.0 + libm::expf(-x));
    let units = 13;
    for choice in [Kernels::Fastest, Kernels::Avx2, Kernels::Portable] {
        with(choice, || {
            let runs = simd_isa().is_some();
            assert_eq!(gates_simd(), runs, "{choice:?}");
            let z = values(4 * units, 40);
            let (mut c, mut h) = (values(units, 41), values(units, 42));
            let c_old = c.clone();
            assert_eq!(lstm_gates_simd(&z, None, None, &mut c, &mut h), runs);
            if runs {
                for j in 0..units {
                    let g = |i: usize| z[i * units + j];
                    let c_want = sigmoid(g(1)) * c_old[j] + sigmoid(g(0)) * libm::tanhf(g(2));
                    assert!(
                        (c[j] - c_want).abs() < 1e-6,
                        "{choice:?} c {} vs {c_want}",
                        c[j]
                    );
                    let h_want = sigmoid(g(3)) * libm::tanhf(c_want);
                    assert!(
                        (h[j] - h_want).abs() < 1e-6,
                        "{choice:?} h {} vs {h_want}",
                        h[j]
                    );
                }
            }
            let (xw, rec) = (values(3 * units, 43), values(3 * units, 44));
            let mut h = values(units, 45);
            let h_old = h.clone();
            assert_eq!(gru_gates_simd(&xw, None, &rec, None, &mut h), runs);
            if runs {
                for j in 0..units {
                    let z = sigmoid(xw[j] + rec[j]);
                    let r = sigmoid(xw[units + j] + rec[units + j]);
                    let candidate = libm::tanhf(xw[2 * units + j] + r * rec[2 * units + j]);
                    let want = z * h_old[j] + (1.0 - z) * candidate;
                    assert!(
                        (h[j] - want).abs() < 1e-6,
                        "{choice:?} h {} vs {want}",
                        h[j]
                    );
                }
            }
        });
    }
}
