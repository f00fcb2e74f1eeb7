//! The convolution kernel: one N-d implementation shared by Conv1D, Conv2D and Conv3D (the lower
//! ranks run with leading axes of length 1).
//!
//! It is a matrix product, `y (F × positions) = kernel (F × taps·channels) · B`, where column `p`
//! of `B` is the input window of output position `p` (im2col). `B` is never built whole: for
//! `NR` output positions at a time, a bounded panel of at most `KB` rows is packed on the stack
//! (padding as zeros), and every block of `MR` filters runs a register-tiled micro-kernel over
//! it. The panel has two layouts ([`Panel`]). Position by position, where a position's window is a
//! few contiguous runs of the input (one per kernel row when the taps of a row are adjacent), so
//! packing is a handful of copies rather than a gather per value; or row by row when there is one
//! input channel and stride 1, where a row of consecutive positions is contiguous instead. The kernel (`A`) is stored pre-packed (see [`panel_index`]): each block of `MR` filters
//! holds its weights for every tap and channel contiguously, so the micro-kernel streams through
//! both operands. Groups pack their own channels and use their own filter blocks: nothing is
//! copied per group beyond the panel.
//!
//! The portable micro-kernel keeps products and sums separate instructions in the same order on
//! every target (no fused multiply-add), so a host and a Cortex-M compute the same bits. Where the
//! SIMD kernels run ([`crate::kernels::simd`]), the register tile of every SIMD product
//! (`kernels/tile.rs`, the matrix product's too) takes its place, compiled for AVX-512, AVX2 or
//! NEON, with fused multiply-adds and wider tiles (the last bits then differ). The SIMD path also
//! skips the panel where the input already holds B's values at a fixed distance between
//! positions: one channel with stride 1 ([`conv_rows`]), and, for several channels or a stride,
//! the windows inside the input along the last axis ([`conv_windows`]), whose kernel rows are
//! contiguous runs of the channels-last input. Where the input has padding and a padded copy of
//! it fits 16 KiB, the SIMD path first makes that copy, with the padding written out as zeros
//! (`padded_copy`), so that every window lies inside it and nothing is packed around the
//! padding: the DS-CNN's first layer (10×4 windows, stride 2, over 49×10) took 19 µs packed and
//! 12 µs on the copy.

use crate::shape::AxisGeometry;

pub use crate::epilogue::Epilogue;
use crate::epilogue::Finish;

/// Filters per register tile, and positions per tile on the baseline path. The Cortex-M4F has 32
/// single-precision registers: a 4×4 tile plus its operands fits. Other baselines (SSE2, NEON)
/// hold 8 filters in two 4-wide registers (so do the NEON SIMD micro-kernels). On x86_64 the
/// SIMD micro-kernels want 16 filters: one AVX-512 register, or two AVX2 registers.
#[cfg(target_arch = "arm")]
pub(super) const MR: usize = 4;
#[cfg(target_arch = "x86_64")]
pub(super) const MR: usize = 16;
#[cfg(not(any(target_arch = "arm", target_arch = "x86_64")))]
pub(super) const MR: usize = 8;
const NR: usize = 4;
/// Rows (taps × channels) of the packed panel: `KB × NR` floats of stack, 4 KiB on a
/// microcontroller, 16 KiB (with AVX's 8 positions) on a host.
#[cfg(target_arch = "arm")]
const KB: usize = 256;
#[cfg(not(target_arch = "arm"))]
const KB: usize = 512;
/// Rows of the reduction per panel on the portable path, on every target (at most [`KB`]): a
/// reduction deeper than a panel is summed chunk by chunk (each chunk's sum added to the output),
/// so the chunks must start at the same rows for a host's portable kernel to compute a
/// microcontroller's bits (3×3×32 = 288 rows, as in ResNet-8, is one chunk at 512 but two at 256).
const KB_PORTABLE: usize = 256;
const _: () = assert!(KB_PORTABLE <= KB);
/// The stride between the positions of a panel: `KB` plus a cache line, so that the `N`
/// positions' rows do not all fall into the same two L1 sets.
const KBS: usize = KB + 16;

/// The storage of a packed panel of `N` positions: row `k` (tap × channel) of position `j`'s
/// window is at `j·sj + k·sk` of it flattened, with `(sj, sk)` = [`strides`].
type Panel<const N: usize> = [[f32; KBS]; N];

/// The panel, zeroed at its first use (later uses find it as the last one left it): a layer
/// that packs nothing never zeroes one.
#[cfg(simd_kernels)]
#[inline(always)]
fn zeroed_once<const N: usize>(panel: &mut Option<Panel<N>>) -> &mut Panel<N> {
    panel.get_or_insert_with(|| [[0.0f32; KBS]; N])
}

/// The panel's strides `(position, row)`: row-major (`KM`, each row holds the `N` positions) or
/// position-major (each position holds its `KBS` rows).
#[inline(always)]
const fn strides<const N: usize, const KM: bool>() -> (usize, usize) {
    if KM {
        (1, N)
    } else {
        (KBS, 1)
    }
}

/// Where the Keras kernel value of row `kk` (tap × channel within the group, `0..depth`) and
/// filter `f` lives in the packed kernel: filters come in blocks of `MR` within each group (the
/// last block of a group may be shorter), and a block stores `depth` rows of its filters
/// contiguously. A permutation of `0..depth·filters`.
pub const fn panel_index(depth: usize, f_g: usize, kk: usize, f: usize) -> usize {
    let (grp, fl) = (f / f_g, f % f_g);
    let f0 = fl - fl % MR;
    let mb = if MR < f_g - f0 { MR } else { f_g - f0 };
    (grp * f_g + f0) * depth + kk * mb + (fl - f0)
}

/// Everything the kernel needs to know about a convolution, resolved at compile time by the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Depth, height, width (absent axes have length 1).
    pub axes: [AxisGeometry; 3],
    /// Input channels.
    pub cin: usize,
    /// Filters (output channels).
    pub filters: usize,
    /// Groups: input channels and filters split into this many contiguous blocks.
    pub groups: usize,
}

/// `y = conv(x, kernel) + bias`, in Keras's channels_last row-major order; `kernel` is the Keras
/// kernel `(*kernel_size, cin / groups, filters)` packed by [`panel_index`].
///
/// The SIMD kernels apply the epilogue `e` in their last store and return `true`; the portable
/// kernel leaves it to the caller and returns `false` (a separate pass, [`Epilogue::apply`], is
/// cheaper there than a test in every store, and computes the same bits).
pub fn conv(
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) -> bool {
    let [ad, ah, aw] = g.axes;
    assert!(
        g.groups > 0
            && x.len() == ad.n * ah.n * aw.n * g.cin
            && y.len() == ad.out * ah.out * aw.out * g.filters
            && kernel.len() == ad.k * ah.k * aw.k * (g.cin / g.groups) * g.filters
            && bias.is_none_or(|b| b.len() == g.filters)
            && e.fits(g.filters)
    );
    #[cfg(simd_kernels)]
    {
        let call = Conv {
            g,
            x,
            kernel,
            bias,
            e,
            y: &mut *y,
        };
        let ran = if super::winograd::chosen(g) {
            super::winograd::run_simd(call)
        } else {
            crate::kernels::run_simd(call)
        };
        if ran.is_some() {
            return true;
        }
    }
    let none = Epilogue::NONE;
    conv_tiled::<Portable, NR, false>(&Portable, g, x, kernel, bias, &none, y);
    false
}

/// Whether the SIMD path packs the panel row by row (or reads the input directly, [`conv_rows`]):
/// with one input channel and stride 1, a row of the panel (one tap, consecutive positions of an
/// output row) is a contiguous run of the input, while a position's window is `kernel_size` short
/// pieces.
#[cfg(simd_kernels)]
fn row_major(g: &ConvGeometry) -> bool {
    g.cin == 1 && g.axes[2].stride == 1
}

/// The filters of one register tile, packed ([`panel_index`]): one block of `m ≤ MR` filters
/// (`kb` rows of `m` weights), or two full blocks of `MR` (`kb` rows of `MR` each).
#[derive(Clone, Copy)]
enum Filters<'a> {
    One(&'a [f32], usize),
    Pair(&'a [f32], &'a [f32]),
}

impl Filters<'_> {
    /// How many filters the tile computes.
    fn count(self) -> usize {
        match self {
            Filters::One(_, m) => m,
            Filters::Pair(..) => 2 * MR,
        }
    }
}

/// The rows of B one register tile reads.
#[derive(Clone, Copy)]
enum Rows<'a> {
    /// A packed panel of `N` positions ([`Panel`], laid out as `KM` says, see [`strides`]), its
    /// rows `0..kb` used.
    Panel(&'a [f32], usize),
    /// The input itself, from the tile's first position: row `k` of position `j` is
    /// `x[offs[k] + j]` (`offs.len()` rows). Only where [`conv_rows`] runs.
    Direct(&'a [f32], &'a [usize]),
    /// The input itself: the window of position `j` is the runs `(o, w)` of `runs`, each `len`
    /// consecutive input values from `x[o + at.of(j)]`, which are rows `w..w + len` of A (a run
    /// that falls in the padding is left out: its products are zeros). A holds `depth` rows.
    /// Only where [`conv_windows`] runs (the SIMD builds).
    #[cfg(simd_kernels)]
    Windows {
        x: &'a [f32],
        runs: &'a [(usize, usize)],
        len: usize,
        at: Spacing<'a>,
        depth: usize,
    },
}

/// Where the windows of a tile's positions start, from its first position's window.
#[cfg(simd_kernels)]
#[derive(Clone, Copy)]
enum Spacing<'a> {
    /// Position `j` at `j·s`: positions along one output row, `stride · cin` values apart.
    Stride(usize),
    /// One offset per position: positions over the ends of rows ([`conv_spans`]).
    Listed(&'a [usize]),
}

#[cfg(simd_kernels)]
impl Spacing<'_> {
    /// Position `j`'s offset.
    fn of(self, j: usize) -> usize {
        match self {
            Spacing::Stride(s) => j * s,
            Spacing::Listed(p) => p[j],
        }
    }
}

