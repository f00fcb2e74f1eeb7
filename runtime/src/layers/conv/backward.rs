//! The convolution's backward pass, as matrix products over the same packed kernel the forward
//! pass reads (see [`super::kernel`]).
//!
//! The forward pass is `z (F × positions) = A (F × taps·channels) · B`, with `B` the input
//! windows (im2col). Backward, for a bounded panel of `B` (a few positions, a chunk of rows) at a
//! time and for every block of `MR` filters of the packed kernel:
//! - `∂A_block += ∂z_block · Bᵀ` ([`gemm_nt`]), written straight into the gradient's packed block
//!   (the gradient has the kernel's layout: the packing is a permutation, so there is no padding
//!   to keep at zero);
//! - `∂B += A_blockᵀ · ∂z_block` ([`gemm_tn`]), then every column of `∂B` is added back into the
//!   input values its window read (col2im: a transposed convolution); padding rows are dropped.

use super::kernel::{ConvGeometry, MR};
use crate::kernels::{gemm, gemm_nt, gemm_tn};
use crate::train::products::zeroed_prefix;
use core::mem::MaybeUninit;

/// Floats of a panel (`rows × positions`): 4 KiB on a microcontroller, 16 KiB on a host.
#[cfg(target_arch = "arm")]
const PANEL: usize = 1024;
#[cfg(not(target_arch = "arm"))]
const PANEL: usize = 4096;
/// Rows (taps × channels) of a panel at most.
#[cfg(target_arch = "arm")]
const ROWS: usize = 128;
#[cfg(not(target_arch = "arm"))]
const ROWS: usize = 256;
/// Positions of a panel at most.
#[cfg(target_arch = "arm")]
const COLS: usize = 16;
#[cfg(not(target_arch = "arm"))]
const COLS: usize = 64;

/// Adds the gradients of `z = conv(x, kernel)` given `dz = ∂loss/∂z` (Keras order, `F` values
/// per output position): `∂x` into `dx` and `∂kernel` (packed like `kernel`) into `dkernel`,
/// each when given. The bias's gradient is the sum of `dz` over the positions (the caller's).
pub fn backward(
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    dz: &[f32],
    mut dx: Option<&mut [f32]>,
    mut dkernel: Option<&mut [f32]>,
) {
    let w = Walk::new(g);
    assert!(
        x.len() == w.inputs()
            && kernel.len() == w.depth * w.f
            && dz.len() == w.positions * w.f
            && dx.as_ref().is_none_or(|d| d.len() == x.len())
            && dkernel.as_ref().is_none_or(|d| d.len() == kernel.len())
    );
    if dx.is_none() && dkernel.is_none() {
        return;
    }
    if crate::kernels::simd() {
        backward_rows(&w, x, kernel, dz, dx, dkernel);
        return;
    }
    let mut panel = [0.0f32; PANEL];
    let mut dpanel = [0.0f32; PANEL];
    let mut dzb = [0.0f32; MR * COLS];
    for (p0, at) in w.panels() {
        let (at, n) = (&at.at[..at.n], at.n);
        for grp in 0..g.groups {
            for (k0, kb) in w.chunks() {
                let (b, db) = (&mut panel[..kb * n], &mut dpanel[..kb * n]);
                if dkernel.is_some() {
                    windows(g, at, grp, k0, kb, |j, r, len, src| {
                        let col = &mut b[j * kb + r..][..len];
                        match src {
                            Some(i) => col.copy_from_slice(&x[i..i + len]),
                            None => col.fill(0.0),
                        }
                    });
                }
                db.fill(0.0);
                for (f0, m) in w.blocks(0, w.f_g) {
                    let ch = grp * w.f_g + f0;
                    let dzb = &mut dzb[..m * n];
                    for (j, col) in dzb.chunks_exact_mut(m).enumerate() {
                        col.copy_from_slice(&dz[(p0 + j) * w.f + ch..][..m]);
                    }
                    let sub = w.block_rows(ch, m, k0, kb);
                    if let Some(dk) = dkernel.as_deref_mut() {
                        gemm_nt(m, n, kb, dzb, b, &mut dk[sub.clone()]);
                    }
                    if dx.is_some() {
                        gemm_tn(kb, m, n, &kernel[sub], dzb, db);
                    }
                }
                if let Some(dx) = dx.as_deref_mut() {
                    windows(g, at, grp, k0, kb, |j, r, len, src| {
                        if let Some(i) = src {
                            for (d, v) in dx[i..i + len].iter_mut().zip(&db[j * kb + r..]) {
                                *d += v;
                            }
                        }
                    });
                }
            }
        }
    }
}

