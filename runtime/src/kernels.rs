//! Matrix kernels shared by the layers. Column-major throughout, as nalgebra stores matrices.
//!
//! Each kernel has a portable version (plain Rust, no fused multiply-add: the same bits on every
//! target: the specification) and, on x86_64 and aarch64 with the `std` feature, a SIMD version
//! written once over the `Vector` trait (`kernels/vector.rs`) and compiled for AVX-512, for AVX2
//! + FMA and for NEON, one chosen at run time by the one dispatch, `run_simd`. [`with`] chooses
//! the kernels of one call on one thread ([`Kernels::Portable`], e.g. to compare a host's bits
//! with a microcontroller's); the feature `portable-kernels` makes every choice the portable
//! kernels.
//!
//! `#[cfg(simd_kernels)]` (set by the build script) is "the SIMD kernels are compiled in": `std`
//! (for the run-time CPU detection) on x86_64 or aarch64.

#[cfg(simd_kernels)]
mod gates;
#[cfg(simd_kernels)]
mod math;
#[cfg(all(simd_kernels, target_arch = "aarch64"))]
pub(crate) mod neon;
#[cfg(simd_kernels)]
pub(crate) mod product;
#[cfg(simd_kernels)]
pub(crate) mod tile;
#[cfg(simd_kernels)]
pub(crate) mod vector;
#[cfg(all(simd_kernels, target_arch = "x86_64"))]
pub(crate) mod x86;

mod choice;
#[cfg(feature = "std")]
pub use choice::current;
pub use choice::{with, Kernels};

/// An instruction set of the SIMD kernels: those of the target (a CPU may lack some, and then
/// [`run`] runs nothing).
#[cfg(simd_kernels)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Isa {
    /// x86_64 AVX2 + FMA: 8 lanes, 16 registers.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// x86_64 AVX-512F: 16 lanes, 32 registers.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// aarch64 Advanced SIMD (NEON): 4 lanes, 32 registers.
    #[cfg(target_arch = "aarch64")]
    Neon,
}

/// The best instruction set of this CPU for the kernels (checked once, then cached by std).
#[cfg(simd_kernels)]
#[inline]
pub(crate) fn best_isa() -> Option<Isa> {
    #[cfg(target_arch = "x86_64")]
    {
        x86::isa()
    }
    #[cfg(target_arch = "aarch64")]
    {
        neon::NeonToken::detect().map(|_| Isa::Neon)
    }
}

/// Every instruction set of the SIMD kernels this CPU has (for tests comparing each with the
/// portable kernels).
#[cfg(all(test, simd_kernels))]
pub(crate) fn isas() -> std::vec::Vec<Isa> {
    #[cfg(target_arch = "x86_64")]
    let all = [Isa::Avx2, Isa::Avx512];
    #[cfg(target_arch = "aarch64")]
    let all = [Isa::Neon];
    all.into_iter()
        .filter(|&isa| run(isa, Nothing).is_some())
        .collect()
}

/// A kernel that does nothing: [`isas`] runs it to find which instruction sets run.
#[cfg(all(test, simd_kernels))]
struct Nothing;

#[cfg(all(test, simd_kernels))]
impl vector::Kernel for Nothing {
    type Output = ();
    #[inline(always)]
    fn run<V: vector::Vector>(self, _: V::Token) {}
}

/// Runs `kernel` compiled for `isa`; `None` (nothing run) if the CPU does not have it.
#[cfg(simd_kernels)]
#[inline]
pub(crate) fn run<K: vector::Kernel>(isa: Isa, kernel: K) -> Option<K::Output> {
    #[cfg(target_arch = "x86_64")]
    {
        x86::run(isa, kernel)
    }
    #[cfg(target_arch = "aarch64")]
    {
        neon::run(isa, kernel)
    }
}

/// Whether the SIMD kernels run on this thread: not [`Kernels::Portable`] chosen ([`with`]), not
/// compiled out (feature `portable-kernels`), and supported by the CPU (AVX2 and FMA on x86_64,
/// NEON on aarch64).
#[inline]
pub fn simd() -> bool {
    #[cfg(simd_kernels)]
    {
        simd_isa().is_some()
    }
    #[cfg(not(simd_kernels))]
    {
        false
    }
}

