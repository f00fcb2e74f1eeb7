//! The SIMD depthwise kernel, written once over [`Vector`] and compiled per instruction set by
//! [`crate::kernels::run_simd`].
//!
//! It walks the output positions as [`super::depthwise_body`] does, an output row at a time:
//! the interior (windows inside the input, with constant 3×3 and 5×5 tap loops) and the borders
//! (clipped tap ranges). Channels go in blocks of up to four vectors (`4 · V::LANES` channels,
//! then 3, 2 or 1 full vectors, then one masked vector for the rest), and the interior takes
//! several positions of a block at once (2 with 3 or 4 vectors, 4 with 1 or 2), so that each
//! load of the kernel feeds that many fused multiply-adds.
//!
//! Each lane sums its taps in the portable order (row by row, tap by tap, the bias last), with
//! one fused multiply-add per tap: its results differ from the portable kernel's in the last bits,
//! but do not depend on the instruction set, on the block a channel or position falls in, or on
//! how a caller splits the positions and channels.

use super::DepthwiseGeometry;
use crate::kernels::vector::{Kernel, Vector};
use crate::Epilogue;

/// [`super::depthwise`]'s arguments, run as the SIMD kernel.
pub(super) struct Depthwise<'a> {
    pub g: &'a DepthwiseGeometry,
    pub x: &'a [f32],
    pub kernel: &'a [f32],
    pub bias: Option<&'a [f32]>,
    /// Applied after the bias, to the output channels `c·M + m` (all of them: `channels` is
    /// the whole range when it is not [`Epilogue::NONE`]).
    pub e: &'a Epilogue<'a>,
    pub positions: (usize, usize),
    pub channels: (usize, usize),
    pub out: &'a mut [f32],
}

/// One output row and what it reads.
struct Row<'a> {
    g: &'a DepthwiseGeometry,
    x: &'a [f32],
    kernel: &'a [f32],
    bias: Option<&'a [f32]>,
    e: &'a Epilogue<'a>,
    oh: usize,
    /// The input channels computed, `c0..c1`.
    channels: (usize, usize),
}

/// Kernel rows `i0..i1` and columns `j0..j1` (the taps that read the input), and the kernel's
/// width `kw`.
type Taps = ((usize, usize), (usize, usize), usize);

impl Kernel for Depthwise<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let Depthwise {
            g,
            x,
            kernel,
            bias,
            e,
            positions: (p0, n),
            channels: (c0, c1),
            out,
        } = self;
        // Every pointer below is in bounds because of these sizes (checked once per call), the
        // taps' ranges (`interior` and `taps_inside` give taps that read the input) and the
        // blocks' channels (inside `c0..c1`).
        assert!(
            g.fits(x, kernel, bias, (p0, n), (c0, c1), out)
                && V::LANES <= 16
                && e.fits(g.channels * g.multiplier)
                && (e.is_none() || (c0, c1) == (0, g.channels))
        );
        let (rows, cols) = (g.rows, g.cols);
        let stride = (c1 - c0) * g.multiplier;
        let (r0, r1) = rows.interior();
        let (k0, k1) = cols.interior();
        let (mut oh, mut ow) = (p0 / cols.out, p0 % cols.out);
        let mut done = 0;
        while done < n {
            // The rest of the current output row: its interior columns `a..b`, the borders
            // around them.
            let run = (n - done).min(cols.out - ow);
            let end = ow + run;
            let (a, b) = if r0 <= oh && oh < r1 {
                (k0.clamp(ow, end), k1.clamp(ow, end))
            } else {
                (end, end)
            };
            let row = Row {
                g,
                x,
                kernel,
                bias,
                e,
                oh,
                channels: (c0, c1),
            };
            let dst = &mut out[done * stride..][..run * stride];
            let rows_in = rows.taps_inside(oh);
            for w in (ow..a).chain(b..end) {
                let taps = (rows_in, cols.taps_inside(w), cols.k);
                columns::<V>(t, &row, taps, (w, w + 1), ow, dst);
            }
            if a < b {
                match (rows.k, cols.k) {
                    (3, 3) => columns::<V>(t, &row, ((0, 3), (0, 3), 3), (a, b), ow, dst),
                    (5, 5) => columns::<V>(t, &row, ((0, 5), (0, 5), 5), (a, b), ow, dst),
                    (1, 3) => columns::<V>(t, &row, ((0, 1), (0, 3), 3), (a, b), ow, dst),
                    (kh, kw) => columns::<V>(t, &row, ((0, kh), (0, kw), kw), (a, b), ow, dst),
                }
            }
            done += run;
            ow = 0;
            oh += 1;
        }
    }
}

/// Output columns `w0..w1` of the row, which all read the input at `taps`: every multiplier and
/// channel, into `dst` (the row's outputs from column `first`, in Keras's channel order).
#[inline(always)]
fn columns<V: Vector>(
    t: V::Token,
    row: &Row<'_>,
    taps: Taps,
    (w0, w1): (usize, usize),
    first: usize,
    dst: &mut [f32],
) {
    let l = V::LANES;
    let (c0, c1) = row.channels;
    for m in 0..row.g.multiplier {
        let mut c = c0;
        while c + 4 * l <= c1 {
            stretch::<V, 4, 2, false>(t, row, taps, m, c, l, (w0, w1), first, dst);
            c += 4 * l;
        }
        match (c1 - c) / l {
            3 => stretch::<V, 3, 2, false>(t, row, taps, m, c, l, (w0, w1), first, dst),
            2 => stretch::<V, 2, 4, false>(t, row, taps, m, c, l, (w0, w1), first, dst),
            1 => stretch::<V, 1, 4, false>(t, row, taps, m, c, l, (w0, w1), first, dst),
            _ => {}
        }
        c += (c1 - c) / l * l;
        if c < c1 {
            stretch::<V, 1, 4, true>(t, row, taps, m, c, c1 - c, (w0, w1), first, dst);
        }
    }
}