/// One convolution's sizes as the backward passes walk them: per group `cin_g` channels in and
/// `f_g` filters out, `depth` rows (taps × channels) of the packed kernel per filter,
/// `positions` outputs, and `np` positions per panel (as many as `PANEL` holds at a chunk's
/// rows, at most `COLS`).
struct Walk<'g> {
    g: &'g ConvGeometry,
    f_g: usize,
    f: usize,
    depth: usize,
    positions: usize,
    np: usize,
}

/// The output positions of one panel: `n` of them, at `at[j] = (od, oh, ow)`.
struct Positions {
    n: usize,
    at: [[usize; 3]; COLS],
}

impl<'g> Walk<'g> {
    fn new(g: &'g ConvGeometry) -> Self {
        let [ad, ah, aw] = g.axes;
        let depth = ad.k * ah.k * aw.k * (g.cin / g.groups);
        Walk {
            g,
            f_g: g.filters / g.groups,
            f: g.filters,
            depth,
            positions: ad.out * ah.out * aw.out,
            np: (PANEL / depth.min(ROWS)).clamp(1, COLS),
        }
    }

    /// The input's length.
    fn inputs(&self) -> usize {
        let [ad, ah, aw] = self.g.axes;
        ad.n * ah.n * aw.n * self.g.cin
    }

    /// The panels of positions in order: `(p0, positions p0..p0 + n)`.
    fn panels(&self) -> impl Iterator<Item = (usize, Positions)> + '_ {
        let [_, ah, aw] = self.g.axes;
        (0..self.positions).step_by(self.np).map(move |p0| {
            let n = self.np.min(self.positions - p0);
            let mut at = [[0usize; 3]; COLS];
            for (j, a) in at.iter_mut().enumerate().take(n) {
                let p = p0 + j;
                *a = [p / (ah.out * aw.out), p / aw.out % ah.out, p % aw.out];
            }
            (p0, Positions { n, at })
        })
    }

    /// The chunks of at most `ROWS` rows: `(k0, kb)`.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.depth)
            .step_by(ROWS)
            .map(move |k0| (k0, ROWS.min(self.depth - k0)))
    }

    /// The blocks of at most `MR` filters of a group's filters `from..to` (`from` a multiple of
    /// `MR`, as the packed kernel's blocks are): `(f0, m)`.
    fn blocks(&self, from: usize, to: usize) -> impl Iterator<Item = (usize, usize)> {
        (from..to).step_by(MR).map(move |f0| (f0, MR.min(to - f0)))
    }

    /// Rows `k0..k0 + kb` of the packed block of the `m` filters from channel `ch`: columns of
    /// its column-major `m × depth` matrix.
    fn block_rows(&self, ch: usize, m: usize, k0: usize, kb: usize) -> core::ops::Range<usize> {
        ch * self.depth + k0 * m..ch * self.depth + (k0 + kb) * m
    }
}

/// Floats of [`backward_rows`]'s transposed kernel gradient (rows of a chunk × a range of
/// filters; 64 KiB: 64 filters at `ROWS` rows, more at fewer rows).
const KERNEL_T: usize = 16384;