/// The instruction set of the SIMD matrix kernels, when they run: the best the CPU has, at most
/// the one this thread chose ([`with`]).
#[cfg(simd_kernels)]
#[inline]
pub(crate) fn simd_isa() -> Option<Isa> {
    if cfg!(feature = "portable-kernels") {
        return None;
    }
    match current() {
        Kernels::Portable => None,
        #[cfg(target_arch = "x86_64")]
        Kernels::Avx2 => x86::Avx2Token::detect().map(|_| Isa::Avx2),
        // No instruction set to leave out elsewhere: as `Fastest`.
        #[cfg(not(target_arch = "x86_64"))]
        Kernels::Avx2 => best_isa(),
        Kernels::Fastest => best_isa(),
    }
}

/// Runs `kernel` compiled for the instruction set of the SIMD kernels ([`simd_isa`]): the one
/// dispatch every SIMD path goes through. `None` (nothing run) when they do not run.
#[cfg(simd_kernels)]
#[inline]
pub(crate) fn run_simd<K: vector::Kernel>(kernel: K) -> Option<K::Output> {
    run(simd_isa()?, kernel)
}

/// The logistic sigmoid of every value with the SIMD kernels; `false` (nothing done) when they do
/// not run (see [`simd`]): the caller then uses the portable function.
#[inline]
pub fn sigmoid_simd(values: &mut [f32]) -> bool {
    #[cfg(simd_kernels)]
    if run_simd(math::Map {
        values: &mut *values,
        tanh: false,
    })
    .is_some()
    {
        return true;
    }
    let _ = values;
    false
}

/// Softmax of every row of `axis` values with the SIMD kernels (the exponentials a vector at a
/// time; the maximum, the sum and the division as the portable softmax does them); `false`
/// (nothing done) when they do not run, as [`sigmoid_simd`].
#[inline]
pub fn softmax_simd(values: &mut [f32], axis: usize) -> bool {
    #[cfg(simd_kernels)]
    if run_simd(math::Softmax {
        values: &mut *values,
        axis,
    })
    .is_some()
    {
        return true;
    }
    let _ = (values, axis);
    false
}

/// `tanh` of every value with the SIMD kernels, as [`sigmoid_simd`].
#[inline]
pub fn tanh_simd(values: &mut [f32]) -> bool {
    #[cfg(simd_kernels)]
    if run_simd(math::Map {
        values: &mut *values,
        tanh: true,
    })
    .is_some()
    {
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
    #[cfg(simd_kernels)]
    {
        let product = product::Gemm {
            m,
            k,
            n,
            a,
            lda: m,
            b,
            ldb: k,
            c: &mut *c,
            ldc: m,
            accumulate,
        };
        if run_simd(product).is_some() {
            return;
        }
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
    #[cfg(simd_kernels)]
    {
        let product = product::Gemm {
            m,
            k,
            n: 1,
            a,
            lda,
            b: x,
            ldb: k,
            c: &mut *y,
            ldc: m,
            accumulate: true,
        };
        if run_simd(product).is_some() {
            return;
        }
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
    #[cfg(simd_kernels)]
    {
        let sweep = product::Sweep {
            m,
            k,
            a,
            lda,
            x,
            y: &mut *y,
            reverse,
        };
        if run_simd(sweep).is_some() {
            return true;
        }
    }
    let _ = (a, x, y, reverse);
    false
}

/// Whether [`lstm_gates_simd`] and [`gru_gates_simd`] run (the SIMD kernels run: every
/// instruction set has them).
#[inline]
pub(crate) fn gates_simd() -> bool {
    simd()
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
    #[cfg(simd_kernels)]
    if run_simd(gates::LstmGates { z, xw, bias, c, h }).is_some() {
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
    #[cfg(simd_kernels)]
    if run_simd(gates::GruGates {
        xw,
        bias_in,
        rec,
        bias_rec,
        h,
    })
    .is_some()
    {
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
#[cfg(all(test, simd_kernels))]
pub(crate) mod simd_tests;