impl Rows<'_> {
    /// Rows of the reduction (read by the SIMD tiles only).
    #[cfg(simd_kernels)]
    fn len(self) -> usize {
        match self {
            Rows::Panel(_, kb) => kb,
            Rows::Direct(_, offs) => offs.len(),
            Rows::Windows { depth, .. } => depth,
        }
    }
}

/// Where a register tile's sums go: `y` holds the outputs of the tile's first filter at its
/// first position, positions `f` apart, `n ≤ N` of them real. The first chunk of the reduction
/// writes, later ones add; the bias (and the epilogue) come with the last.
struct Out<'a> {
    y: &'a mut [f32],
    n: usize,
    f: usize,
    first: bool,
    fin: Option<Finish<'a>>,
}

/// The register tile: runs one tile of filters over the rows of B for `N` positions and writes
/// (or adds to) the outputs.
trait Micro<const N: usize> {
    /// Whether [`run_blocks`] hands it two full blocks of filters at once ([`Filters::Pair`]).
    const PAIRS: bool;

    /// Rows of the reduction per panel (at most [`KB`]).
    const CHUNK: usize = KB;

    /// The tile: `Σ_k a[k, i] · B[k, j]` for every filter `i` and position `j`, into `out`.
    fn tile<const KM: bool>(&self, a: Filters<'_>, b: Rows<'_>, out: Out<'_>);
}

/// The portable register tile ([`micro`]), products and sums in a fixed order: the
/// specification the SIMD tiles are tested against.
struct Portable;

impl<const N: usize> Micro<N> for Portable {
    const PAIRS: bool = false;
    const CHUNK: usize = KB_PORTABLE;

    #[inline(always)]
    fn tile<const KM: bool>(&self, a: Filters<'_>, b: Rows<'_>, out: Out<'_>) {
        match a {
            Filters::One(a, m) => portable_tile::<N, KM>(a, m, b, out),
            // Two blocks are two tiles (the same sums: each filter's are its own).
            Filters::Pair(a0, a1) => {
                let Out {
                    y,
                    n,
                    f,
                    first,
                    fin,
                } = out;
                let half = |h: usize| {
                    fin.map(|e| Finish {
                        bias: e.bias.map(|b| &b[h * MR..][..MR]),
                        then: e.then.filters(h * MR, MR),
                    })
                };
                let (head, tail) = (half(0), half(1));
                let y0 = &mut y[..(n - 1) * f + MR];
                let out0 = Out {
                    y: y0,
                    n,
                    f,
                    first,
                    fin: head,
                };
                portable_tile::<N, KM>(a0, MR, b, out0);
                let y1 = &mut y[MR..][..(n - 1) * f + MR];
                let out1 = Out {
                    y: y1,
                    n,
                    f,
                    first,
                    fin: tail,
                };
                portable_tile::<N, KM>(a1, MR, b, out1);
            }
        }
    }
}

/// One block of `m` filters of the portable tile ([`Portable`]). Not recursive, so that it
/// inlines into the block loop: the recursive form cost a Cortex-M4 about 18% more instructions
/// per convolution (measured on the digits CNN).
#[inline(always)]
fn portable_tile<const N: usize, const KM: bool>(a: &[f32], m: usize, b: Rows<'_>, out: Out<'_>) {
    let Out {
        y,
        n,
        f,
        first,
        fin,
    } = out;
    let acc = match b {
        Rows::Panel(b, kb) => micro::<N, KM>(a, b, kb, m),
        Rows::Direct(x, offs) => micro_direct::<N>(a, x, offs, m),
        #[cfg(simd_kernels)]
        Rows::Windows {
            x, runs, len, at, ..
        } => micro_windows::<N>(a, x, runs, len, at, m),
    };
    for (j, acc) in acc.iter().enumerate().take(n) {
        store(&mut y[j * f..][..m], &acc[..m], first, fin);
    }
}

#[inline(always)]
fn conv_tiled<K: Micro<N> + Micro<NS>, const N: usize, const KM: bool>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) {
    let [ad, ah, aw] = g.axes;
    let positions = ad.out * ah.out * aw.out;
    let mut panel: Panel<N> = [[0.0f32; KBS]; N];
    // (od, oh, ow) of the next output position, stepped without divisions.
    let mut cursor = [0usize; 3];
    for p0 in (0..positions).step_by(N) {
        let n = N.min(positions - p0);
        // The tile's positions; it may span rows. A last, short tile leaves columns unused.
        let mut at = [[0usize; 3]; N];
        for slot in at.iter_mut().take(n) {
            *slot = cursor;
            step(&mut cursor, [ad.out, ah.out, aw.out]);
        }
        packed_tile::<K, N, KM>(k, g, x, kernel, bias, e, y, &at, p0, n, &mut panel);
    }
}

/// Packs the windows of the `n ≤ N` consecutive positions `at` from `p0` and runs every block
/// of filters of every group over them, a panel of the reduction at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn packed_tile<K: Micro<N> + Micro<NS>, const N: usize, const KM: bool>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
    at: &[[usize; 3]; N],
    p0: usize,
    n: usize,
    panel: &mut Panel<N>,
) {
    let [ad, ah, aw] = g.axes;
    let depth = ad.k * ah.k * aw.k * (g.cin / g.groups);
    for grp in 0..g.groups {
        let chunk = <K as Micro<N>>::CHUNK;
        for k0 in (0..depth).step_by(chunk) {
            let kb = chunk.min(depth - k0);
            pack::<N, KM>(g, x, at, n, grp, k0, kb, panel.as_flattened_mut());
            let tile = Tile {
                p0,
                n,
                grp,
                k0,
                kb,
                depth,
            };
            run_blocks::<K, N, KM>(k, g, &tile, kernel, bias, e, y, panel.as_flattened(), None);
        }
    }
}

/// Packs the consecutive positions `ps` (possibly over several rows) in tiles of `N`, for
/// [`conv_windows`]. A function, not a closure: a closure would not inherit the instruction set
/// of the SIMD kernel it is defined in.
#[cfg(simd_kernels)]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn packed_run<K: Micro<N> + Micro<NS>, const N: usize>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
    ps: core::ops::Range<usize>,
    panel: &mut Option<Panel<N>>,
) {
    if ps.is_empty() {
        return;
    }
    // Zeroed at its first use: a 1×1 convolution, or one with a padded copy of its input, packs
    // nothing, and zeroing the panel (17 KiB) cost as much as a small layer's products.
    let panel = zeroed_once(panel);
    let [ad, ah, aw] = g.axes;
    let from = ps.start;
    let mut cursor = [
        from / (ah.out * aw.out),
        (from / aw.out) % ah.out,
        from % aw.out,
    ];
    for p0 in ps.clone().step_by(N) {
        let n = N.min(ps.end - p0);
        let mut at = [[0usize; 3]; N];
        for slot in at.iter_mut().take(n) {
            *slot = cursor;
            step(&mut cursor, [ad.out, ah.out, aw.out]);
        }
        packed_tile::<K, N, false>(k, g, x, kernel, bias, e, y, &at, p0, n, panel);
    }
}

/// Runs of a window [`conv_windows`] can list: one per kernel row (`kd`, `kh`).
#[cfg(simd_kernels)]
const MAX_RUNS: usize = 64;

/// One convolution's arguments (see [`conv`]), run as the SIMD [`Kernel`](crate::kernels::vector::Kernel) of this module, or
/// wrapped in [`super::winograd::Winograd`].
#[cfg(simd_kernels)]
pub(super) struct Conv<'a> {
    pub g: &'a ConvGeometry,
    pub x: &'a [f32],
    pub kernel: &'a [f32],
    pub bias: Option<&'a [f32]>,
    pub e: &'a Epilogue<'a>,
    pub y: &'a mut [f32],
}

/// Values of the stack buffer for [`padded_copy`] (16 KiB: it stays in the L1 cache while the
/// tiles read it).
#[cfg(simd_kernels)]
const PADDED: usize = 4 * 1024;

/// For a convolution with padding whose padded input fits [`PADDED`] values: the same
/// convolution without padding (every axis `n` replaced by the padded length the windows read,
/// `before` by 0), and the input copied into `scratch` with the padding written out as zeros.
/// Every window then lies inside the input, so no tile packs around the padding.
#[cfg(simd_kernels)]
fn padded_copy<'s>(
    g: &ConvGeometry,
    x: &[f32],
    scratch: &'s mut core::mem::MaybeUninit<[f32; PADDED]>,
) -> Option<(ConvGeometry, &'s [f32])> {
    let mut q = *g;
    for a in &mut q.axes {
        a.n = a.reach(a.out);
        a.before = 0;
    }
    let [qd, qh, qw] = q.axes;
    let len = qd.n * qh.n * qw.n * g.cin;
    if unpadded(g) || len > PADDED || g.groups != 1 {
        return None;
    }
    let [ad, ah, aw] = g.axes;
    let dst = scratch.as_mut_ptr().cast::<f32>();
    let row = qw.n * g.cin;
    // Per padded row: `before` columns of zeros, the input's columns that the windows read, zeros.
    let zeros_before = aw.before * g.cin;
    let copied = aw.n.min(qw.n.saturating_sub(aw.before)) * g.cin;
    let mut at = 0;
    for pd in 0..qd.n {
        for ph in 0..qh.n {
            let (id, ih) = (pd.wrapping_sub(ad.before), ph.wrapping_sub(ah.before));
            // SAFETY: `at + row ≤ len ≤ PADDED`: rows `0..qd.n·qh.n` of `row` values, written in
            // order; the copy reads `copied ≤ aw.n·cin` values of one input row of `x`.
            unsafe {
                if id < ad.n && ih < ah.n {
                    let src = &x[(id * ah.n + ih) * aw.n * g.cin..][..copied];
                    core::ptr::write_bytes(dst.add(at), 0, zeros_before);
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        dst.add(at + zeros_before),
                        copied,
                    );
                    core::ptr::write_bytes(
                        dst.add(at + zeros_before + copied),
                        0,
                        row - zeros_before - copied,
                    );
                } else {
                    core::ptr::write_bytes(dst.add(at), 0, row);
                }
            }
            at += row;
        }
    }
    // SAFETY: the loops above wrote every one of the first `len = at` values.
    Some((q, unsafe { core::slice::from_raw_parts(dst, len) }))
}

