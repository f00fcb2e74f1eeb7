//! The transposed matrix products of the backward passes, on the SIMD matrix kernel when it
//! runs.
//!
//! [`kernels::gemm_tn`] and [`kernels::gemm_nt`] are portable loops (dot products and axpys in a
//! fixed order), the bits a microcontroller computes. With SIMD on, [`gemm_tn`] and [`gemm_nt`]
//! here instead transpose one operand, a chunk at a time, into a buffer on the stack and run
//! [`kernels::gemm`] (AVX-512 or AVX2 + FMA) over it; the transposition is `O(k·n)` against the
//! product's `O(m·k·n)`. Without SIMD they call the portable loops, so the portable bits (and
//! the microcontroller's) do not change.

use core::mem::MaybeUninit;

use crate::kernels;

/// The values of a slice whose every element was written.
///
/// # Safety
/// Every element of `values` must be initialized.
unsafe fn assume_init(values: &[MaybeUninit<f32>]) -> &[f32] {
    // SAFETY: `MaybeUninit<f32>` has the layout of `f32`, and the caller promises every value
    // was written.
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast::<f32>(), values.len()) }
}

/// [`assume_init`], mutably.
///
/// # Safety
/// Every element of `values` must be initialized.
unsafe fn assume_init_mut(values: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: as in `assume_init`; the new slice borrows `values` mutably.
    unsafe { core::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<f32>(), values.len()) }
}

/// Floats of each transposition buffer (32 KiB on the stack, on a host with SIMD only).
const SCRATCH: usize = 8192;

/// The first `len` values of `buffer`, set to zero: a workspace on the stack that costs the
/// zeroing of only the part a call uses.
pub(crate) fn zeroed_prefix(buffer: &mut [MaybeUninit<f32>], len: usize) -> &mut [f32] {
    let part = &mut buffer[..len];
    part.fill(MaybeUninit::new(0.0));
    // SAFETY: every value of `part` was just written.
    unsafe { assume_init_mut(part) }
}

/// `aᵀ` (n × m) of `a` (m × n), both column-major, written into the start of `buffer` (at least
/// `m·n` long): `aᵀ[j + i·n] = a[i + j·m]`. For a matrix a backward pass multiplies by
/// transposed many times, kept transposed once so that each product is a plain [`kernels::gemm`].
pub(crate) fn transpose_into<'b>(
    m: usize,
    n: usize,
    a: &[f32],
    buffer: &'b mut [MaybeUninit<f32>],
) -> &'b [f32] {
    assert!(a.len() == m * n && buffer.len() >= m * n);
    let t = &mut buffer[..m * n];
    for (j, column) in a.chunks_exact(m.max(1)).enumerate().take(n) {
        for (i, &v) in column.iter().enumerate() {
            t[j + i * n] = MaybeUninit::new(v);
        }
    }
    // SAFETY: the loops above wrote `t[j + i·n]` for every `i < m`, `j < n`: all `m·n` values
    // (with `m == 0` or `n == 0` there are none).
    unsafe { assume_init(t) }
}

/// `c (m×n) += a (m×k) · bᵀ` with `b` (n×k), all column-major and contiguous (the weight
/// gradients `∂W += ∂z·xᵀ`): [`kernels::gemm_nt`], on the SIMD kernel when it runs.
pub fn gemm_nt(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == m * k && b.len() == n * k && c.len() == m * n);
    if !kernels::simd() || m == 0 || n == 0 || k == 0 {
        kernels::gemm_nt(m, k, n, a, b, c);
        return;
    }
    // Not zeroed first: every call writes the part it reads (zeroing 32 KiB per call cost
    // more than the products of a convolution's small blocks).
    let mut bt = [MaybeUninit::<f32>::uninit(); SCRATCH];
    let kc = k.min(256);
    let nc = n.min(SCRATCH / kc);
    for j0 in (0..n).step_by(nc) {
        let nb = nc.min(n - j0);
        for p0 in (0..k).step_by(kc) {
            let kb = kc.min(k - p0);
            // `bt` (kb × nb): bt[p + j·kb] = b[(j0 + j) + (p0 + p)·n].
            let bt = &mut bt[..kb * nb];
            for p in 0..kb {
                let row = &b[(p0 + p) * n + j0..][..nb];
                for (j, &v) in row.iter().enumerate() {
                    bt[p + j * kb] = MaybeUninit::new(v);
                }
            }
            // SAFETY: the loops above wrote every one of the `kb·nb` values.
            let bt = unsafe { assume_init(bt) };
            kernels::gemm(
                m,
                kb,
                nb,
                &a[p0 * m..(p0 + kb) * m],
                bt,
                &mut c[j0 * m..(j0 + nb) * m],
                true,
            );
        }
    }
}

