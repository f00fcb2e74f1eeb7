//! The SIMD depthwise kernel over a zero-padded copy of the input: for a depth multiplier of 1
//! and 3×3 or 5×5 windows, the common case of MobileNets and DS-CNNs.
//!
//! [`super::simd`] walks the positions and clips the taps of every border position, which on
//! small maps (the DS-CNN's 25×5, where 45% of the positions touch the border) costs more than
//! the arithmetic. Here, for one vector of channels at a time, the input rows the positions read
//! are copied into a stack buffer with the padding written out as zeros (`LANES` values per
//! position), so that every output position reads its whole window with the same unrolled tap
//! loop: the window's weights stay in registers, and eight (four with 16 registers) positions
//! go at once, across rows. For 3×3 windows with stride 1 (and 32 registers), two output rows
//! go at once instead, five positions of each ([`PAIR_COLUMNS`]): each input vector is loaded
//! once for the up to six sums that read it (the DS-CNN 3.5% faster).
//!
//! It runs only where the whole padded map of one vector fits the buffer. On larger maps the
//! copy costs more than the clipping saves: with bands of rows that fit, MobileNetV2-0.35's
//! 48×48 and 24×24 layers (halo rows copied again per band, four input positions copied per
//! output position at stride 2) made the model 2.5% slower, while the DS-CNN, all of whose maps
//! fit, gained 11%.
//!
//! Each lane sums every tap of the window in the portable order (row by row, tap by tap), one
//! fused multiply-add per tap, then adds the bias and applies the epilogue in the store, as
//! [`super::simd`] does. A tap in the padding
//! adds `0·w`, which leaves a finite sum as it was: the results are [`super::simd`]'s bits,
//! except where Keras's own zero padding shows through (a weight of ±∞ or NaN on a tap in the
//! padding gives NaN, as in Keras, where the clipped kernel skips it) and for the sign of a
//! zero sum.

use super::simd::Depthwise;
use super::DepthwiseGeometry;
use crate::epilogue::Loaded;
use crate::kernels::vector::{Kernel, Vector};
use crate::Aligned;

/// The buffer's size in f32 values (16 KiB, so that it stays in the L1 cache while the sums read
/// it): the band of padded input rows of one vector of channels.
const SCRATCH: usize = 4 * 1024;
/// Positions of each of the two rows [`Block::pair`] sums at once: 10 sums, beside the 9 weights
/// and a row of 7 inputs in the 32 registers (the DS-CNN's rows are 5 positions long; with 4 and
/// a second, overlapping chunk per row it was 7% slower than with 5).
const PAIR_COLUMNS: usize = 5;
/// The most lanes a vector has (AVX-512).
const MAX_LANES: usize = 16;

/// Whether [`Padded`] runs `g` (with vectors of up to 16 lanes): multiplier 1, a 3×3 or 5×5
/// window, and the padded input rows of all the output rows fitting the buffer.
pub(super) fn applies(g: &DepthwiseGeometry) -> bool {
    let (rows, cols) = (g.rows, g.cols);
    g.multiplier == 1
        && matches!((rows.k, cols.k), (3, 3) | (5, 5))
        && rows.out > 0
        && cols.out > 0
        && rows.reach(rows.out) * cols.reach(cols.out) * MAX_LANES <= SCRATCH
}

/// [`super::depthwise`]'s arguments, run on this kernel where [`applies`] holds; the epilogue
/// is applied in the store, as [`super::simd`] does.
pub(super) struct Padded<'a>(pub Depthwise<'a>);

impl Kernel for Padded<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let d = self.0;
        let g = d.g;
        assert!(
            applies(g)
                && V::LANES <= MAX_LANES
                && g.fits(d.x, d.kernel, d.bias, d.positions, d.channels, d.out)
                && d.e.fits(g.channels)
                && (d.e.is_none() || d.channels == (0, g.channels))
        );
        match g.rows.k {
            3 => run_window::<V, 3>(t, d),
            _ => run_window::<V, 5>(t, d),
        }
    }
}