/// Whether the SIMD path reads the windows straight from the input ([`conv_windows`]): several
/// channels or a stride, no groups, and the taps of a kernel row adjacent, so that each kernel
/// row of a window is one contiguous run of the channels-last input.
#[cfg(simd_kernels)]
fn windowed(g: &ConvGeometry) -> bool {
    let [ad, ah, aw] = g.axes;
    !row_major(g) && g.groups == 1 && aw.dilation == 1 && ad.k * ah.k <= MAX_RUNS
}

/// The convolution on the SIMD path for [`windowed`] geometries, without packing the windows
/// that lie inside the input along the last axis: a tile of `N`, `M` or [`NS`] consecutive
/// positions of one output row reads each kernel row of its windows straight from the input
/// ([`Rows::Windows`]: positions `stride·cin` values apart; kernel rows in the padding of the
/// other axes are left out). The positions whose windows reach into the padding of the last axis
/// (the ends of the rows, with a few neighbours so that they fill whole narrow tiles) are packed
/// as on [`conv_tiled`]'s path. A row whose length is not a multiple of the tiles ends with a
/// tile that overlaps the previous one (its positions are computed twice, to the same bits).
/// A 1×1 convolution with stride 1 is one row of all its positions.
#[cfg(simd_kernels)]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn conv_windows<K, const N: usize, const M: usize>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) where
    K: Micro<N> + Micro<M> + Micro<NS>,
{
    const { assert!(N >= M && M >= NS) };
    assert!(windowed(g));
    let [ad, ah, aw] = g.axes;
    let cin = g.cin;
    let len = aw.k * cin;
    let depth = ad.k * ah.k * len;
    let positions = ad.out * ah.out * aw.out;
    // One row of every position: no padding, and consecutive positions `cin` values apart.
    let flat = g
        .axes
        .iter()
        .all(|a| a.k == 1 && a.stride == 1 && a.out == a.n);
    let (rows, width) = if flat {
        (1, positions)
    } else {
        (ad.out * ah.out, aw.out)
    };
    let sj = if flat { cin } else { aw.stride * cin };
    // The columns `lo..hi` whose windows lie inside the input along the last axis.
    let inside = |ow: usize| {
        flat || aw.input_index(ow, 0).is_some() && aw.input_index(ow, aw.k - 1).is_some()
    };
    let lo = (0..width).find(|&ow| inside(ow)).unwrap_or(width);
    let hi = (lo..width).find(|&ow| !inside(ow)).unwrap_or(width);
    // Rows shorter than a full tile run in tiles over several rows (the direct tiles of such a
    // row would be narrow ones, each position fed by fewer filters per load): read from the
    // input where no window reads padding, packed otherwise.
    if hi - lo < N {
        if unpadded(g) && positions >= N {
            return conv_spans::<K, N, M>(k, g, x, kernel, bias, e, y);
        }
        return conv_tiled::<K, N, false>(k, g, x, kernel, bias, e, y);
    }
    // The packed ends of two rows are consecutive positions: widen them to a whole tile of `M`
    // (whose `M` accumulators per vector of filters hide the latency of the multiply-adds), or
    // of [`NS`] where a row is too short for that.
    let seam = width - hi + lo;
    let widen = |t: usize| if seam == 0 { 0 } else { (t - seam % t) % t };
    let extra = if hi - lo >= widen(M) + NS {
        widen(M)
    } else if hi - lo >= widen(NS) + NS {
        widen(NS)
    } else {
        0
    };
    let (lo, hi) = (lo + extra - extra / 2, hi - extra / 2);
    if hi - lo < NS {
        return conv_tiled::<K, N, false>(k, g, x, kernel, bias, e, y);
    }
    let mut panel: Option<Panel<M>> = None;
    let mut runs = [(0usize, 0usize); MAX_RUNS];
    // Positions from `pending` on are still to be packed.
    let mut pending = 0;
    let (mut od, mut oh) = (0, 0);
    for r in 0..rows {
        let row = r * width;
        packed_run::<K, M>(k, g, x, kernel, bias, e, y, pending..row + lo, &mut panel);
        pending = row + hi;
        let mut c0 = lo;
        while c0 < hi {
            let left = hi - c0;
            let n = if left >= N || (left > M && hi - lo >= N) {
                N
            } else if left > NS && hi - lo >= M {
                M
            } else {
                NS
            };
            // The last tile of a row may overlap the one before.
            let ow = c0.min(hi - n);
            // Each kernel row inside the input: where position `ow` reads it, and its rows of A.
            let mut count = 0;
            for kd in 0..ad.k {
                for kh in 0..ah.k {
                    let (id, ih) = if flat {
                        (Some(0), Some(0))
                    } else {
                        (ad.input_index(od, kd), ah.input_index(oh, kh))
                    };
                    if let (Some(id), Some(ih)) = (id, ih) {
                        let iw = if flat {
                            ow
                        } else {
                            aw.input_index(ow, 0).expect("an inside column")
                        };
                        runs[count] =
                            (((id * ah.n + ih) * aw.n + iw) * cin, (kd * ah.k + kh) * len);
                        count += 1;
                    }
                }
            }
            let rows = Rows::Windows {
                x,
                runs: &runs[..count],
                len,
                at: Spacing::Stride(sj),
                depth,
            };
            window_tile::<K, N, M>(k, g, row + ow, n, rows, kernel, bias, e, y);
            c0 = ow + n;
        }
        oh += 1;
        if oh == ah.out {
            oh = 0;
            od += 1;
        }
    }
    packed_run::<K, M>(k, g, x, kernel, bias, e, y, pending..positions, &mut panel);
}

/// Whether every window of every position lies inside the input (no padding is read): no
/// padding before any axis, and the windows of its outputs reach no further than its end.
#[cfg(simd_kernels)]
fn unpadded(g: &ConvGeometry) -> bool {
    g.axes
        .iter()
        .all(|a| a.out > 0 && a.before == 0 && a.reach(a.out) <= a.n)
}

/// [`conv_windows`] for a convolution without padding ([`unpadded`]) whose rows are shorter
/// than a tile of `N` (M2's second layer: 11 positions a row, where a tile holds 12): tiles of
/// `N` consecutive positions in row-major order, across the ends of rows, each reading its
/// windows straight from the input ([`Rows::Windows`], with each position's offset listed,
/// since a row's end and the next row's start are not `stride · cin` values apart). Without it
/// such a layer packed every window into a panel. The last tile is the narrowest of `N`, `M`
/// and [`NS`] positions that holds the positions left, placed to end at the last position, so
/// it may overlap the tile before (those positions are computed twice, to the same bits).
#[cfg(simd_kernels)]
#[inline(always)]
fn conv_spans<K, const N: usize, const M: usize>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) where
    K: Micro<N> + Micro<M> + Micro<NS>,
{
    const { assert!(N >= M && M >= NS) };
    let [ad, ah, aw] = g.axes;
    let cin = g.cin;
    let len = aw.k * cin;
    let depth = ad.k * ah.k * len;
    let positions = ad.out * ah.out * aw.out;
    assert!(windowed(g) && unpadded(g) && positions >= N);
    // The input offset of position `p`'s window (of its first value).
    let start = |p: usize| {
        let (od, oh, ow) = (p / (ah.out * aw.out), (p / aw.out) % ah.out, p % aw.out);
        let at = |a: crate::shape::AxisGeometry, o: usize| a.input_index(o, 0).expect("unpadded");
        ((at(ad, od) * ah.n + at(ah, oh)) * aw.n + at(aw, ow)) * cin
    };
    // Each kernel row's run, from a window's first value, and its rows of A.
    let mut rel = [(0usize, 0usize); MAX_RUNS];
    let count = ad.k * ah.k;
    for (r, rel) in rel.iter_mut().enumerate().take(count) {
        let (kd, kh) = (r / ah.k, r % ah.k);
        *rel = (
            (kd * ad.dilation * ah.n + kh * ah.dilation) * aw.n * cin,
            r * len,
        );
    }
    let mut runs = [(0usize, 0usize); MAX_RUNS];
    let mut p0 = 0;
    while p0 < positions {
        let left = positions - p0;
        let n = if left > M {
            N
        } else if left > NS {
            M
        } else {
            NS
        };
        let p = p0.min(positions - n);
        let s0 = start(p);
        let mut pos = [0usize; N];
        for (j, o) in pos.iter_mut().enumerate().take(n) {
            *o = start(p + j) - s0;
        }
        for (run, &(o, w)) in runs.iter_mut().zip(&rel[..count]) {
            *run = (s0 + o, w);
        }
        let rows = Rows::Windows {
            x,
            runs: &runs[..count],
            len,
            at: Spacing::Listed(&pos[..n]),
            depth,
        };
        window_tile::<K, N, M>(k, g, p, n, rows, kernel, bias, e, y);
        p0 = p + n;
    }
}

/// Runs every block of filters over the `n` positions from `p0` (`n` is `N`, `M` or [`NS`]),
/// reading their windows from the input ([`Rows::Windows`]): the whole reduction in one pass.
#[cfg(simd_kernels)]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn window_tile<K, const N: usize, const M: usize>(
    k: &K,
    g: &ConvGeometry,
    p0: usize,
    n: usize,
    rows: Rows<'_>,
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) where
    K: Micro<N> + Micro<M> + Micro<NS>,
{
    let depth = rows.len();
    let tile = Tile {
        p0,
        n,
        grp: 0,
        k0: 0,
        kb: depth,
        depth,
    };
    if n == N {
        run_blocks_n::<K, N, false>(k, g, &tile, kernel, bias, e, y, rows);
    } else if n == M {
        run_blocks_n::<K, M, false>(k, g, &tile, kernel, bias, e, y, rows);
    } else {
        run_blocks_n::<K, NS, false>(k, g, &tile, kernel, bias, e, y, rows);
    }
}

/// Where one tile's products go: output positions `p0..p0 + n`, group `grp`, reduction rows
/// `k0..k0 + kb` of `depth`.
struct Tile {
    p0: usize,
    n: usize,
    grp: usize,
    k0: usize,
    kb: usize,
    depth: usize,
}