/// [`backward`] with the SIMD kernels, rows (taps × channels) outermost: for every chunk of at
/// most `ROWS` rows and every range of a group's filters whose gradient fits `KERNEL_T` (all of
/// them up to 64 filters), the panels of all positions in turn, each packed as the portable path
/// packs it (the windows' channel runs copied whole, `panel[r + j·kb]`), and `∂z`'s block
/// transposed (`∂zᵀ[j + i·n]`, read straight from `dz`). Both products are [`gemm`] calls on the
/// SIMD matrix kernel:
/// - `∂Aᵀ (kb × m) += panel (kb × n) · ∂z_blockᵀ (n × m)`, summed over all the position panels
///   in a buffer and added into the packed gradient, transposed, once per chunk of rows and range
///   of filters (instead of transposing every panel);
/// - `∂panelᵀ (n × kb) += ∂z_blockᵀ (n × m) · A_block (m × kb)`, then added back into the input
///   values its windows read (col2im).
///
/// The portable path keeps its loops (and so the microcontroller's bits).
fn backward_rows(
    w: &Walk<'_>,
    x: &[f32],
    kernel: &[f32],
    dz: &[f32],
    mut dx: Option<&mut [f32]>,
    mut dkernel: Option<&mut [f32]>,
) {
    let g = w.g;
    // Not zeroed whole: each use zeroes the part it takes (zeroing the whole buffers on every
    // call, per sample, was a visible share of a small convolution's step).
    let mut panel = [MaybeUninit::<f32>::uninit(); PANEL];
    let mut dpanel = [MaybeUninit::<f32>::uninit(); PANEL];
    let mut dzb_t = [MaybeUninit::<f32>::uninit(); MR * COLS];
    let mut dkt = [MaybeUninit::<f32>::uninit(); KERNEL_T];
    for grp in 0..g.groups {
        for (k0, kb) in w.chunks() {
            // Whole blocks of filters per range (`kb·MR ≤ ROWS·MR ≤ KERNEL_T`).
            let range = (KERNEL_T / kb / MR * MR).max(MR);
            for from in (0..w.f_g).step_by(range) {
                let to = w.f_g.min(from + range);
                // `∂Aᵀ` of rows k0..k0 + kb, filters from..to: dkt[r + (f0 − from)·kb].
                let dkt = zeroed_prefix(
                    &mut dkt,
                    if dkernel.is_some() {
                        kb * (to - from)
                    } else {
                        0
                    },
                );
                for (p0, at) in w.panels() {
                    let (at, n) = (&at.at[..at.n], at.n);
                    let b = zeroed_prefix(&mut panel, if dkernel.is_some() { kb * n } else { 0 });
                    if dkernel.is_some() {
                        windows(g, at, grp, k0, kb, |j, r, len, src| {
                            if let Some(i) = src {
                                b[j * kb + r..][..len].copy_from_slice(&x[i..i + len]);
                            }
                        });
                    }
                    let db = zeroed_prefix(&mut dpanel, if dx.is_some() { kb * n } else { 0 });
                    for (f0, m) in w.blocks(from, to) {
                        let ch = grp * w.f_g + f0;
                        let dzb_t = zeroed_prefix(&mut dzb_t, m * n);
                        for (j, row) in dz[p0 * w.f..(p0 + n) * w.f].chunks_exact(w.f).enumerate() {
                            for (i, &v) in row[ch..ch + m].iter().enumerate() {
                                dzb_t[j + i * n] = v;
                            }
                        }
                        if dkernel.is_some() {
                            let dkt = &mut dkt[(f0 - from) * kb..(f0 - from + m) * kb];
                            gemm(kb, n, m, b, dzb_t, dkt, true);
                        }
                        if dx.is_some() {
                            let sub = w.block_rows(ch, m, k0, kb);
                            gemm(n, m, kb, dzb_t, &kernel[sub], db, true);
                        }
                    }
                    if let Some(dx) = dx.as_deref_mut() {
                        windows(g, at, grp, k0, kb, |j, r, len, src| {
                            if let Some(i) = src {
                                for (t, d) in dx[i..i + len].iter_mut().enumerate() {
                                    *d += db[j + (r + t) * n];
                                }
                            }
                        });
                    }
                }
                if let Some(dk) = dkernel.as_deref_mut() {
                    for (f0, m) in w.blocks(from, to) {
                        let block = &mut dk[w.block_rows(grp * w.f_g + f0, m, k0, kb)];
                        for (r, column) in block.chunks_exact_mut(m).enumerate() {
                            for (i, d) in column.iter_mut().enumerate() {
                                *d += dkt[r + (f0 - from + i) * kb];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Walks rows `k0..k0 + kb` (tap × channel of group `grp`) of the windows of the positions `at`
/// in runs of one tap's channels: calls `f(j, r, len, src)` for position `j` and the run of
/// `len` rows starting at `r` (relative to `k0`), with `src` the input index of its first value,
/// or `None` where the tap reads padding.
fn windows(
    g: &ConvGeometry,
    at: &[[usize; 3]],
    grp: usize,
    k0: usize,
    kb: usize,
    mut f: impl FnMut(usize, usize, usize, Option<usize>),
) {
    let [ad, ah, aw] = g.axes;
    let cin_g = g.cin / g.groups;
    for (j, &[od, oh, ow]) in at.iter().enumerate() {
        let mut r = 0;
        while r < kb {
            let (tap, c) = ((k0 + r) / cin_g, (k0 + r) % cin_g);
            let len = (cin_g - c).min(kb - r);
            let (kd, kh, kw) = (tap / (ah.k * aw.k), tap / aw.k % ah.k, tap % aw.k);
            let src = match (
                ad.input_index(od, kd),
                ah.input_index(oh, kh),
                aw.input_index(ow, kw),
            ) {
                (Some(id), Some(ih), Some(iw)) => {
                    Some(((id * ah.n + ih) * aw.n + iw) * g.cin + grp * cin_g + c)
                }
                _ => None,
            };
            f(j, r, len, src);
            r += len;
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::kernels::{with, Kernels};
    use crate::shape::{AxisGeometry, Padding};
    use std::vec::Vec;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 2654435761 + seed * 97) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// `(∂x, ∂kernel)` of one geometry by `f`, from nonzero starting values (both are added into).
    fn grads(
        g: &ConvGeometry,
        f: impl Fn(&ConvGeometry, &[f32], &[f32], &[f32], &mut [f32], &mut [f32]),
    ) -> (Vec<f32>, Vec<f32>) {
        let [ad, ah, aw] = g.axes;
        let depth = ad.k * ah.k * aw.k * g.cin / g.groups;
        let x = values(ad.n * ah.n * aw.n * g.cin, 1);
        let kernel = values(depth * g.filters, 2);
        let dz = values(ad.out * ah.out * aw.out * g.filters, 3);
        let (mut dx, mut dk) = (values(x.len(), 4), values(kernel.len(), 5));
        f(g, &x, &kernel, &dz, &mut dx, &mut dk);
        (dx, dk)
    }

    /// The SIMD path (rows outermost) gives the portable loops' gradients, on geometries with
    /// padding, strides, dilation, groups, more rows than a chunk, filters not a multiple of the
    /// block, more filters than one range of its kernel-gradient buffer, and more positions than
    /// a panel.
    #[test]
    fn simd_paths_match_the_portable_loops() {
        let axis = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = axis(1, 1, 1, 1, Padding::Valid);
        let cases = [
            // M5's second convolution; a first one with "same" padding.
            ([one, one, axis(64, 3, 1, 1, Padding::Valid)], 32, 32, 1),
            ([one, one, axis(128, 5, 1, 1, Padding::Same)], 8, 32, 1),
            // 2-D, 288 rows (two chunks), 40 filters (a short last block).
            (
                [
                    one,
                    axis(9, 3, 1, 1, Padding::Valid),
                    axis(9, 3, 1, 1, Padding::Valid),
                ],
                32,
                40,
                1,
            ),
            // 216 rows, 104 filters: two ranges (16384 / 216 = 75 filters, whole blocks of them).
            (
                [
                    one,
                    axis(6, 3, 1, 1, Padding::Same),
                    axis(6, 3, 1, 1, Padding::Valid),
                ],
                24,
                104,
                1,
            ),
            // 72 rows, 300 filters: two ranges of 224 and 76.
            (
                [
                    one,
                    axis(5, 3, 1, 1, Padding::Valid),
                    axis(5, 3, 1, 1, Padding::Valid),
                ],
                8,
                300,
                1,
            ),
            // Strides, dilation, groups.
            (
                [
                    one,
                    axis(11, 3, 2, 1, Padding::Same),
                    axis(10, 2, 1, 2, Padding::Valid),
                ],
                6,
                9,
                3,
            ),
            // 3-D.
            (
                [
                    axis(4, 2, 1, 1, Padding::Valid),
                    axis(5, 3, 2, 1, Padding::Same),
                    axis(6, 2, 1, 1, Padding::Valid),
                ],
                4,
                5,
                1,
            ),
        ];
        for (axes, cin, filters, groups) in cases {
            let g = ConvGeometry {
                axes,
                cin,
                filters,
                groups,
            };
            let want = with(Kernels::Portable, || {
                grads(&g, |g, x, k, dz, dx, dk| {
                    backward(g, x, k, dz, Some(dx), Some(dk))
                })
            });
            let rows = grads(&g, |g, x, k, dz, dx, dk| {
                backward_rows(&Walk::new(g), x, k, dz, Some(dx), Some(dk))
            });
            // Each gradient alone, too.
            let dx_only = grads(&g, |g, x, k, dz, dx, _| {
                backward_rows(&Walk::new(g), x, k, dz, Some(dx), None)
            });
            let dk_only = grads(&g, |g, x, k, dz, _, dk| {
                backward_rows(&Walk::new(g), x, k, dz, None, Some(dk))
            });
            let close = |got: &[f32], want: &[f32], what: &str| {
                assert_eq!(got.len(), want.len());
                for (i, (a, b)) in got.iter().zip(want).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                        "{what} {axes:?} [{i}]: {a} vs {b}"
                    );
                }
            };
            close(&rows.0, &want.0, "rows dx");
            close(&rows.1, &want.1, "rows dkernel");
            close(&dx_only.0, &want.0, "rows dx only");
            close(&dk_only.1, &want.1, "rows dkernel only");
        }
    }
}