/// Every vector of channels (the last one masked), band after band of output rows.
#[inline(always)]
fn run_window<V: Vector, const K: usize>(t: V::Token, d: Depthwise<'_>) {
    let g = d.g;
    let l = V::LANES;
    let (p0, n) = d.positions;
    let (c0, c1) = d.channels;
    if n == 0 || c0 == c1 {
        return;
    }
    // Padded columns every window of an output row reads.
    let width = g.cols.reach(g.cols.out);
    let (first_row, last_row) = (p0 / g.cols.out, (p0 + n - 1) / g.cols.out);
    // Not zeroed (a memset of the whole buffer would cost as much as a small map's sums): `fill`
    // writes every value of the band it then reads.
    let mut scratch = core::mem::MaybeUninit::<Aligned<[f32; SCRATCH]>>::uninit();
    let mut c = c0;
    while c < c1 {
        let lanes = (c1 - c).min(l);
        let mask = V::mask(t, lanes);
        let block = Block::<V, K> {
            g,
            c,
            lanes,
            mask,
            weights: weights::<V, K>(t, g, d.kernel, c, lanes),
            bias: d.bias.map(|b| load::<V>(t, b, c, lanes)),
            // SAFETY: with a multiplier of 1 the output channels are the input channels
            // `c..c + lanes`, whose factors the epilogue holds (every channel when it has
            // factors: checked in `run`); the load reads those `lanes` of them.
            epilogue: unsafe {
                d.e.load(t, c, |f| {
                    if lanes == l {
                        V::load(t, f)
                    } else {
                        V::load_masked(t, f, mask)
                    }
                })
            },
            width,
        };
        // The rows the positions read, all in the buffer (by `applies`).
        let band = block.fill(t, d.x, first_row, last_row + 1, &mut scratch);
        block.positions(t, band, first_row, (p0, p0 + n), (p0, c0, c1), &mut *d.out);
        c += lanes;
    }
}

/// One vector of channels `c..c + lanes` and what its sums need.
struct Block<'a, V: Vector, const K: usize> {
    g: &'a DepthwiseGeometry,
    c: usize,
    lanes: usize,
    mask: V::Mask,
    /// The window's weights for these channels, tap by tap.
    weights: [[V; K]; K],
    bias: Option<V>,
    /// The epilogue of these channels, its factors loaded.
    epilogue: Loaded<V>,
    /// Padded columns per row of the buffer.
    width: usize,
}

/// `lanes` values of `values` from `at` as a vector (a full load when `lanes` is the lane count).
#[inline(always)]
fn load<V: Vector>(t: V::Token, values: &[f32], at: usize, lanes: usize) -> V {
    let part = &values[at..at + lanes];
    // SAFETY: `part` holds the `lanes ≤ LANES` values read: all of a full vector, or the
    // mask's lanes.
    unsafe {
        if lanes == V::LANES {
            V::load(t, part.as_ptr())
        } else {
            V::load_masked(t, part.as_ptr(), V::mask(t, lanes))
        }
    }
}

/// The `K × K` weights of channels `c..c + lanes` (the packed kernel of multiplier 1: tap after
/// tap, `channels` values each).
#[inline(always)]
fn weights<V: Vector, const K: usize>(
    t: V::Token,
    g: &DepthwiseGeometry,
    kernel: &[f32],
    c: usize,
    lanes: usize,
) -> [[V; K]; K] {
    let mut w = [[V::zero(t); K]; K];
    for (i, row) in w.iter_mut().enumerate() {
        for (j, w) in row.iter_mut().enumerate() {
            *w = load::<V>(t, kernel, (i * K + j) * g.channels + c, lanes);
        }
    }
    w
}