/// One block of channels (`U` vectors from `c`, or with `MASKED` the first `lanes` of one) of
/// multiplier `m` over columns `w0..w1`: `P` columns at a time, then one at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn stretch<V: Vector, const U: usize, const P: usize, const MASKED: bool>(
    t: V::Token,
    row: &Row<'_>,
    taps: Taps,
    m: usize,
    c: usize,
    lanes: usize,
    (w0, w1): (usize, usize),
    first: usize,
    dst: &mut [f32],
) {
    let mut w = w0;
    while w + P <= w1 {
        block::<V, U, P, MASKED>(t, row, taps, m, c, lanes, w, first, dst);
        w += P;
    }
    while w < w1 {
        block::<V, U, 1, MASKED>(t, row, taps, m, c, lanes, w, first, dst);
        w += 1;
    }
}

/// Columns `w..w + P` of one block of channels: `U·P` sums in registers over the taps, each
/// load of the kernel shared by the `P` columns.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block<V: Vector, const U: usize, const P: usize, const MASKED: bool>(
    t: V::Token,
    row: &Row<'_>,
    ((i0, i1), (j0, j1), kw): Taps,
    m: usize,
    c: usize,
    lanes: usize,
    w: usize,
    first: usize,
    dst: &mut [f32],
) {
    let g = row.g;
    let (rows, cols) = (g.rows, g.cols);
    let channels = g.channels;
    let multiplier = g.multiplier;
    let width = channels * multiplier;
    let l = V::LANES;
    let lane = m * channels + c; // this block's offset within one tap of the kernel
    let mask = V::mask(t, lanes);
    let load = |p: *const f32| -> V {
        // SAFETY: every caller passes a pointer to one vector of the block's channels (or the
        // mask's `lanes` of them) within one position of `x`, one tap of `kernel` or `bias`.
        unsafe {
            if MASKED {
                V::load_masked(t, p, mask)
            } else {
                V::load(t, p)
            }
        }
    };
    let (xp, kp) = (row.x.as_ptr(), row.kernel.as_ptr());
    let step = cols.stride * channels; // from one column's window to the next
    let mut acc = [[V::zero(t); U]; P];
    for i in i0..i1 {
        let ih = row.oh * rows.stride + i * rows.dilation - rows.before;
        for j in j0..j1 {
            let iw = w * cols.stride + j * cols.dilation - cols.before;
            // Input position (ih, iw + p·stride) exists for each column `p` (the taps read the
            // input for all `P` columns), its channels `c..` are the block's; tap (i, j) of the
            // kernel holds `width` values from `(i·kw + j)·width`.
            let xo = (ih * cols.n + iw) * channels + c;
            let ko = (i * kw + j) * width + lane;
            let mut kv = [V::zero(t); U];
            for (u, kv) in kv.iter_mut().enumerate() {
                // SAFETY: vector `u` of the block, inside tap (i, j) of `kernel`.
                *kv = load(unsafe { kp.add(ko + u * l) });
            }
            for (p, acc) in acc.iter_mut().enumerate() {
                for (u, (acc, &kv)) in acc.iter_mut().zip(&kv).enumerate() {
                    // SAFETY: vector `u` of the block, at column `p`'s input position.
                    let xv = load(unsafe { xp.add(xo + p * step + u * l) });
                    *acc = V::fmadd(xv, kv, *acc);
                }
            }
        }
    }
    if let Some(bias) = row.bias {
        for u in 0..U {
            // SAFETY: the bias is laid out like one tap of the kernel (`width` values).
            let bv = load(unsafe { bias.as_ptr().add(lane + u * l) });
            for acc in acc.iter_mut() {
                acc[u] = V::add(acc[u], bv);
            }
        }
    }
    let (c0, c1) = row.channels;
    let stride = (c1 - c0) * multiplier;
    for (p, acc) in acc.iter().enumerate() {
        let at = (w + p - first) * stride;
        if multiplier == 1 {
            let d = &mut dst[at + c - c0..][..if MASKED { lanes } else { U * l }];
            let dp = d.as_mut_ptr();
            for (u, &acc) in acc.iter().enumerate() {
                // SAFETY: `d` holds the block's `U·LANES` (masked: `lanes`) values; with one
                // multiplier the output channels are the input channels `c + u·l ..`, whose
                // factors the epilogue holds (all channels: checked in `run`).
                unsafe {
                    let acc = row.e.vector(t, acc, c + u * l, load);
                    if MASKED {
                        V::store_masked(dp, mask, acc);
                    } else {
                        V::store(dp.add(u * l), acc);
                    }
                }
            }
        } else {
            let count = if MASKED { lanes } else { l };
            for (u, &acc) in acc.iter().enumerate() {
                let mut values = [0.0f32; 16];
                // SAFETY: `LANES ≤ 16` (checked in `run`): the array holds one vector.
                unsafe { V::store(values.as_mut_ptr(), acc) };
                for (b, &v) in values[..count].iter().enumerate() {
                    // Output channel `q`, the epilogue's too (all channels: `c0 = 0`).
                    let q = (c + u * l + b) * multiplier + m;
                    dst[at + (c - c0 + u * l + b) * multiplier + m] = row.e.scalar(v, q);
                }
            }
        }
    }
}