/// Runs every block of filters of the tile's group over its rows of B: the packed panel `b`, or,
/// with `direct`, the input itself (`b` starting at the tile's first position, row `k` of
/// position `j` at `direct[k] + j`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn run_blocks<K: Micro<N> + Micro<NS>, const N: usize, const KM: bool>(
    k: &K,
    g: &ConvGeometry,
    t: &Tile,
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
    b: &[f32],
    direct: Option<&[usize]>,
) {
    let rows = |kb| match direct {
        Some(offs) => Rows::Direct(b, offs),
        None => Rows::Panel(b, kb),
    };
    // A short tile (the last of a row, or of the layer) runs on a narrow register tile rather
    // than computing `N` columns for a few: where its rows do not depend on `N` (a
    // position-major panel, or the input itself).
    if N >= 2 * NS && t.n <= NS && (direct.is_some() || !KM) {
        let rows = match direct {
            Some(offs) => Rows::Direct(b, offs),
            None => Rows::Panel(&b[..NS * KBS], t.kb),
        };
        return run_blocks_n::<K, NS, KM>(k, g, t, kernel, bias, e, y, rows);
    }
    run_blocks_n::<K, N, KM>(k, g, t, kernel, bias, e, y, rows(t.kb));
}

/// Positions of the narrow register tile for short tiles.
const NS: usize = 4;

/// [`run_blocks`] with register tiles of `N` positions.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_blocks_n<K: Micro<N>, const N: usize, const KM: bool>(
    k: &K,
    g: &ConvGeometry,
    t: &Tile,
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
    rows: Rows<'_>,
) {
    let (f_g, f) = (g.filters / g.groups, g.filters);
    let (n, depth, k0, kb) = (t.n, t.depth, t.k0, t.kb);
    let (first, last) = (k0 == 0, k0 + kb == depth);
    let mut f0 = 0;
    while f0 < f_g {
        let ch = t.grp * f_g + f0;
        let filters = if K::PAIRS && f_g - f0 >= 2 * MR {
            // Two full blocks at once: twice the filters per broadcast.
            let a0 = &kernel[ch * depth + k0 * MR..][..kb * MR];
            let a1 = &kernel[(ch + MR) * depth + k0 * MR..][..kb * MR];
            Filters::Pair(a0, a1)
        } else {
            let m = MR.min(f_g - f0);
            Filters::One(&kernel[ch * depth + k0 * m..][..kb * m], m)
        };
        let m = filters.count();
        let out = Out {
            y: &mut y[t.p0 * f + ch..][..(n - 1) * f + m],
            n,
            f,
            first,
            fin: last.then(|| Finish {
                bias: bias.map(|b| &b[ch..ch + m]),
                then: e.filters(ch, m),
            }),
        };
        k.tile::<KM>(filters, rows, out);
        f0 += m;
    }
}

/// The convolution for one input channel and stride 1 ([`row_major`]) on the SIMD path, with
/// the whole reduction in one panel (`depth ≤ KB`): tiles of up to `N` consecutive positions of
/// one output row. A tile whose windows lie inside the input reads its rows straight from the
/// input (row `k` of position `j` is `x[base + offs[k] + j]`), with no panel at all; the others
/// (at the padding) are packed.
#[cfg(simd_kernels)]
#[inline(always)]
fn conv_rows<K: Micro<N> + Micro<NS>, const N: usize>(
    k: &K,
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    y: &mut [f32],
) {
    let [ad, ah, aw] = g.axes;
    let depth = ad.k * ah.k * aw.k;
    assert!(row_major(g) && g.groups == 1 && depth <= KB);
    // The input offset of each tap from the window's first value, increasing with the tap.
    let mut offsets = [0usize; KB];
    let mut taps = [0usize; 3];
    for o in offsets.iter_mut().take(depth) {
        let [kd, kh, kw] = taps;
        *o = (kd * ad.dilation * ah.n + kh * ah.dilation) * aw.n + kw * aw.dilation;
        step(&mut taps, [ad.k, ah.k, aw.k]);
    }
    let offs = &offsets[..depth];
    let reach = offs[depth - 1] + N;
    // Zeroed at its first use, as in `packed_run`: a convolution without padding packs nothing
    // (M2's first layer zeroed 25 KiB for it on every call).
    let mut panel: Option<Panel<N>> = None;
    let mut p0 = 0;
    for od in 0..ad.out {
        for oh in 0..ah.out {
            for ow0 in (0..aw.out).step_by(N) {
                let n = N.min(aw.out - ow0);
                let tile = Tile {
                    p0,
                    n,
                    grp: 0,
                    k0: 0,
                    kb: depth,
                    depth,
                };
                // The tile's positions are consecutive along the last axis of one row, so its
                // windows are all inside the input where the first's and the last's are (checking
                // each of the `N` cost 52 instructions a position on aarch64, 14% of M6). The
                // positions themselves are listed only for packing.
                let ends = [[od, oh, ow0], [od, oh, ow0 + n - 1]];
                let base = interior(g, &ends, 2, 0)
                    .map(|bases| bases[0])
                    .filter(|&b0| b0 + reach <= x.len());
                match base {
                    Some(b0) => run_blocks::<K, N, true>(
                        k,
                        g,
                        &tile,
                        kernel,
                        bias,
                        e,
                        y,
                        &x[b0..],
                        Some(offs),
                    ),
                    None => {
                        let mut at = [[od, oh, ow0]; N];
                        for (j, a) in at.iter_mut().enumerate().take(n) {
                            a[2] = ow0 + j;
                        }
                        let panel = zeroed_once(&mut panel);
                        pack::<N, true>(g, x, &at, n, 0, 0, depth, panel.as_flattened_mut());
                        let b = panel.as_flattened();
                        run_blocks::<K, N, true>(k, g, &tile, kernel, bias, e, y, b, None);
                    }
                }
                p0 += n;
            }
        }
    }
}

/// Moves `at` to the next output position in row-major order.
#[inline(always)]
fn step(at: &mut [usize; 3], out: [usize; 3]) {
    at[2] += 1;
    if at[2] == out[2] {
        at[2] = 0;
        at[1] += 1;
        if at[1] == out[1] {
            at[1] = 0;
            at[0] += 1;
        }
    }
}

/// Writes one column of a tile: chunks of the reduction add up in the output, and the bias comes
/// with the last one, as Keras adds it to the finished convolution.
#[inline(always)]
fn store(out: &mut [f32], acc: &[f32], first: bool, fin: Option<Finish<'_>>) {
    let bias = fin.and_then(|e| e.bias);
    match (first, bias) {
        (true, None) => out.copy_from_slice(acc),
        (true, Some(b)) => {
            for ((o, &v), &b) in out.iter_mut().zip(acc).zip(b) {
                *o = v + b;
            }
        }
        (false, None) => {
            for (o, &v) in out.iter_mut().zip(acc) {
                *o += v;
            }
        }
        (false, Some(b)) => {
            for ((o, &v), &b) in out.iter_mut().zip(acc).zip(b) {
                *o = (*o + v) + b;
            }
        }
    }
    if let Some(e) = fin {
        e.then.apply(out, out.len());
    }
}

/// Packs rows `k0..k0 + kb` of the im2col matrix of group `grp` for the tile's positions: row
/// `r` = `tap·cin_g + c` of position `j` is channel `c` of the input that position `j` reads at
/// `tap`, or zero in the padding (and for the unused positions of a last, short tile).
///
/// Rows go in runs: without dilation and groups along the last axis, the taps `kw..KW` of one
/// position read consecutive input values, so a run is one contiguous copy (the part of it that
/// falls in the padding is zeros); otherwise a run is one tap.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pack<const N: usize, const KM: bool>(
    g: &ConvGeometry,
    x: &[f32],
    at: &[[usize; 3]; N],
    n: usize,
    grp: usize,
    k0: usize,
    kb: usize,
    b: &mut [f32],
) {
    if let Some(bases) = interior(g, at, n, grp) {
        return pack_interior::<N, KM>(g, x, &bases, n, k0, kb, b);
    }
    let [ad, ah, aw] = g.axes;
    let cin_g = g.cin / g.groups;
    let runs = aw.dilation == 1 && g.groups == 1;
    let (tap, c0) = (k0 / cin_g, k0 % cin_g);
    let mut taps = [tap / (ah.k * aw.k), (tap / aw.k) % ah.k, tap % aw.k];
    // Offset of the run's first value within its (kd, kh) slab of `aw.k · cin_g` rows.
    let mut e0 = taps[2] * cin_g + c0;
    let mut row = 0;
    while row < kb {
        let [kd, kh, kw] = taps;
        let run_end = if runs { aw.k * cin_g } else { (kw + 1) * cin_g };
        let len = (run_end - e0).min(kb - row);
        for (j, &[od, oh, ow]) in at.iter().enumerate() {
            // The part of this run that reads the input (not padding), as slab offsets, and
            // the input index of its first value.
            let (valid, source) = match (ad.input_index(od, kd), ah.input_index(oh, kh)) {
                (Some(id), Some(ih)) if j < n => {
                    let slab = ((id * ah.n + ih) * aw.n) * g.cin + grp * cin_g;
                    let start = ow * aw.stride; // input column of tap 0, plus `before`
                    if runs {
                        // Tap t reads column start + t − before, inside for lo ≤ t < hi.
                        let lo = aw.before.saturating_sub(start);
                        let hi = (aw.n + aw.before).saturating_sub(start).min(aw.k);
                        let valid = (lo * cin_g).max(e0)..(hi * cin_g).min(e0 + len);
                        let first = slab + start * g.cin + valid.start - aw.before * g.cin;
                        (valid, first)
                    } else {
                        match aw.input_index(ow, kw) {
                            Some(iw) => (e0..e0 + len, slab + iw * g.cin + (e0 - kw * cin_g)),
                            None => (0..0, 0),
                        }
                    }
                }
                _ => (0..0, 0),
            };
            let (zeros_before, src) = if valid.is_empty() {
                (len, &x[..0])
            } else {
                (valid.start - e0, &x[source..source + valid.len()])
            };
            let copied = src.len();
            if !KM {
                let col = &mut b[j * KBS + row..][..len];
                col[..zeros_before].fill(0.0);
                copy_run(&mut col[zeros_before..zeros_before + copied], src);
                col[zeros_before + copied..].fill(0.0);
            } else {
                for r in 0..len {
                    let v = r.checked_sub(zeros_before).and_then(|i| src.get(i));
                    b[(row + r) * N + j] = v.copied().unwrap_or(0.0);
                }
            }
        }
        row += len;
        e0 += len;
        if e0 == run_end {
            if runs {
                taps[2] = aw.k - 1;
            }
            step(&mut taps, [ad.k, ah.k, aw.k]);
            e0 = taps[2] * cin_g;
        }
    }
}