/// `c (m×n) += aᵀ · b` with `a` (k×m) and `b` (k×n), all column-major and contiguous (the input
/// gradients `∂x += Wᵀ·∂z`): [`kernels::gemm_tn`], on the SIMD kernel when it runs, as
/// `cᵀ = bᵀ · a` over chunks of `bᵀ`, with each chunk of `cᵀ` added back transposed.
pub fn gemm_tn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == k * m && b.len() == k * n && c.len() == m * n);
    if !kernels::simd() || m == 0 || n == 0 || k == 0 || k > SCRATCH {
        kernels::gemm_tn(m, k, n, a, b, c);
        return;
    }
    let mut bt = [MaybeUninit::<f32>::uninit(); SCRATCH];
    let mut ct = [MaybeUninit::<f32>::uninit(); SCRATCH];
    let nc = n.min(SCRATCH / k);
    let mc = m.min(SCRATCH / nc);
    for j0 in (0..n).step_by(nc) {
        let nb = nc.min(n - j0);
        // `bt` (nb × k): bt[j + p·nb] = b[p + (j0 + j)·k].
        let bt = &mut bt[..nb * k];
        for j in 0..nb {
            for (p, &v) in b[(j0 + j) * k..][..k].iter().enumerate() {
                bt[j + p * nb] = MaybeUninit::new(v);
            }
        }
        // SAFETY: the loops above wrote every one of the `nb·k` values.
        let bt = unsafe { assume_init(bt) };
        for i0 in (0..m).step_by(mc) {
            let mb = mc.min(m - i0);
            let ct = &mut ct[..nb * mb];
            ct.fill(MaybeUninit::new(0.0));
            // SAFETY: just written.
            let ct = unsafe { assume_init_mut(ct) };
            kernels::gemm(nb, k, mb, bt, &a[i0 * k..(i0 + mb) * k], ct, true);
            // ct[j + i·nb] is c[(i0 + i) + (j0 + j)·m].
            for j in 0..nb {
                let col = &mut c[(j0 + j) * m + i0..][..mb];
                for (i, v) in col.iter_mut().enumerate() {
                    *v += ct[j + i * nb];
                }
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> std::vec::Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
            })
            .collect()
    }

    /// Each product against the portable loops, on shapes that take every chunking path.
    #[test]
    fn products_match_the_portable_loops() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (10, 32, 128),
            (128, 32, 784),
            (16, 300, 40),
            (64, 256, 11),
            (256, 16, 64),
            (5, 9000, 3),
        ] {
            let a = values(m * k, 1);
            let b = values(n * k, 2);
            let c0 = values(m * n, 3);
            let (mut got, mut want) = (c0.clone(), c0.clone());
            gemm_nt(m, k, n, &a, &b, &mut got);
            kernels::gemm_nt(m, k, n, &a, &b, &mut want);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs().max(1.0) * (k as f32).sqrt(),
                    "nt {m}×{k}×{n}: {g} vs {w}"
                );
            }
            let (mut got, mut want) = (c0.clone(), c0);
            gemm_tn(m, k, n, &a, &b, &mut got);
            kernels::gemm_tn(m, k, n, &a, &b, &mut want);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs().max(1.0) * (k as f32).sqrt(),
                    "tn {m}×{k}×{n}: {g} vs {w}"
                );
            }
        }
    }
}
