//! Matrix kernels shared by the layers. Column-major throughout, as nalgebra stores matrices.
//!
//! Each kernel has a portable version (plain Rust, no fused multiply-add: the same bits on every
//! target) and, on x86_64 with the `std` feature, an AVX2 + FMA version chosen at run time when
//! the CPU has it. [`with`] chooses the kernels of one call on one thread ([`Kernels::Portable`],
//! e.g. to compare a host's bits with a microcontroller's); the feature `portable-kernels` makes
//! every choice the portable kernels.

#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(crate) mod x86;

mod choice;
#[cfg(feature = "std")]
pub use choice::current;
pub use choice::{with, Kernels};

/// Whether the SIMD kernels run on this thread: not [`Kernels::Portable`] chosen ([`with`]), not
/// compiled out (feature `portable-kernels`), and supported by the CPU (AVX2 and FMA).
#[inline]
pub fn simd() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        !cfg!(feature = "portable-kernels")
            && current() != Kernels::Portable
            && std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// The instruction set of the SIMD matrix kernels, when they run: the best the CPU has, at most
/// the one this thread chose ([`with`]).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[inline]
pub(crate) fn simd_isa() -> Option<x86::Isa> {
    if cfg!(feature = "portable-kernels") {
        return None;
    }
    match current() {
        Kernels::Portable => None,
        Kernels::Avx2 => (std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma"))
        .then_some(x86::Isa::Avx2),
        Kernels::Fastest => x86::isa(),
    }
}

/// The logistic sigmoid of every value with the SIMD kernels; `false` (nothing done) when they do
/// not run (see [`simd`]): the caller then uses the portable function.
#[inline]
pub fn sigmoid_simd(values: &mut [f32]) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if simd() {
        // SAFETY: the CPU has AVX2 and FMA (just checked).
        unsafe { x86::sigmoid(values) };
        return true;
    }
    let _ = values;
    false
}

/// `tanh` of every value with the SIMD kernels, as [`sigmoid_simd`].
#[inline]
pub fn tanh_simd(values: &mut [f32]) -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if simd() {
        // SAFETY: the CPU has AVX2 and FMA (just checked).
        unsafe { x86::tanh(values) };
        return true;
    }
    let _ = values;
    false
}

/// `c (m×n) = a (m×k) · b (k×n) + (c if accumulate)`, all column-major and contiguous.
///
/// Four columns of `c` are produced together so each column of `a` is read once per four
/// outputs; the inner loop runs down contiguous columns and vectorises. No packing buffers, so no
/// allocation (`matrixmultiply` allocates one per call, which `predict` must not do).
#[inline]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if let Some(isa) = simd_isa() {
        // SAFETY: the CPU has the instruction set (just checked); the lengths are checked above.
        unsafe {
            x86::gemm(
                isa,
                m,
                k,
                n,
                a.as_ptr(),
                m,
                b.as_ptr(),
                k,
                c.as_mut_ptr(),
                m,
                accumulate,
            )
        };
        return;
    }
    gemm_portable(m, k, n, a, b, c, accumulate);
}

/// [`gemm`] without SIMD: the same bits on every target. Inlined, so that a layer's constant
/// sizes shape the loops (on a microcontroller this is the only path).
#[inline]
pub fn gemm_portable(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    if !accumulate {
        c.fill(0.0);
    }
    if m == 0 {
        return;
    }
    let mut c_blocks = c.chunks_exact_mut(4 * m);
    let mut b_blocks = b.chunks_exact(4 * k);
    for (c4, b4) in (&mut c_blocks).zip(&mut b_blocks) {
        let (c0, rest) = c4.split_at_mut(m);
        let (c1, rest) = rest.split_at_mut(m);
        let (c2, c3) = rest.split_at_mut(m);
        for (p, a_col) in a.chunks_exact(m).enumerate() {
            let (b0, b1, b2, b3) = (b4[p], b4[k + p], b4[2 * k + p], b4[3 * k + p]);
            for i in 0..m {
                let x = a_col[i];
                c0[i] += x * b0;
                c1[i] += x * b1;
                c2[i] += x * b2;
                c3[i] += x * b3;
            }
        }
    }
    for (c_col, b_col) in c_blocks
        .into_remainder()
        .chunks_exact_mut(m)
        .zip(b_blocks.remainder().chunks_exact(k))
    {
        gemv_registers(m, a, b_col, c_col);
    }
}