impl<V: Vector, const K: usize> Block<'_, V, K> {
    /// Copies the padded input rows that output rows `oa..ob` read into `scratch`, `LANES`
    /// values per position (`lanes` of them the channels, the rest whatever the masked load
    /// left), zeros where the row or column is padding; returns them.
    #[inline(always)]
    fn fill<'s>(
        &self,
        t: V::Token,
        x: &[f32],
        oa: usize,
        ob: usize,
        scratch: &'s mut core::mem::MaybeUninit<Aligned<[f32; SCRATCH]>>,
    ) -> &'s [f32] {
        let (rows, cols) = (self.g.rows, self.g.cols);
        let l = V::LANES;
        let len = rows.reach(ob - oa) * self.width * l;
        assert!(len <= SCRATCH);
        let dst = scratch.as_mut_ptr().cast::<f32>();
        let zero = V::zero(t);
        let channels = self.g.channels;
        // The padded columns that read the input: `lo..hi` (the same in every row).
        let lo = cols.before.min(self.width);
        let hi = (cols.before + cols.n).min(self.width);
        let full = self.lanes == l;
        let mut at = 0;
        for r in 0..len / (self.width * l) {
            let ih = (oa * rows.stride + r).wrapping_sub(rows.before);
            // The input row's columns `0..hi − lo` (none in a padding row), channels
            // `c..c + lanes` of each.
            let inside = if ih < rows.n { hi - lo } else { 0 };
            let src = match inside {
                0 => &x[..0],
                _ => &x[ih * cols.n * channels + self.c..][..(inside - 1) * channels + self.lanes],
            };
            let sp = src.as_ptr();
            // One loop for the zeros and the copies: a loop of zeros alone becomes a `memset`
            // call, slower than these few stores.
            for pc in 0..self.width {
                let iw = pc.wrapping_sub(lo);
                // SAFETY: for `iw < inside`, `iw·channels + lanes ≤ src.len()`: all of a full
                // vector, or the mask's lanes. `at + LANES ≤ len ≤ SCRATCH`: the buffer's rows
                // `0..len / (width·l)` of `width` positions of `l` values, written in order.
                unsafe {
                    let v = if iw >= inside {
                        zero
                    } else if full {
                        V::load(t, sp.add(iw * channels))
                    } else {
                        V::load_masked(t, sp.add(iw * channels), self.mask)
                    };
                    V::store(dst.add(at), v);
                }
                at += l;
            }
        }
        // SAFETY: the loops above wrote every one of the first `len = at` values.
        unsafe { core::slice::from_raw_parts(dst, len) }
    }

    /// Flat positions `start..end` (in the band that starts at output row `oa`, whose padded
    /// rows are `band`) into `out` (positions from `p0`, channels `c0..c1`): several positions
    /// at once, across rows (a DS-CNN's rows are 5 positions long).
    #[inline(always)]
    fn positions(
        &self,
        t: V::Token,
        band: &[f32],
        oa: usize,
        (start, end): (usize, usize),
        (p0, c0, c1): (usize, usize, usize),
        out: &mut [f32],
    ) {
        let cols = self.g.cols;
        let mut p = start;
        if self.pairs_apply() {
            // Pairs of whole output rows inside `start..end`; the positions before and after
            // them one by one below.
            let first = start.div_ceil(cols.out);
            let rows = (end / cols.out).saturating_sub(first) / 2 * 2;
            if rows > 0 {
                let from = first * cols.out;
                self.singles(t, band, oa, (start, from), (p0, c0, c1), out);
                for oh in (first..first + rows).step_by(2) {
                    let row = oh * cols.out;
                    let mut ow = 0;
                    while ow < cols.out {
                        // The last chunk of a row may overlap the one before (its positions
                        // are computed twice, to the same bits).
                        let at = ow.min(cols.out - PAIR_COLUMNS);
                        let [upper, lower] = self.pair(t, band, oa, (oh, at));
                        self.store(t, &upper, row + at, (p0, c0, c1), out);
                        self.store(t, &lower, row + cols.out + at, (p0, c0, c1), out);
                        ow = at + PAIR_COLUMNS;
                    }
                }
                p = (first + rows) * cols.out;
            }
        }
        self.singles(t, band, oa, (p, end), (p0, c0, c1), out);
    }

    /// Flat positions `start..end`, as [`Block::positions`], by [`Block::window`].
    #[inline(always)]
    fn singles(
        &self,
        t: V::Token,
        band: &[f32],
        oa: usize,
        (start, end): (usize, usize),
        (p0, c0, c1): (usize, usize, usize),
        out: &mut [f32],
    ) {
        let cols = self.g.cols;
        let mut p = start;
        // The output row and column of position `p`, stepped without divisions.
        let mut cursor = (p / cols.out, p % cols.out);
        // Eight sums in flight cover the latency of the multiply-adds where the registers hold
        // them beside the weights (32 registers); four otherwise.
        if V::REGISTERS >= 32 {
            while p + 8 <= end {
                let sums = self.window::<8>(t, band, oa, &mut cursor);
                self.store(t, &sums, p, (p0, c0, c1), out);
                p += 8;
            }
        }
        while p + 4 <= end {
            let sums = self.window::<4>(t, band, oa, &mut cursor);
            self.store(t, &sums, p, (p0, c0, c1), out);
            p += 4;
        }
        while p < end {
            let sums = self.window::<1>(t, band, oa, &mut cursor);
            self.store(t, &sums, p, (p0, c0, c1), out);
            p += 1;
        }
    }

    /// Whether [`Block::pair`] runs: 3×3 windows with stride and dilation 1 (neighbouring
    /// windows share their input), rows of at least [`PAIR_COLUMNS`] positions, and the 32
    /// registers that hold the weights, the sums and a row of inputs.
    #[inline(always)]
    fn pairs_apply(&self) -> bool {
        let (rows, cols) = (self.g.rows, self.g.cols);
        K == 3
            && V::REGISTERS >= 32
            && rows.stride == 1
            && rows.dilation == 1
            && cols.stride == 1
            && cols.dilation == 1
            && cols.out >= PAIR_COLUMNS
    }

    /// The sums of [`PAIR_COLUMNS`] positions from column `ow` of output rows `oh` and `oh + 1`
    /// ([`Block::pairs_apply`]): each of the `K + 1` input rows they read is loaded once, and
    /// each input vector feeds every sum whose window holds it (up to 6), where
    /// [`Block::window`] loads it for each. Every lane adds its taps in the same order (kernel
    /// row by kernel row, tap by tap), so the sums are [`Block::window`]'s bits.
    #[inline(always)]
    fn pair(
        &self,
        t: V::Token,
        band: &[f32],
        oa: usize,
        (oh, ow): (usize, usize),
    ) -> [[V; PAIR_COLUMNS]; 2] {
        const C: usize = PAIR_COLUMNS;
        let l = V::LANES;
        let start = ((oh - oa) * self.width + ow) * l;
        // The last vector read: the last column of the last input row.
        let last = start + (K * self.width + C + K - 2) * l;
        let band = &band[..last + l];
        let bp = band.as_ptr();
        let mut acc = [[V::zero(t); C]; 2];
        for r in 0..K + 1 {
            // `C + K − 1` of them (`K ≤ 5`).
            let mut v = [V::zero(t); C + 4];
            for (c, v) in v.iter_mut().enumerate().take(C + K - 1) {
                // SAFETY: `start + (r·width + c)·l + LANES ≤ last + LANES`, the length of
                // `band` (`r ≤ K`, `c ≤ C + K − 2`).
                *v = unsafe { V::load(t, bp.add(start + (r * self.width + c) * l)) };
            }
            // Input row `r` is kernel row `r` of the upper row's windows and `r − 1` of the
            // lower's.
            for (u, acc) in acc.iter_mut().enumerate() {
                let Some(i) = r.checked_sub(u).filter(|&i| i < K) else {
                    continue;
                };
                for (j, &w) in self.weights[i].iter().enumerate() {
                    for (q, acc) in acc.iter_mut().enumerate() {
                        *acc = V::fmadd(v[q + j], w, *acc);
                    }
                }
            }
        }
        if let Some(b) = self.bias {
            for acc in acc.iter_mut().flatten() {
                *acc = V::add(*acc, b);
            }
        }
        acc
    }

    /// The sums of the `P` positions from `cursor` (output row and column; stepped past them) in
    /// the band that starts at output row `oa`.
    #[inline(always)]
    fn window<const P: usize>(
        &self,
        t: V::Token,
        band: &[f32],
        oa: usize,
        cursor: &mut (usize, usize),
    ) -> [V; P] {
        let (rows, cols) = (self.g.rows, self.g.cols);
        let l = V::LANES;
        // Where each position's window starts in the band. These grow with the position: the
        // next row's first window starts `stride·width` values on, past the end of this row's
        // last one (`width` holds every window of a row).
        let mut at = [0; P];
        for at in &mut at {
            let (oh, ow) = *cursor;
            *at = ((oh - oa) * rows.stride * self.width + ow * cols.stride) * l;
            *cursor = if ow + 1 == cols.out {
                (oh + 1, 0)
            } else {
                (oh, ow + 1)
            };
        }
        // The last value read: the last tap of the last position's window.
        let last_tap = ((K - 1) * rows.dilation * self.width + (K - 1) * cols.dilation) * l;
        let band = &band[..at[P - 1] + last_tap + l];
        let bp = band.as_ptr();
        let mut acc = [V::zero(t); P];
        for (i, weights) in self.weights.iter().enumerate() {
            for (j, &w) in weights.iter().enumerate() {
                let tap = (i * rows.dilation * self.width + j * cols.dilation) * l;
                for (acc, &at) in acc.iter_mut().zip(&at) {
                    // SAFETY: `at + tap + LANES ≤ at[P − 1] + last_tap + LANES`, the length of
                    // `band` (the offsets grow with the position, `tap` with the tap).
                    let v = unsafe { V::load(t, bp.add(at + tap)) };
                    *acc = V::fmadd(v, w, *acc);
                }
            }
        }
        if let Some(b) = self.bias {
            for acc in &mut acc {
                *acc = V::add(*acc, b);
            }
        }
        acc
    }

    /// Stores the sums of flat positions `p..p + P` into `out`, through the epilogue.
    #[inline(always)]
    fn store<const P: usize>(
        &self,
        t: V::Token,
        sums: &[V; P],
        p: usize,
        (p0, c0, c1): (usize, usize, usize),
        out: &mut [f32],
    ) {
        let per = c1 - c0;
        let (lanes, mask) = (self.lanes, self.mask);
        for (q, &s) in sums.iter().enumerate() {
            let dst = &mut out[(p + q - p0) * per + self.c - c0..][..lanes];
            let s = self.epilogue.apply(t, s);
            // SAFETY: `dst` holds the `lanes` values written: all of a full vector, or the
            // mask's lanes.
            unsafe {
                if lanes == V::LANES {
                    V::store(dst.as_mut_ptr(), s);
                } else {
                    V::store_masked(dst.as_mut_ptr(), mask, s);
                }
            }
        }
    }
}
