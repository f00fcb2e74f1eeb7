//! Matrix kernels shared by the layers. Column-major throughout, as nalgebra stores matrices.

/// `c (m×n) = a (m×k) · b (k×n) + (c if accumulate)`, all column-major and contiguous.
///
/// A matrix-vector product (`n == 1`) runs as a sequence of AXPYs over the contiguous columns of
/// `a`, which vectorises and skips GEMM packing; larger products go to `matrixmultiply`'s
/// cache-blocked SIMD kernel, which nalgebra itself only uses for dynamically sized matrices.
#[inline]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    if !accumulate {
        c.fill(0.0);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    if n == 1 {
        for (col, &x) in a.chunks_exact(m).zip(b) {
            for (y, &w) in c.iter_mut().zip(col) {
                *y += w * x;
            }
        }
        return;
    }
    // SAFETY: the lengths were checked above and the strides describe contiguous column-major
    // m×k, k×n and m×n matrices inside those slices; `c` does not alias `a` or `b` (it is `&mut`).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            1,
            m as isize,
            b.as_ptr(),
            1,
            k as isize,
            1.0,
            c.as_mut_ptr(),
            1,
            m as isize,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::gemm;

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
        let a: [f32; 12] = core::array::from_fn(|i| i as f32 * 0.5 - 2.0);
        let b: [f32; 12] = core::array::from_fn(|i| 1.0 - i as f32 * 0.25);
        for (m, k, n) in [(3, 4, 3), (4, 3, 1), (2, 6, 2), (12, 1, 1)] {
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
}