/// `dst.copy_from_slice(src)` without a call to `memcpy` for the short runs a window is made of:
/// blocks of 16 values, then at most one block each of 8, 4, 2 and 1 (no loop a compiler would
/// turn back into a `memcpy` call).
#[inline(always)]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len());
    let (mut d, mut s) = (dst, src);
    while d.len() >= 16 {
        let (dh, dt) = d.split_at_mut(16);
        let (sh, st) = s.split_at(16);
        copy_block::<16>(dh, sh);
        (d, s) = (dt, st);
    }
    if d.len() >= 8 {
        let (dh, dt) = d.split_at_mut(8);
        let (sh, st) = s.split_at(8);
        copy_block::<8>(dh, sh);
        (d, s) = (dt, st);
    }
    if d.len() >= 4 {
        let (dh, dt) = d.split_at_mut(4);
        let (sh, st) = s.split_at(4);
        copy_block::<4>(dh, sh);
        (d, s) = (dt, st);
    }
    if d.len() >= 2 {
        let (dh, dt) = d.split_at_mut(2);
        let (sh, st) = s.split_at(2);
        copy_block::<2>(dh, sh);
        (d, s) = (dt, st);
    }
    if let (Some(d), Some(s)) = (d.first_mut(), s.first()) {
        *d = *s;
    }
}

/// Copies exactly `L` values (one or two vector moves).
#[inline(always)]
fn copy_block<const L: usize>(dst: &mut [f32], src: &[f32]) {
    let d: &mut [f32; L] = dst.try_into().expect("a block of L values");
    *d = *<&[f32; L]>::try_from(src).expect("a block of L values");
}

/// Where each of the tile's positions reads tap 0, channel 0 of group `grp`, if every window of
/// the tile lies inside the input (no padding): row `r` of the panel is then the same offset from
/// each of these for every position.
#[inline(always)]
fn interior<const N: usize>(
    g: &ConvGeometry,
    at: &[[usize; 3]; N],
    n: usize,
    grp: usize,
) -> Option<[usize; N]> {
    let [ad, ah, aw] = g.axes;
    let mut bases = [0usize; N];
    for (base, &[od, oh, ow]) in bases.iter_mut().zip(at).take(n) {
        let inside = |a: crate::shape::AxisGeometry, o: usize| {
            a.input_index(o, a.k - 1)?;
            a.input_index(o, 0)
        };
        let (id, ih, iw) = (inside(ad, od)?, inside(ah, oh)?, inside(aw, ow)?);
        *base = ((id * ah.n + ih) * aw.n + iw) * g.cin + grp * (g.cin / g.groups);
    }
    Some(bases)
}

/// [`pack`] for a tile whose windows are all inside the input: row `tap·cin_g + c` reads
/// `x[base + offset(tap, c)]` for every position, in runs of contiguous rows (a kernel row's taps
/// when they are adjacent, otherwise one tap's channels), without any padding test.
#[inline(always)]
fn pack_interior<const N: usize, const KM: bool>(
    g: &ConvGeometry,
    x: &[f32],
    bases: &[usize; N],
    n: usize,
    k0: usize,
    kb: usize,
    b: &mut [f32],
) {
    let [ad, ah, aw] = g.axes;
    let cin_g = g.cin / g.groups;
    // Row by row, each row is one tap: a copy for each stretch of positions that read adjacent
    // input values (an output row's positions, with stride 1 and one channel).
    let runs = !KM && aw.dilation == 1 && g.groups == 1;
    let mut stretches = [(0usize, 0usize); N];
    let mut count = 0;
    if KM {
        let mut j0 = 0;
        for j in 1..=n {
            if j == n || bases[j] != bases[j - 1] + 1 {
                stretches[count] = (j0, j);
                count += 1;
                j0 = j;
            }
        }
    }
    // The first row's tap and channel; later runs start at channel 0 of the next tap (or of the
    // next kernel row), stepped without divisions.
    let (tap, mut c) = (k0 / cin_g, k0 % cin_g);
    let mut taps = [tap / (ah.k * aw.k), (tap / aw.k) % ah.k, tap % aw.k];
    let mut row = 0;
    while row < kb {
        let [kd, kh, kw] = taps;
        let left = if runs {
            (aw.k - kw) * cin_g - c
        } else {
            cin_g - c
        };
        let len = left.min(kb - row);
        let off =
            ((kd * ad.dilation * ah.n + kh * ah.dilation) * aw.n + kw * aw.dilation) * g.cin + c;
        if KM {
            for r in 0..len {
                let panel_row = &mut b[(row + r) * N..][..N];
                for &(j0, j1) in &stretches[..count] {
                    let src = &x[bases[j0] + off + r..][..j1 - j0];
                    copy_run(&mut panel_row[j0..j1], src);
                }
            }
        } else {
            for (j, &base) in bases.iter().enumerate().take(n) {
                let src = &x[base + off..base + off + len];
                copy_run(&mut b[j * KBS + row..][..len], src);
            }
        }
        row += len;
        c = 0;
        if runs {
            taps[2] = aw.k - 1;
        }
        step(&mut taps, [ad.k, ah.k, aw.k]);
    }
}

/// The register tile: `acc[j][i] = Σ_k a[k·m + i] · b[j][k]` for a panel of `m ≤ MR` filters
/// and `kb` rows, summed in the order of `k`.
#[inline(always)]
fn micro<const N: usize, const KM: bool>(
    a: &[f32],
    b: &[f32],
    kb: usize,
    m: usize,
) -> [[f32; MR]; N] {
    let (sj, sk) = strides::<N, KM>();
    let mut acc = [[0.0f32; MR]; N];
    if kb == 0 {
        return acc;
    }
    // Lets the compiler drop the bounds checks of the loops below.
    assert!(a.len() >= kb * m && b.len() > (N - 1) * sj + (kb - 1) * sk);
    if m == MR {
        for (k, a) in a.chunks_exact(MR).take(kb).enumerate() {
            for (j, acc) in acc.iter_mut().enumerate() {
                let b = b[j * sj + k * sk];
                for i in 0..MR {
                    acc[i] += a[i] * b;
                }
            }
        }
    } else {
        for (k, a) in a.chunks_exact(m).take(kb).enumerate() {
            for (j, acc) in acc.iter_mut().enumerate() {
                let b = b[j * sj + k * sk];
                for (t, &w) in acc.iter_mut().zip(a) {
                    *t += w * b;
                }
            }
        }
    }
    acc
}

/// [`micro`] reading B from the input: row `k` of position `j` is `x[offs[k] + j]`, summed in
/// the order of `k` as [`micro`] sums a panel's rows.
#[inline(always)]
fn micro_direct<const N: usize>(a: &[f32], x: &[f32], offs: &[usize], m: usize) -> [[f32; MR]; N] {
    let mut acc = [[0.0f32; MR]; N];
    for (a, &o) in a.chunks_exact(m).zip(offs) {
        let x = &x[o..][..N];
        for (acc, &b) in acc.iter_mut().zip(x) {
            for (t, &w) in acc.iter_mut().zip(a) {
                *t += w * b;
            }
        }
    }
    acc
}

/// [`micro`] reading B from the input windows ([`Rows::Windows`]): row `w + c` of position `j`
/// is `x[o + c + at.of(j)]` for each run `(o, w)`, summed in the order of the runs.
#[cfg(simd_kernels)]
#[inline(always)]
fn micro_windows<const N: usize>(
    a: &[f32],
    x: &[f32],
    runs: &[(usize, usize)],
    len: usize,
    at: Spacing<'_>,
    m: usize,
) -> [[f32; MR]; N] {
    let mut acc = [[0.0f32; MR]; N];
    for &(o, w) in runs {
        for c in 0..len {
            let a = &a[(w + c) * m..][..m];
            for (j, acc) in acc.iter_mut().enumerate() {
                let b = x[o + c + at.of(j)];
                for (t, &v) in acc.iter_mut().zip(a) {
                    *t += v * b;
                }
            }
        }
    }
    acc
}

/// The SIMD register tiles: `MR` = 16 filters in one AVX-512 or two AVX2 registers, 12 (resp.
/// 6) positions per tile, or `MR` = 8 in two NEON registers, 12 positions; fused multiply-adds;
/// one definition over [`Vector`](crate::kernels::vector::Vector), compiled per instruction set by
/// [`crate::kernels::run_simd`].
#[cfg(simd_kernels)]
mod simd {
    use super::{
        conv_rows, conv_tiled, conv_windows, row_major, strides, windowed, Conv, ConvGeometry,
        Filters, Micro, Out, Rows, Spacing, KB, KBS, MR, PADDED,
    };
    use crate::kernels::tile::{self, Reads, Store, DIRECT, PANEL, SPANS, WINDOWS};
    use crate::kernels::vector::{Kernel, Vector};
    use core::mem::MaybeUninit;

    /// Whether [`conv_rows`] holds the whole reduction in one panel.
    fn direct_fits(g: &ConvGeometry) -> bool {
        let [ad, ah, aw] = g.axes;
        ad.k * ah.k * aw.k <= KB
    }

    impl Kernel for Conv<'_> {
        type Output = ();