/// `c (m×n) += aᵀ · b` with `a` (k×m) and `b` (k×n), all column-major and contiguous: the
/// products of backward passes that send a gradient back through a weight matrix
/// (`∂x = Wᵀ·∂y`). Each output is a dot product down two contiguous columns.
pub fn gemm_tn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == k * m && b.len() == k * n && c.len() == m * n);
    if k == 0 {
        return;
    }
    for (c_col, b_col) in c.chunks_exact_mut(m).zip(b.chunks_exact(k)) {
        for (c, a_col) in c_col.iter_mut().zip(a.chunks_exact(k)) {
            let mut sum = 0.0f32;
            for (x, y) in a_col.iter().zip(b_col) {
                sum += x * y;
            }
            *c += sum;
        }
    }
}

/// `c (m×n) += a · bᵀ` with `a` (m×k) and `b` (n×k), all column-major and contiguous: the
/// products of weight gradients (`∂W = ∂y·xᵀ` summed over positions and samples). Runs as
/// axpys down contiguous columns of `c`.
pub fn gemm_nt(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == m * k && b.len() == n * k && c.len() == m * n);
    if m == 0 || n == 0 {
        return;
    }
    for (a_col, b_col) in a.chunks_exact(m).zip(b.chunks_exact(n)) {
        for (c_col, &w) in c.chunks_exact_mut(m).zip(b_col) {
            for (c, &x) in c_col.iter_mut().zip(a_col) {
                *c += x * w;
            }
        }
    }
}

/// `c (m) += a (m×k) · b (k)`: one column, as every `Dense` on a vector needs.
///
/// Rows go in blocks whose sums stay in registers for the whole pass over `k` (an axpy loop would
/// load and store `c` once per multiply-add, which dominates on a microcontroller). Each `c[i]`
/// still adds its products in the order p = 0, 1, …, k−1, exactly as the block loop in [`gemm`]
/// does, so the result is the same to the bit on every target.
#[inline]
fn gemv_registers(m: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    let mut i = 0;
    while i + 16 <= m {
        gemv_rows::<16>(m, i, a, b, c);
        i += 16;
    }
    while i + 4 <= m {
        gemv_rows::<4>(m, i, a, b, c);
        i += 4;
    }
    while i < m {
        gemv_rows::<1>(m, i, a, b, c);
        i += 1;
    }
}

/// Rows `i..i + R` of [`gemv_registers`], with `R` sums in registers.
#[inline(always)]
fn gemv_rows<const R: usize>(m: usize, i: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    let mut sums: [f32; R] = c[i..i + R].try_into().expect("R rows");
    for (a_col, &x) in a.chunks_exact(m).zip(b) {
        for (sum, &w) in sums.iter_mut().zip(&a_col[i..i + R]) {
            *sum += w * x;
        }
    }
    c[i..i + R].copy_from_slice(&sums);
}

/// `y (m) += a (m×k) · x (k)`, `a` column-major with leading dimension `lda` (column `p` starts at
/// `a[p·lda]`, so a block of rows of a taller matrix can be passed by offsetting `a`).
///
/// The axpy form (running down contiguous columns) measured over twice as fast as row dot
/// products for recurrent kernels of 16–256 units. Four columns are folded in per pass over `y`,
/// adding them in column order, so the result is the same as one column at a time.
#[inline]
pub fn gemv(m: usize, k: usize, a: &[f32], lda: usize, x: &[f32], y: &mut [f32]) {
    assert!(lda >= m && x.len() == k && y.len() == m);
    if k == 0 {
        return;
    }
    assert!(a.len() >= (k - 1) * lda + m);
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if let Some(isa) = simd_isa() {
        // SAFETY: the CPU has the instruction set (just checked); the sizes are checked above.
        unsafe {
            x86::gemm(
                isa,
                m,
                k,
                1,
                a.as_ptr(),
                lda,
                x.as_ptr(),
                k,
                y.as_mut_ptr(),
                m,
                true,
            )
        };
        return;
    }
    gemv_portable(m, k, a, lda, x, y);
}

/// `y (m) += a (m×k) · x (k)` with the SIMD kernels, for one recurrent step: `a` column-major
/// with leading dimension `lda`, read as one stream, its columns in reverse order when `reverse`
/// (consecutive steps alternating keep part of a kernel larger than the L1 cache cached).
/// Returns `false` (nothing done) when the SIMD kernels do not run; the caller then uses
/// [`gemv`].
#[inline]
pub fn gemv_sweep_simd(
    m: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    x: &[f32],
    y: &mut [f32],
    reverse: bool,
) -> bool {
    assert!(lda >= m && x.len() == k && y.len() == m);
    assert!(k == 0 || a.len() >= (k - 1) * lda + m);
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if let Some(isa) = simd_isa() {
        // SAFETY: the CPU has the instruction set (just checked); the sizes are checked above.
        unsafe {
            x86::gemv_sweep(
                isa,
                m,
                k,
                a.as_ptr(),
                lda,
                x.as_ptr(),
                y.as_mut_ptr(),
                reverse,
            )
        };
        return true;
    }
    let _ = (a, x, y, reverse);
    false
}

/// Whether [`lstm_gates_simd`] and [`gru_gates_simd`] run (SIMD allowed, AVX-512).
#[inline]
pub(crate) fn gates_simd() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        simd_isa() == Some(x86::Isa::Avx512)
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        false
    }
}

/// The rest of an LSTM step with Keras's default activations (sigmoid gates, tanh), fused into
/// one SIMD pass: the sums of the gates i, f, c, o (`c.len()` values each) are `z` plus `xw` and
/// `bias` when given; `c` and `h` become the new state. Returns `false` (nothing done) where no
/// fused kernel runs (see [`gates_simd`]); the caller then takes the step apart itself.
#[inline]
pub(crate) fn lstm_gates_simd(
    z: &[f32],
    xw: Option<&[f32]>,
    bias: Option<&[f32]>,
    c: &mut [f32],
    h: &mut [f32],
) -> bool {
    let units = c.len();
    assert!(z.len() == 4 * units && h.len() == units);
    assert!(xw.is_none_or(|v| v.len() == 4 * units) && bias.is_none_or(|v| v.len() == 4 * units));
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if gates_simd() {
        let ptr = |v: Option<&[f32]>| v.map_or(core::ptr::null(), <[f32]>::as_ptr);
        // SAFETY: the CPU has AVX-512F (just checked); the lengths are checked above.
        unsafe {
            x86::lstm_gates(
                units,
                z.as_ptr(),
                ptr(xw),
                ptr(bias),
                c.as_mut_ptr(),
                h.as_mut_ptr(),
            )
        };
        return true;
    }
    false
}

/// The rest of a GRU step (`reset_after`, sigmoid gates, tanh candidate) fused into one SIMD
/// pass: `xw` holds the input projections `[xz, xr, xh]`, to which `bias_in` (the input bias) is
/// added when given, `rec` the recurrent products `[rz, rr, rh]`, to which `bias_rec` (the
/// recurrent bias) is added when given; `h` becomes the new state. Returns `false` (nothing
/// done) where no fused kernel runs (see [`gates_simd`]).
#[inline]
pub(crate) fn gru_gates_simd(
    xw: &[f32],
    bias_in: Option<&[f32]>,
    rec: &[f32],
    bias_rec: Option<&[f32]>,
    h: &mut [f32],
) -> bool {
    let units = h.len();
    assert!(xw.len() == 3 * units && rec.len() == 3 * units);
    assert!(bias_in.is_none_or(|v| v.len() == 3 * units));
    assert!(bias_rec.is_none_or(|v| v.len() == 3 * units));
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if gates_simd() {
        let ptr = |v: Option<&[f32]>| v.map_or(core::ptr::null(), <[f32]>::as_ptr);
        // SAFETY: the CPU has AVX-512F (just checked); the lengths are checked above.
        unsafe {
            x86::gru_gates(
                units,
                xw.as_ptr(),
                ptr(bias_in),
                rec.as_ptr(),
                ptr(bias_rec),
                h.as_mut_ptr(),
            )
        };
        return true;
    }
    false
}