        #[inline(always)]
        fn run<V: Vector>(self, t: V::Token) {
            let mut scratch = MaybeUninit::<[f32; PADDED]>::uninit();
            let padded = super::padded_copy(self.g, self.x, &mut scratch);
            let call = match &padded {
                Some((g, x)) => Conv { g, x, ..self },
                None => self,
            };
            call.direct::<V>(t);
        }
    }

    /// [`Conv`] without [`super::padded_copy`], for the tests of the tiles that pack around the
    /// padding (most test inputs are small enough for the copy).
    #[cfg(test)]
    pub(super) struct Direct<'a>(pub Conv<'a>);

    #[cfg(test)]
    impl Kernel for Direct<'_> {
        type Output = ();

        #[inline(always)]
        fn run<V: Vector>(self, t: V::Token) {
            self.0.direct::<V>(t);
        }
    }

    impl Conv<'_> {
        /// The convolution without [`super::padded_copy`]: the register tiles read the input
        /// where the windows lie inside it, and pack the rest.
        #[inline(always)]
        pub(super) fn direct<V: Vector>(self, t: V::Token) {
            let Conv {
                g,
                x,
                kernel,
                bias,
                e,
                y,
            } = self;
            let k = &Simd::<V>(t);
            // 12 positions per tile with 32 registers (2 × 12 accumulators: AVX-512's two blocks
            // of one vector, NEON's one block of two), 6 with AVX2's 16 (2 × 2 × 6).
            if V::REGISTERS >= 32 {
                if row_major(g) && direct_fits(g) {
                    conv_rows::<_, 12>(k, g, x, kernel, bias, e, y);
                } else if windowed(g) {
                    conv_windows::<_, 12, 8>(k, g, x, kernel, bias, e, y);
                } else if row_major(g) {
                    conv_tiled::<_, 12, true>(k, g, x, kernel, bias, e, y);
                } else {
                    conv_tiled::<_, 12, false>(k, g, x, kernel, bias, e, y);
                }
            } else if row_major(g) && direct_fits(g) {
                conv_rows::<_, 6>(k, g, x, kernel, bias, e, y);
            } else if windowed(g) {
                conv_windows::<_, 6, 4>(k, g, x, kernel, bias, e, y);
            } else if row_major(g) {
                conv_tiled::<_, 6, true>(k, g, x, kernel, bias, e, y);
            } else {
                conv_tiled::<_, 6, false>(k, g, x, kernel, bias, e, y);
            }
        }
    }

    /// The SIMD micro-kernel for the vectors `V`, holding the proof that the CPU has them.
    struct Simd<V: Vector>(V::Token);

    impl<V: Vector, const N: usize> Micro<N> for Simd<V> {
        /// AVX-512 has the registers for 2 × 12 tiles (AVX2 would need 4 × 6).
        const PAIRS: bool = V::LANES == MR;

        #[inline(always)]
        fn tile<const KM: bool>(&self, a: Filters<'_>, b: Rows<'_>, out: Out<'_>) {
            const { assert!(MR == V::LANES || MR == 2 * V::LANES) };
            let (kb, t) = (b.len(), self.0);
            let Out {
                y,
                n,
                f,
                first,
                fin,
            } = out;
            let m = a.count();
            // The bounds of the outputs the tile writes.
            assert!(
                kb > 0
                    && m <= 2 * MR
                    && n <= N
                    && n > 0
                    && y.len() >= (n - 1) * f + m
                    && fin.is_none_or(|e| e.bias.is_none_or(|b| b.len() == m) && e.then.fits(m))
            );
            let out = Store {
                y: y.as_mut_ptr(),
                n,
                f,
                first,
                fin,
            };
            // The tile of the filters `a` over the rows `$reads` of B, read as `$mode` says.
            macro_rules! filters {
                ($mode:expr, $reads:expr) => {{
                    let reads = $reads;
                    match a {
                        Filters::One(a, m) => {
                            // Row `k < kb` of the `m ≤ MR` filters at `a[k·m..]` (with
                            // `MR = LANES`, the bound leaves out the tiles of two vectors).
                            assert!(m <= MR && a.len() == kb * m);
                            // SAFETY: the lengths checked above and where each arm makes
                            // `reads` are `tile`'s contract, for `m ≤ MR ≤ 2·LANES` filters
                            // from `a`, `m` apart.
                            unsafe {
                                tile::rows::<V, N, { $mode }>(t, a.as_ptr(), m, None, reads, out)
                            }
                        }
                        Filters::Pair(a0, a1) => {
                            // Row `k < kb` of the two blocks at `a0[k·MR..]` and `a1[k·MR..]`.
                            assert!(V::LANES == MR && a0.len() == kb * MR && a1.len() == kb * MR);
                            // SAFETY: as above, for two full vectors of filters from `a0` and
                            // `a1`, `MR` apart.
                            unsafe {
                                tile::tile::<V, 2, N, false, { $mode }>(
                                    t,
                                    [a0.as_ptr(), a1.as_ptr()],
                                    MR,
                                    reads,
                                    out,
                                    MR,
                                )
                            }
                        }
                    }
                }};
            }
            match b {
                Rows::Panel(b, kb) => {
                    // Rows `0..kb` of positions `0..N`, at `j·sj + k·sk` ([`strides`]).
                    assert!(kb <= KBS && b.len() == N * KBS);
                    filters!(PANEL, Reads::panel(b.as_ptr(), kb, strides::<N, KM>()))
                }
                Rows::Direct(x, offs) => {
                    // Row `k` of position `j < N` at `offs[k] + j`.
                    let reach = offs.iter().fold(0, |r, &o| r.max(o)) + N;
                    assert!(KM && kb > 0 && x.len() >= reach);
                    filters!(DIRECT, Reads::direct(x.as_ptr(), offs))
                }
                Rows::Windows {
                    x,
                    runs,
                    len,
                    at,
                    depth,
                } => {
                    // Run `(o, w)` of position `j < N`: `x[o + at.of(j) ..]` + `len`, rows
                    // `w ..` + `len` of A. `last`: the largest offset of a position from the
                    // first (the list need not be sorted).
                    let last = match at {
                        Spacing::Stride(sj) => (N - 1) * sj,
                        Spacing::Listed(pos) => pos[..N].iter().fold(0, |r, &p| r.max(p)),
                    };
                    for &(o, w) in runs {
                        assert!(w + len <= depth && o + last + len <= x.len());
                    }
                    match at {
                        Spacing::Stride(sj) => {
                            filters!(WINDOWS, Reads::windows(x.as_ptr(), runs, len, sj, &[]))
                        }
                        Spacing::Listed(pos) => {
                            let pos = &pos[..N];
                            filters!(SPANS, Reads::windows(x.as_ptr(), runs, len, 0, pos))
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Padding;

    /// The definition, straight from KERAS_SEMANTICS §7, for comparison.
    fn naive(g: &ConvGeometry, x: &[f32], kernel: &[f32], bias: &[f32]) -> [f32; 4096] {
        let [ad, ah, aw] = g.axes;
        let (cin_g, f_g, f) = (g.cin / g.groups, g.filters / g.groups, g.filters);
        let mut y = [0.0; 4096];
        for od in 0..ad.out {
            for oh in 0..ah.out {
                for ow in 0..aw.out {
                    for fi in 0..f {
                        let grp = fi / f_g;
                        let mut s = 0.0;
                        for kd in 0..ad.k {
                            for kh in 0..ah.k {
                                for kw in 0..aw.k {
                                    let (Some(id), Some(ih), Some(iw)) = (
                                        ad.input_index(od, kd),
                                        ah.input_index(oh, kh),
                                        aw.input_index(ow, kw),
                                    ) else {
                                        continue;
                                    };
                                    for c in 0..cin_g {
                                        let xi = ((id * ah.n + ih) * aw.n + iw) * g.cin
                                            + grp * cin_g
                                            + c;
                                        let ki =
                                            (((kd * ah.k + kh) * aw.k + kw) * cin_g + c) * f + fi;
                                        s += x[xi] * kernel[ki];
                                    }
                                }
                            }
                        }
                        y[((od * ah.out + oh) * aw.out + ow) * f + fi] = s + bias[fi];
                    }
                }
            }
        }
        y
    }

    /// The portable kernel splits a deep reduction at the same rows on every target (256), so a
    /// host computes a microcontroller's bits: `(Σ rows 0..256 + Σ rows 256..300) + bias`.
    #[test]
    fn portable_chunks_are_the_same_on_every_target() {
        let x: [f32; 300] = core::array::from_fn(|i| ((i * 37) % 23) as f32 * 0.1 - 1.1);
        let w: [f32; 300] = core::array::from_fn(|i| ((i * 11) % 19) as f32 * 0.07 - 0.6);
        let one = AxisGeometry::resolve(1, 1, 1, 1, Padding::Valid).unwrap();
        let g = ConvGeometry {
            axes: [one, one, one],
            cin: 300,
            filters: 1,
            groups: 1,
        };
        // One filter: the packed kernel is in Keras's order.
        let mut y = [0.0f32; 1];
        conv_tiled::<Portable, NR, false>(
            &Portable,
            &g,
            &x,
            &w,
            Some(&[0.5]),
            &Epilogue::NONE,
            &mut y,
        );
        let sum = |rows: core::ops::Range<usize>| rows.fold(0.0f32, |s, k| s + w[k] * x[k]);
        let chunked = (sum(0..256) + sum(256..300)) + 0.5;
        // The two orders round differently here, so the test tells them apart.
        assert_ne!(chunked.to_bits(), (sum(0..300) + 0.5).to_bits());
        assert_eq!(y[0].to_bits(), chunked.to_bits());
    }

    /// The portable tile reading its rows straight from the input ([`Rows::Direct`], the
    /// specification of the SIMD direct tiles) computes the bits of its packed panels, on the
    /// geometries [`conv_rows`] takes (one channel, stride 1; padding, dilation, 3-D windows,
    /// short last tiles, filters not a multiple of the block).
    #[cfg(simd_kernels)]
    #[test]
    fn portable_direct_rows_compute_the_panel_bits() {
        let ax = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = ax(1, 1, 1, 1, Padding::Valid);
        let x: [f32; 2048] = core::array::from_fn(|i| ((i * 37) % 23) as f32 * 0.25 - 2.0);
        let w: [f32; 4096] = core::array::from_fn(|i| ((i * 11) % 19) as f32 * 0.125 - 1.0);
        let b: [f32; 64] = core::array::from_fn(|i| i as f32 * 0.5 - 3.0);
        for (axes, filters) in [
            (
                [
                    one,
                    ax(6, 3, 1, 1, Padding::Valid),
                    ax(16, 3, 1, 1, Padding::Valid),
                ],
                36,
            ),
            (
                [
                    one,
                    ax(9, 3, 1, 2, Padding::Same),
                    ax(13, 3, 1, 2, Padding::Valid),
                ],
                9,
            ),
            (
                [
                    ax(4, 2, 1, 1, Padding::Valid),
                    ax(5, 3, 1, 1, Padding::Same),
                    ax(15, 3, 1, 1, Padding::Valid),
                ],
                17,
            ),
            ([one, one, ax(7, 5, 1, 1, Padding::Same)], 1),
        ] {
            let g = ConvGeometry {
                axes,
                cin: 1,
                filters,
                groups: 1,
            };
            let [ad, ah, aw] = axes;
            let (xl, kl) = (ad.n * ah.n * aw.n, ad.k * ah.k * aw.k * filters);
            let yl = ad.out * ah.out * aw.out * filters;
            for relu in [false, true] {
                let e = if relu { Epilogue::RELU } else { Epilogue::NONE };
                let (xs, ws, bs) = (&x[..xl], &w[..kl], Some(&b[..filters]));
                let mut panel = [7.0f32; 4096];
                conv_tiled::<Portable, 4, true>(&Portable, &g, xs, ws, bs, &e, &mut panel[..yl]);
                let mut direct = [7.0f32; 4096];
                conv_rows::<Portable, 4>(&Portable, &g, xs, ws, bs, &e, &mut direct[..yl]);
                assert_eq!(direct[..yl], panel[..yl], "{g:?}");
            }
        }
    }

    /// The SIMD kernels reading windows straight from the input ([`conv_windows`]: several
    /// channels or a stride) compute the portable kernel's values, within the rounding of fused
    /// multiply-adds, on every instruction set this CPU has: rows long enough for every tile
    /// width and for a last, overlapping tile; padding at the ends of the rows (packed) and of
    /// the other axes (runs left out); strides; 1×1 convolutions as one row; pairs of filter
    /// blocks and short blocks; a 3-D window; dilation along the height; rows too short for a
    /// tile (across the ends of rows without padding, [`conv_spans`], packed with it); and a
    /// reduction deeper than a panel.
    #[cfg(simd_kernels)]
    #[test]
    fn simd_windows_match_the_portable_kernel() {
        use std::vec::Vec;
        let ax = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = ax(1, 1, 1, 1, Padding::Valid);
        let same = Padding::Same;
        let valid = Padding::Valid;
        let cases = [
            // (depth, height, width), cin, filters
            ([one, ax(5, 3, 1, 1, same), ax(32, 3, 1, 1, same)], 16, 16),
            ([one, ax(4, 3, 1, 1, same), ax(16, 3, 1, 1, same)], 16, 32),
            ([one, ax(3, 3, 1, 1, same), ax(8, 3, 1, 1, same)], 32, 64),
            ([one, ax(6, 3, 2, 1, same), ax(32, 3, 2, 1, same)], 16, 32),
            ([one, ax(5, 3, 2, 1, same), ax(16, 3, 2, 1, same)], 8, 40),
            ([one, ax(4, 1, 1, 1, same), ax(29, 1, 1, 1, same)], 24, 20),
            ([one, one, ax(125, 1, 1, 1, valid)], 64, 64),
            ([one, ax(7, 1, 2, 1, valid), ax(9, 1, 2, 1, valid)], 16, 32),
            ([one, ax(4, 3, 1, 1, valid), ax(23, 3, 1, 1, valid)], 4, 9),
            ([one, ax(4, 3, 1, 1, valid), ax(18, 3, 1, 1, valid)], 8, 16),
            ([one, ax(49, 10, 2, 1, same), ax(10, 4, 2, 1, same)], 1, 16),
            ([one, ax(49, 10, 2, 1, same), ax(10, 4, 2, 1, same)], 3, 17),
            ([one, ax(9, 3, 1, 2, same), ax(19, 3, 1, 1, same)], 2, 8),
            (
                [
                    ax(3, 2, 1, 1, same),
                    ax(4, 3, 1, 1, same),
                    ax(14, 3, 1, 1, same),
                ],
                3,
                17,
            ),
            ([one, ax(3, 3, 1, 1, same), ax(5, 3, 1, 1, same)], 6, 16),
            ([one, ax(3, 3, 1, 1, same), ax(14, 3, 1, 1, same)], 70, 9),
            ([one, one, ax(20, 3, 1, 1, Padding::Causal)], 4, 8),
            ([one, ax(8, 3, 2, 1, valid), ax(10, 3, 2, 1, same)], 3, 16),
            // Rows shorter than a tile, without padding: tiles across the ends of rows
            // (`conv_spans`; M2's second layer), the last of them narrow or overlapping, with a
            // stride, and in 3-D; and too few positions for one tile (packed).
            (
                [one, ax(13, 3, 1, 1, valid), ax(13, 3, 1, 1, valid)],
                32,
                64,
            ),
            ([one, ax(4, 3, 1, 1, valid), ax(13, 3, 1, 1, valid)], 16, 16),
            ([one, ax(9, 3, 2, 1, valid), ax(11, 3, 2, 1, valid)], 5, 24),
            (
                [
                    ax(4, 2, 1, 1, valid),
                    ax(5, 2, 1, 1, valid),
                    ax(6, 3, 1, 1, valid),
                ],
                3,
                16,
            ),
            ([one, ax(5, 3, 1, 1, valid), ax(5, 3, 1, 1, valid)], 8, 16),
        ];
        // Miri interprets every value: there, four small cases (direct rows with an overlapping
        // last tile, a 1×1 stride-2 convolution over the ends of its short rows, packed rows,
        // dilation), with ReLU. Every case
        // with padding runs twice: through the entry (which runs it on a padded copy of the
        // input where that fits, [`padded_copy`]) and without the copy ([`simd::Direct`]).
        let picked: Vec<_> = if cfg!(miri) {
            [7, 8, 9, 12].map(|i| (cases[i], true)).to_vec()
        } else {
            cases
                .into_iter()
                .flat_map(|c| [(c, false), (c, true)])
                .collect()
        };
        for ((axes, cin, filters), relu) in picked {
            let e = if relu { Epilogue::RELU } else { Epilogue::NONE };
            let g = ConvGeometry {
                axes,
                cin,
                filters,
                groups: 1,
            };
            assert!(windowed(&g), "{g:?}");
            let [ad, ah, aw] = axes;
            let xl = ad.n * ah.n * aw.n * cin;
            let kl = ad.k * ah.k * aw.k * cin * filters;
            let yl = ad.out * ah.out * aw.out * filters;
            let x: Vec<f32> = (0..xl)
                .map(|i| ((i * 37) % 23) as f32 * 0.25 - 2.0)
                .collect();
            let w: Vec<f32> = (0..kl)
                .map(|i| ((i * 11) % 19) as f32 * 0.0625 - 0.5)
                .collect();
            let b: Vec<f32> = (0..filters).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut want = std::vec![7.0f32; yl];
            conv_tiled::<Portable, NR, false>(&Portable, &g, &x, &w, Some(&b), &e, &mut want);
            if relu {
                want.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            let mut scratch = core::mem::MaybeUninit::uninit();
            let copies = padded_copy(&g, &x, &mut scratch).is_some();
            for (isa, copy) in crate::kernels::isas()
                .into_iter()
                .flat_map(|isa| [(isa, false), (isa, true)])
                .filter(|&(_, copy)| copies || !copy)
            {
                let mut y = std::vec![7.0f32; yl];
                let call = Conv {
                    g: &g,
                    x: &x,
                    kernel: &w,
                    bias: Some(&b),
                    e: &e,
                    y: &mut y,
                };
                if copy {
                    crate::kernels::run(isa, call)
                } else {
                    crate::kernels::run(isa, simd::Direct(call))
                }
                .expect("the CPU has it");
                for (i, (got, want)) in y.iter().zip(&want).enumerate() {
                    assert!(
                        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                        "{isa:?} {g:?} relu {relu} copy {copy} at {i}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn panels_are_a_permutation() {
        for (depth, filters, groups) in [(9, 16, 1), (7, 17, 1), (5, 9, 3), (4, 40, 2), (3, 2, 2)] {
            let mut seen = [false; 1024];
            for kk in 0..depth {
                for f in 0..filters {
                    let i = panel_index(depth, filters / groups, kk, f);
                    assert!(!seen[i], "{depth} {filters} {groups}: {kk} {f}");
                    seen[i] = true;
                }
            }
            assert!(seen[..depth * filters].iter().all(|&s| s));
        }
    }

    #[test]
    fn matches_the_definition() {
        let x: [f32; 8192] = core::array::from_fn(|i| ((i * 37) % 23) as f32 * 0.25 - 2.0);
        let w: [f32; 8192] = core::array::from_fn(|i| ((i * 11) % 19) as f32 * 0.125 - 1.0);
        let b: [f32; 64] = core::array::from_fn(|i| i as f32 * 0.5 - 3.0);
        let ax = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = ax(1, 1, 1, 1, Padding::Valid);
        let cases = [
            // (depth, height, width), cin, filters, groups
            ([one, one, ax(9, 3, 1, 1, Padding::Valid)], 3, 5, 1),
            ([one, one, ax(9, 3, 2, 1, Padding::Causal)], 4, 6, 2),
            ([one, one, ax(70, 2, 1, 3, Padding::Same)], 70, 9, 1),
            (
                [
                    one,
                    ax(5, 3, 1, 1, Padding::Same),
                    ax(6, 2, 2, 1, Padding::Same),
                ],
                2,
                16,
                1,
            ),
            (
                [
                    one,
                    ax(7, 3, 1, 2, Padding::Same),
                    ax(8, 4, 1, 2, Padding::Valid),
                ],
                6,
                9,
                3,
            ),
            (
                [
                    ax(4, 2, 1, 1, Padding::Same),
                    ax(3, 3, 1, 1, Padding::Same),
                    ax(5, 2, 3, 1, Padding::Valid),
                ],
                3,
                17,
                1,
            ),
            (
                [
                    one,
                    ax(1, 9, 1, 1, Padding::Same),
                    ax(2, 5, 1, 1, Padding::Same),
                ],
                1,
                8,
                1,
            ),
            // Pairs of full 16-filter blocks, then a short block; per group too.
            (
                [
                    one,
                    ax(5, 3, 1, 1, Padding::Same),
                    ax(6, 3, 1, 1, Padding::Valid),
                ],
                5,
                40,
                1,
            ),
            ([one, one, ax(9, 3, 1, 1, Padding::Valid)], 4, 64, 2),
            // One channel, stride 1: rows read straight from the input on the SIMD path (pairs
            // and a short block; dilation; padding packed; a 3D window).
            (
                [
                    one,
                    ax(6, 3, 1, 1, Padding::Valid),
                    ax(16, 3, 1, 1, Padding::Valid),
                ],
                1,
                36,
                1,
            ),
            (
                [
                    one,
                    ax(9, 3, 1, 2, Padding::Same),
                    ax(20, 3, 1, 2, Padding::Valid),
                ],
                1,
                9,
                1,
            ),
            (
                [
                    ax(4, 2, 1, 1, Padding::Valid),
                    ax(5, 3, 1, 1, Padding::Same),
                    ax(15, 3, 1, 1, Padding::Valid),
                ],
                1,
                8,
                1,
            ),
            // 9 taps × 70 channels = 630 rows: more than one panel (KB).
            ([one, one, ax(12, 9, 1, 1, Padding::Same)], 70, 9, 1),
            (
                [
                    one,
                    ax(3, 3, 1, 1, Padding::Same),
                    ax(4, 3, 1, 1, Padding::Same),
                ],
                140,
                2,
                2,
            ),
        ];
        // Every case runs without and with the fused ReLU.
        for ((axes, cin, filters, groups), relu) in
            cases.into_iter().flat_map(|c| [(c, false), (c, true)])
        {
            let e = if relu { Epilogue::RELU } else { Epilogue::NONE };
            let g = ConvGeometry {
                axes,
                cin,
                filters,
                groups,
            };
            let [ad, ah, aw] = axes;
            let xl = ad.n * ah.n * aw.n * cin;
            let kl = ad.k * ah.k * aw.k * cin / groups * filters;
            let yl = ad.out * ah.out * aw.out * filters;
            let mut want = naive(&g, &x, &w, &b);
            if relu {
                want.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            let depth = kl / filters;
            let mut packed = [0.0f32; 8192];
            for (i, &v) in w[..kl].iter().enumerate() {
                packed[panel_index(depth, filters / groups, i / filters, i % filters)] = v;
            }
            let w = packed;
            // The dispatching entry point and both tile widths compute the same bits.
            let mut first = [7.0f32; 4096];
            let fused = conv(
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &e,
                &mut first[..yl],
            );
            if relu && !fused {
                first[..yl].iter_mut().for_each(|v| *v = v.max(0.0));
            }
            for (i, (got, want)) in first[..yl].iter().zip(&want[..yl]).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{g:?} at {i}: {got} vs {want}"
                );
            }
            let mut y = [7.0f32; 4096];
            // Both tile widths of the portable path compute the same bits.
            let mut portable = [7.0f32; 4096];
            conv_tiled::<Portable, 4, false>(
                &Portable,
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &e,
                &mut portable[..yl],
            );
            conv_tiled::<Portable, 8, false>(
                &Portable,
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &e,
                &mut y[..yl],
            );
            assert_eq!(y[..yl], portable[..yl]);
            // Both panel layouts too.
            let mut rows = [7.0f32; 4096];
            conv_tiled::<Portable, 4, true>(
                &Portable,
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &e,
                &mut rows[..yl],
            );
            assert_eq!(rows[..yl], portable[..yl]);
            for (i, (got, want)) in portable[..yl].iter().zip(&want[..yl]).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "portable {g:?} at {i}: {got} vs {want}"
                );
            }
            // Each SIMD instruction set this CPU has.
            #[cfg(simd_kernels)]
            for isa in crate::kernels::isas() {
                let mut y = [7.0f32; 4096];
                let call = Conv {
                    g: &g,
                    x: &x[..xl],
                    kernel: &w[..kl],
                    bias: Some(&b[..filters]),
                    e: &e,
                    y: &mut y[..yl],
                };
                crate::kernels::run(isa, call).expect("the CPU has it");
                for (i, (got, want)) in y[..yl].iter().zip(&want[..yl]).enumerate() {
                    assert!(
                        (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                        "{isa:?} {g:?} at {i}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// The convolution with an epilogue (BatchNormalization's affine step, a ReLU or ReLU6, or
    /// both) computes the bits of the unfused chain: the same kernel without it, then
    /// BatchNormalization's own `affine_in_place` and the activation's own pass. On every SIMD
    /// instruction set this CPU has (the epilogue in the store), and on the portable kernel
    /// (the epilogue in its store, and as the pass after it that the layer runs). Factors and
    /// biases that make NaN, infinities and both zeros reach the clamp; the SIMD paths of rows,
    /// windows, pairs of filter blocks, masked tails, groups and reductions deeper than a panel.
    #[test]
    fn the_epilogue_computes_the_bits_of_the_unfused_layers() {
        use crate::layers::norm::math::affine_in_place;
        use crate::Activation;
        use std::vec::Vec;

        fn case<const F: usize>(axes: [AxisGeometry; 3], cin: usize, groups: usize) {
            let g = ConvGeometry {
                axes,
                cin,
                filters: F,
                groups,
            };
            let [ad, ah, aw] = axes;
            let xl = ad.n * ah.n * aw.n * cin;
            let depth = ad.k * ah.k * aw.k * cin / groups;
            let yl = ad.out * ah.out * aw.out * F;
            let x: Vec<f32> = (0..xl)
                .map(|i| ((i * 37) % 23) as f32 * 0.2137 - 2.0)
                .collect();
            let keras: Vec<f32> = (0..depth * F)
                .map(|i| ((i * 11) % 19) as f32 * 0.0625 - 0.5)
                .collect();
            let mut w = std::vec![0.0f32; depth * F];
            for (i, &v) in keras.iter().enumerate() {
                w[panel_index(depth, F / groups, i / F, i % F)] = v;
            }
            let mut bias: Vec<f32> = (0..F).map(|i| i as f32 * 0.5 - 3.0).collect();
            bias[F - 1] = f32::NAN;
            // Factors: ordinary ones, a zero scale with a -0 shift (outputs ±0), an infinite
            // scale (±∞, and NaN at zero).
            let a: [f32; F] = core::array::from_fn(|f| match f % 5 {
                0 => 0.0,
                1 => f32::INFINITY,
                // Whole mantissas, so that a fused multiply-add would round differently.
                _ => 0.75 - f as f32 * 0.1237,
            });
            let b: [f32; F] = core::array::from_fn(|f| match f % 5 {
                0 => -0.0,
                _ => f as f32 * 0.3 - 1.0,
            });
            let unfused = |y: &mut [f32], affine: bool, act: Activation| {
                if affine {
                    affine_in_place::<F, 1>(y, &a, &b);
                }
                act.apply(y, F);
            };
            let same = |got: &[f32], want: &[f32], what: &str| {
                for (i, (got, want)) in got.iter().zip(want).enumerate() {
                    assert!(
                        got.to_bits() == want.to_bits() || got.is_nan() && want.is_nan(),
                        "{what} {g:?} at {i}: {got:e} vs {want:e}"
                    );
                }
            };
            // Under Miri (which checks the stores' pointers, the same for every epilogue), the
            // affine step with ReLU6 only.
            for affine in [false, true] {
                for (act, clamp) in [
                    (Activation::Linear, None),
                    (Activation::Relu, Some(f32::INFINITY)),
                    (Activation::Relu6, Some(6.0)),
                ] {
                    if cfg!(miri) && !(affine && act == Activation::Relu6) {
                        continue;
                    }
                    let e = Epilogue {
                        affine: affine.then_some((&a[..], &b[..])),
                        clamp,
                    };
                    let what = std::format!("affine {affine} {act:?}");
                    // The portable kernel: in its store, and as a pass after it.
                    let portable = |e: &Epilogue<'_>| {
                        let mut y = std::vec![7.0f32; yl];
                        let bias = Some(&bias[..]);
                        conv_tiled::<Portable, NR, false>(&Portable, &g, &x, &w, bias, e, &mut y);
                        y
                    };
                    let mut want = portable(&Epilogue::NONE);
                    let mut pass = want.clone();
                    unfused(&mut want, affine, act);
                    e.apply(&mut pass, F);
                    same(&pass, &want, &std::format!("portable pass, {what}"));
                    let stored = portable(&e);
                    same(&stored, &want, &std::format!("portable store, {what}"));
                    #[cfg(simd_kernels)]
                    for isa in crate::kernels::isas() {
                        let run = |e: &Epilogue<'_>| {
                            let mut y = std::vec![7.0f32; yl];
                            let call = Conv {
                                g: &g,
                                x: &x,
                                kernel: &w,
                                bias: Some(&bias),
                                e,
                                y: &mut y,
                            };
                            crate::kernels::run(isa, call).expect("the CPU has it");
                            y
                        };
                        let mut want = run(&Epilogue::NONE);
                        unfused(&mut want, affine, act);
                        same(&run(&e), &want, &std::format!("{isa:?}, {what}"));
                    }
                }
            }
        }

        let ax = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = ax(1, 1, 1, 1, Padding::Valid);
        let same = Padding::Same;
        // Windows read in place, with pairs of blocks and a masked tail (under Miri, rows of 14
        // positions: one full tile and the packed ends).
        let wide = if cfg!(miri) { 14 } else { 32 };
        case::<17>([one, ax(5, 3, 1, 1, same), ax(wide, 3, 1, 1, same)], 16, 1);
        case::<40>([one, ax(5, 3, 2, 1, same), ax(16, 3, 2, 1, same)], 8, 1);
        // A 1×1 convolution as one row.
        case::<32>([one, ax(4, 1, 1, 1, same), ax(29, 1, 1, 1, same)], 24, 1);
        // One input channel: rows read straight from the input.
        case::<16>([one, ax(9, 3, 1, 1, same), ax(20, 3, 1, 1, same)], 1, 1);
        // Groups (packed), and a reduction deeper than a panel (the epilogue with the last
        // chunk only).
        case::<9>([one, ax(3, 3, 1, 1, same), ax(4, 3, 1, 1, same)], 6, 3);
        case::<9>([one, one, ax(12, 9, 1, 1, same)], 70, 1);
    }
}