/// [`gemv`] without SIMD: the same bits on every target, inlined as [`gemm_portable`].
#[inline]
pub fn gemv_portable(m: usize, k: usize, a: &[f32], lda: usize, x: &[f32], y: &mut [f32]) {
    assert!(lda >= m && x.len() == k && y.len() == m);
    if k == 0 {
        return;
    }
    assert!(a.len() >= (k - 1) * lda + m);
    let y = &mut y[..m];
    let mut p = 0;
    while p + 4 <= k {
        let (a0, a1) = (&a[p * lda..][..m], &a[(p + 1) * lda..][..m]);
        let (a2, a3) = (&a[(p + 2) * lda..][..m], &a[(p + 3) * lda..][..m]);
        let (x0, x1, x2, x3) = (x[p], x[p + 1], x[p + 2], x[p + 3]);
        for i in 0..m {
            y[i] = y[i] + a0[i] * x0 + a1[i] * x1 + a2[i] * x2 + a3[i] * x3;
        }
        p += 4;
    }
    while p < k {
        let (col, xp) = (&a[p * lda..][..m], x[p]);
        for i in 0..m {
            y[i] += col[i] * xp;
        }
        p += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{gemm_portable as gemm, gemv_portable as gemv};

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> [f32; 64] {
        let mut c = [0.0; 64];
        for j in 0..n {
            for i in 0..m {
                c[i + j * m] = (0..k).map(|p| a[i + p * m] * b[p + j * k]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_the_definition() {
        let a: [f32; 32] = core::array::from_fn(|i| i as f32 * 0.5 - 2.0);
        let b: [f32; 32] = core::array::from_fn(|i| 1.0 - i as f32 * 0.25);
        for (m, k, n) in [
            (3, 4, 3),
            (4, 3, 1),
            (2, 6, 2),
            (12, 1, 1),
            (2, 2, 9),
            (1, 3, 5),
            (3, 1, 8),
            (21, 1, 1),
            (21, 1, 3),
            (5, 6, 1),
            (16, 2, 1),
        ] {
            let mut c = [7.0f32; 64];
            gemm(m, k, n, &a[..m * k], &b[..k * n], &mut c[..m * n], false);
            assert_eq!(&c[..m * n], &naive(m, k, n, &a, &b)[..m * n], "{m}x{k}x{n}");
            let mut acc = [1.0f32; 64];
            gemm(m, k, n, &a[..m * k], &b[..k * n], &mut acc[..m * n], true);
            for (x, y) in acc[..m * n].iter().zip(&naive(m, k, n, &a, &b)[..m * n]) {
                assert_eq!(*x, y + 1.0);
            }
        }
    }

    #[test]
    fn gemv_is_gemm_with_one_column_and_takes_row_blocks() {
        let a: [f32; 42] = core::array::from_fn(|i| (i % 7) as f32 * 0.5 - 1.25);
        let x: [f32; 7] = core::array::from_fn(|i| 0.75 - i as f32 * 0.3);
        for (m, k) in [(6, 7), (6, 4), (6, 3), (1, 5), (6, 1)] {
            let mut want = [0.0f32; 6];
            gemm(m, k, 1, &a[..m * k], &x[..k], &mut want[..m], false);
            let mut got = [0.0f32; 6];
            gemv(m, k, &a[..m * k], m, &x[..k], &mut got[..m]);
            assert_eq!(got[..m], want[..m], "{m}x{k}");
        }
        // Rows 2..4 of a 6x7 matrix: lda 6, offset 2.
        let mut rows = [0.0f32; 2];
        gemv(2, 7, &a[2..], 6, &x, &mut rows);
        let mut full = [0.0f32; 6];
        gemv(6, 7, &a, 6, &x, &mut full);
        assert_eq!(rows, [full[2], full[3]]);
    }
}

/// The SIMD kernels against the portable ones, on every tile shape and edge.
#[cfg(all(test, feature = "std", target_arch = "x86_64"))]
mod simd_tests {
    use super::*;
    use std::vec::Vec;

    fn values(len: usize, seed: u32) -> Vec<f32> {
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

    /// Every instruction set of the SIMD kernels this CPU has.
    fn isas() -> Vec<x86::Isa> {
        let mut isas = Vec::new();
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            isas.push(x86::Isa::Avx2);
        }
        if std::is_x86_feature_detected!("avx512f") {
            isas.push(x86::Isa::Avx512);
        }
        isas
    }

    fn close(got: &[f32], want: &[f32], k: usize) {
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            // Sums of k products of values in [-1, 1]: rounding differs by a few ulps of k.
            assert!(
                (g - w).abs() <= 1e-6 * k as f32 + 1e-6,
                "at {i}: {g} vs {w}"
            );
        }
    }

    #[test]
    fn gemm_matches_the_portable_kernel() {
        if !simd() {
            return;
        }
        let sizes = [
            1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 63, 64, 65, 70, 128, 130,
        ];
        for &m in &sizes {
            for &n in &[1usize, 2, 3, 4, 5, 6, 7, 12, 13] {
                // Long reductions too (the Dense layers of the benchmark models have 784, 1600).
                for &k in &[1usize, 2, 3, 9, 17, 64, 300, 600] {
                    let (a, b) = (values(m * k, 1), values(k * n, 2));
                    for accumulate in [false, true] {
                        let mut want = values(m * n, 3);
                        gemm_portable(m, k, n, &a, &b, &mut want, accumulate);
                        for isa in isas() {
                            let mut got = values(m * n, 3);
                            // SAFETY: the CPU has `isa`; the sizes are right.
                            unsafe {
                                x86::gemm(
                                    isa,
                                    m,
                                    k,
                                    n,
                                    a.as_ptr(),
                                    m,
                                    b.as_ptr(),
                                    k,
                                    got.as_mut_ptr(),
                                    m,
                                    accumulate,
                                )
                            };
                            close(&got, &want, k);
                        }
                    }
                }
            }
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
    fn sweeps_match_the_portable_gemv_both_ways() {
        if !simd() {
            return;
        }
        for &m in &[1usize, 5, 16, 17, 64, 100, 192, 256, 257, 300, 520] {
            for &k in &[1usize, 3, 64] {
                let lda = m + 3;
                let (a, x) = (values(k * lda, 7), values(k, 8));
                let mut want = values(m, 9);
                gemv_portable(m, k, &a, lda, &x, &mut want);
                for (isa, reverse) in isas().into_iter().flat_map(|i| [(i, false), (i, true)]) {
                    let mut got = values(m, 9);
                    // SAFETY: the CPU has `isa`; the sizes are right.
                    unsafe {
                        x86::gemv_sweep(
                            isa,
                            m,
                            k,
                            a.as_ptr(),
                            lda,
                            x.as_ptr(),
                            got.as_mut_ptr(),
                            reverse,
                        )
                    };
                    close(&got, &want, k);
                }
            }
        }
    }

    #[test]
    fn sigmoid_and_tanh_on_16_lanes_match_libm() {
        if !std::is_x86_feature_detected!("avx512f") {
            return;
        }
        let xs: Vec<f32> = (-6400..=6400)
            .map(|i| i as f32 / 64.0)
            .chain([0.0, -0.0, 1e-8, -1e-8, 0.624_999, 0.625, 9.0, 1e30, -1e30])
            .collect();
        let (mut s, mut t) = (xs.clone(), xs.clone());
        // SAFETY: the CPU has AVX-512F (just checked).
        unsafe {
            x86::map16(&mut s, false);
            x86::map16(&mut t, true);
        }
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
    fn fused_gates_match_the_formulas() {
        if !std::is_x86_feature_detected!("avx512f") {
            return;
        }
        let sigmoid = |x: f32| 1.0 / (1.0 + libm::expf(-x));
        for units in [1usize, 7, 16, 20, 64] {
            let (z, xw, bias) = (
                values(4 * units, 10),
                values(4 * units, 11),
                values(4 * units, 12),
            );
            let (mut c, mut h) = (values(units, 13), values(units, 0));
            let c_old = c.clone();
            // SAFETY: the CPU has AVX-512F (just checked); the lengths are right.
            unsafe {
                x86::lstm_gates(
                    units,
                    z.as_ptr(),
                    xw.as_ptr(),
                    bias.as_ptr(),
                    c.as_mut_ptr(),
                    h.as_mut_ptr(),
                )
            };
            for j in 0..units {
                let g = |i: usize| z[i * units + j] + xw[i * units + j] + bias[i * units + j];
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
            // SAFETY: as above.
            unsafe {
                x86::gru_gates(
                    units,
                    xw.as_ptr(),
                    bias_in.as_ptr(),
                    rec.as_ptr(),
                    bias.as_ptr(),
                    h.as_mut_ptr(),
                )
            };
            let xw: Vec<f32> = xw.iter().zip(&bias_in).map(|(x, b)| x + b).collect();
            for j in 0..units {
                let r = |i: usize| rec[i * units + j] + bias[i * units + j];
                let z = sigmoid(xw[j] + r(0));
                let reset = sigmoid(xw[units + j] + r(1));
                let candidate = libm::tanhf(xw[2 * units + j] + reset * r(2));
                let want = z * h_old[j] + (1.0 - z) * candidate;
                assert!((h[j] - want).abs() < 1e-6, "h {} vs {want}", h[j]);
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
        // `set_simd(false)` is tested in its own process (tests/embedded_golden.rs, whose bit
        // comparisons fail if it does not take effect): switching it here would race with the
        // exact comparisons of this crate's other tests.
    }
}
