//! The register tile: the one micro-kernel of every SIMD product, the matrix product's
//! ([`super::product`]) and the convolution's (`layers/conv/kernel.rs`).
//!
//! A tile keeps `MV` vectors of rows of the result × `N` positions (columns) in registers for a
//! whole pass over the reduction: per row `k` of the reduction, `MV` loads from A, `N`
//! broadcasts from B and `MV·N` fused multiply-adds, each sum adding its products in the order of
//! `k`. Its operands differ only in where they are:
//!
//! - A ([`tile`]'s `a` and `step`): vector `v` of row `k` at `a[v] + k·step`. The matrix
//!   product's tile of rows `i..` of a column-major `A` has `a[v] = A + i + v·LANES` and
//!   `step = lda`; the convolution's packed block of filters has `step` = its filters; two blocks
//!   at once are two unrelated pointers.
//! - B ([`Reads`]): row `k` of position `j` at `b + row(k) + pos(j)`, with `row` and `pos` as the
//!   mode says: the columns of a column-major matrix, the product's packed panel, the
//!   convolution's packed panel, or the convolution's input itself (row by row, or window by
//!   window).
//! - the result ([`Store`]): vector `v` of position `j` at `y + j·f + v·LANES`, written or added
//!   to, and with the last chunk of a convolution's reduction its bias and epilogue.

use super::vector::Vector;
use crate::epilogue::Finish;

/// Row `k` at `b + k·sk`, position `j` at `j·sj`: the columns of a column-major B (`sk = 1`,
/// `sj` its leading dimension). With by-element multiply-adds ([`Vector::LANE_FMADD`]) the tile
/// reads 4 consecutive rows of a position in one load.
pub(crate) const COLUMNS: u8 = 0;
/// The matrix product's packed panel: groups of `LANES` consecutive rows per position, the
/// groups of the `N` positions one after the other (row `k` of position `j` at
/// `(k / LANES · N + j) · LANES + k mod LANES`).
pub(crate) const GROUPS: u8 = 1;
/// Row `k` at `b + k·sk`, position `j` at `j·sj`: the convolution's packed panel.
pub(crate) const PANEL: u8 = 2;
/// Row `k` at `b + offs[k]`, position `j` at `j`: the convolution's input, one channel and stride
/// 1, row by row.
pub(crate) const DIRECT: u8 = 3;
/// Rows `w + c` (`c < len`) at `b + o + c` for each run `(o, w)`, position `j` at `j·sj` (rows of
/// no run are not read: their products are zeros): the convolution's input, window by window,
/// along a row of outputs.
pub(crate) const WINDOWS: u8 = 4;
/// As [`WINDOWS`], position `j` at the listed `pos[j]`: windows over the ends of output rows.
/// A mode of its own, so that the [`WINDOWS`] tile keeps addressing its positions from one
/// stride.
pub(crate) const SPANS: u8 = 5;

/// The rows of B one tile reads, in the mode (above) it is run with: made by the constructors,
/// one per mode.
#[derive(Clone, Copy)]
pub(crate) struct Reads<'a> {
    b: *const f32,
    /// Rows of the reduction (`COLUMNS`, `GROUPS`, `PANEL`).
    kb: usize,
    sj: usize,
    sk: usize,
    offs: &'a [usize],
    runs: &'a [(usize, usize)],
    len: usize,
    pos: &'a [usize],
}

impl<'a> Reads<'a> {
    const NONE: Reads<'static> = Reads {
        b: core::ptr::null(),
        kb: 0,
        sj: 0,
        sk: 0,
        offs: &[],
        runs: &[],
        len: 0,
        pos: &[],
    };

    /// [`COLUMNS`]: rows `0..k`, column `j` from `b + j·ld`.
    #[inline(always)]
    pub(crate) fn columns(b: *const f32, k: usize, ld: usize) -> Self {
        Reads {
            b,
            kb: k,
            sj: ld,
            sk: 1,
            ..Self::NONE
        }
    }

    /// [`GROUPS`]: rows `0..k` of the product's panel.
    #[inline(always)]
    pub(crate) fn groups(b: *const f32, k: usize) -> Self {
        Reads {
            b,
            kb: k,
            ..Self::NONE
        }
    }

    /// [`PANEL`]: rows `0..kb`, row `k` of position `j` at `b + j·sj + k·sk`.
    #[inline(always)]
    pub(crate) fn panel(b: *const f32, kb: usize, (sj, sk): (usize, usize)) -> Self {
        Reads {
            b,
            kb,
            sj,
            sk,
            ..Self::NONE
        }
    }

    /// [`DIRECT`]: row `k` of position `j` at `b + offs[k] + j`.
    #[inline(always)]
    pub(crate) fn direct(b: *const f32, offs: &'a [usize]) -> Self {
        Reads {
            b,
            sj: 1,
            offs,
            ..Self::NONE
        }
    }

    /// [`WINDOWS`] (`pos` empty: position `j` at `j·sj`) or [`SPANS`] (position `j` at
    /// `pos[j]`): rows `w..w + len` at `b + o + pos(j)..` for each run `(o, w)`.
    #[inline(always)]
    pub(crate) fn windows(
        b: *const f32,
        runs: &'a [(usize, usize)],
        len: usize,
        sj: usize,
        pos: &'a [usize],
    ) -> Self {
        Reads {
            b,
            sj,
            runs,
            len,
            pos,
            ..Self::NONE
        }
    }
}

/// Where a tile's sums go: vector `v` of position `j < n` at `y + j·f + v·LANES`. `first`: the
/// sums are written (else added to what is there); `fin`: the last chunk of a reduction, whose
/// store adds the bias and applies the epilogue.
pub(crate) struct Store<'a> {
    pub y: *mut f32,
    pub n: usize,
    pub f: usize,
    pub first: bool,
    pub fin: Option<Finish<'a>>,
}

/// The offset of each position `j < N` of `b` from position 0's ([`Reads`]).
#[inline(always)]
fn positions<V: Vector, const N: usize, const MODE: u8>(b: &Reads<'_>) -> [usize; N] {
    let mut pos = [0; N];
    if MODE == SPANS {
        pos.copy_from_slice(&b.pos[..N]);
        return pos;
    }
    let sj = if MODE == GROUPS { V::LANES } else { b.sj };
    for (j, p) in pos.iter_mut().enumerate() {
        *p = j * sj;
    }
    pos
}

/// A tile of `m ≤ 2·LANES` rows of the result: the register tile for their vectors (one or two,
/// the last masked when `m` is not a whole number of them), rows from `a`, `step` apart, or `m`
/// apart for `None` (a packed block: the full tiles then step by a constant, which the compiler
/// turns into a pointer increment and a paired load).
///
/// # Safety
/// As [`tile`] with `a[v] = a + v·LANES` and `last` the rows of the last vector, and `a` holds
/// the `m` values of row 0 (so that `a + LANES` is inside A where `m > LANES`).
#[inline(always)]
pub(crate) unsafe fn rows<V: Vector, const N: usize, const MODE: u8>(
    t: V::Token,
    a: *const f32,
    m: usize,
    step: Option<usize>,
    b: Reads<'_>,
    out: Store<'_>,
) {
    let l = V::LANES;
    debug_assert!(m > 0 && m <= 2 * l);
    // SAFETY: the caller's promise, for `m = (MV − 1)·l + last` in each arm; `a + l` (the second
    // vector's rows) is formed only where `m > l`, inside row 0's `m` values.
    unsafe {
        if m == 2 * l {
            let step = step.unwrap_or(2 * l);
            tile::<V, 2, N, false, MODE>(t, [a, a.add(l)], step, b, out, l);
        } else if m > l {
            let step = step.unwrap_or(m);
            tile::<V, 2, N, true, MODE>(t, [a, a.add(l)], step, b, out, m - l);
        } else if m == l {
            let step = step.unwrap_or(l);
            tile::<V, 1, N, false, MODE>(t, [a], step, b, out, l);
        } else {
            let step = step.unwrap_or(m);
            tile::<V, 1, N, true, MODE>(t, [a], step, b, out, m);
        }
    }
}

/// The register tile: `MV` (1 or 2) vectors of rows (the last holding `last` when `TAIL`) × `N`
/// positions, `Σ_k A[k, ·] · B[k, j]` for every row of the reduction that `b` reads, into `out`.
///
/// # Safety
/// - A: for every row `k` that `b` reads (`MODE`, [`Reads`]), vector `v` of it is readable at
///   `a[v] + k·step`: `LANES` values, or `last` for the masked tail.
/// - B: for every such row `k` and position `j < N`, the value at `b + row(k) + pos(j)` is
///   readable (`COLUMNS`' 4-row loads read rows `4q..4q + 4 ≤ kb`, all read anyway).
/// - `out`: `n ≤ N`; for `j < n`, vector `v` of position `j` (full, or the tail's `last`) is
///   writable (and readable unless `first`) at `y + j·f + v·LANES`, and not aliased by A or B;
///   `fin`'s bias and factors hold the tile's `(MV − 1)·LANES + last` rows.
#[inline(always)]
pub(crate) unsafe fn tile<
    V: Vector,
    const MV: usize,
    const N: usize,
    const TAIL: bool,
    const MODE: u8,
>(
    t: V::Token,
    a: [*const f32; MV],
    step: usize,
    b: Reads<'_>,
    out: Store<'_>,
    last: usize,
) {
    let l = V::LANES;
    let mk = V::mask(t, last);
    let mut acc = [[V::zero(t); MV]; N];
    // The offset of each position from position 0's, hoisted out of the loop.
    let pos = positions::<V, N, MODE>(&b);
    // The row of A at `$ak` (`k·step` for row `k`) times the value of row `k` of each position
    // of B, its row at `$row`. The loops below step `ak` by `step` rather than multiply `k`: the
    // product stayed in the loop where the filters were not a constant.
    macro_rules! step {
        ($ak:expr, $row:expr) => {{
            let (ak, row) = ($ak, $row);
            // SAFETY: `ak = k·step` for a row `k` that `b` reads (the caller's promise).
            let av = unsafe { row_a::<V, MV, TAIL>(t, a, ak, mk) };
            for (j, acc) in acc.iter_mut().enumerate() {
                // SAFETY: row `k` of position `j < N` of B (the caller's promise).
                let x = unsafe { V::broadcast(t, b.b.add(row + pos[j])) };
                for (acc, &av) in acc.iter_mut().zip(&av) {
                    *acc = V::fmadd(av, x, *acc);
                }
            }
        }};
    }
    // The first row left to the loops below.
    let mut p = 0;
    // With by-element multiply-adds (NEON) and full vectors, the matrix product's rows 4 at a
    // time: B's 4 values of each position in one load, each used by lane, instead of 4
    // broadcasts from memory. Every sum still adds its products in the order of `k`, so the bits
    // are the same.
    if (MODE == COLUMNS || MODE == GROUPS) && V::LANE_FMADD && l == 4 && !TAIL {
        // Rows `4q..4q + 4`.
        macro_rules! quad {
            ($q:expr) => {{
                let k = 4 * $q;
                // SAFETY: rows `k..k + 4 ≤ kb`, rows that `b` reads (the caller's promise).
                let av = unsafe {
                    [
                        row_a::<V, MV, TAIL>(t, a, k * step, mk),
                        row_a::<V, MV, TAIL>(t, a, (k + 1) * step, mk),
                        row_a::<V, MV, TAIL>(t, a, (k + 2) * step, mk),
                        row_a::<V, MV, TAIL>(t, a, (k + 3) * step, mk),
                    ]
                };
                let row = if MODE == GROUPS {
                    group_row::<V, N>(k)
                } else {
                    k * b.sk
                };
                for (j, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: rows `k..k + 4 ≤ kb` of position `j < N`: consecutive values of a
                    // column (`sk = 1`) or the group of the panel holding them.
                    let bv = unsafe { V::load(t, b.b.add(row + pos[j])) };
                    for (v, acc) in acc.iter_mut().enumerate() {
                        *acc = V::fmadd_lane::<0>(t, av[0][v], bv, *acc);
                        *acc = V::fmadd_lane::<1>(t, av[1][v], bv, *acc);
                        *acc = V::fmadd_lane::<2>(t, av[2][v], bv, *acc);
                        *acc = V::fmadd_lane::<3>(t, av[3][v], bv, *acc);
                    }
                }
            }};
        }
        // Two groups per pass: one loop step and one step of the panel's pointer per 8 rows.
        let quads = b.kb / 4;
        for q in 0..quads / 2 {
            quad!(2 * q);
            quad!(2 * q + 1);
        }
        if quads % 2 == 1 {
            quad!(quads - 1);
        }
        p = quads * 4;
    }
    if MODE == COLUMNS || MODE == PANEL {
        let mut ak = p * step;
        for k in p..b.kb {
            step!(ak, k * b.sk);
            ak += step;
        }
    } else if MODE == GROUPS {
        // Group by group: each group's values of every position at constant offsets from one
        // point of the panel; then the rows of the last, partial group.
        let whole = b.kb / l;
        let mut ak = p / l * l * step;
        for q in p / l..whole {
            for u in 0..l {
                step!(ak, q * N * l + u);
                ak += step;
            }
        }
        for k in (whole * l).max(p)..b.kb {
            step!(k * step, group_row::<V, N>(k));
        }
    } else if MODE == DIRECT {
        let mut ak = 0;
        for &row in b.offs {
            step!(ak, row);
            ak += step;
        }
    } else {
        for &(o, w) in b.runs {
            let mut ak = w * step;
            for c in 0..b.len {
                step!(ak, o + c);
                ak += step;
            }
        }
    }
    let Store {
        y,
        n,
        f,
        first,
        fin,
    } = out;
    // Vector `v` of the `n` positions, its bias and epilogue factors loaded once for all of
    // them. A macro for each constant `v`, so that `acc` is indexed by constants and stays in
    // registers (a loop over `v` outside the positions' loop left it on the stack).
    macro_rules! store {
        ($v:expr) => {{
            let v = $v;
            let tail = TAIL && v + 1 == MV;
            // SAFETY: the bias and the factors hold the tile's rows, vector `v` of them from
            // `v·l` (the caller's promise).
            let (bias, then) = unsafe {
                match fin {
                    Some(e) => (
                        match e.bias {
                            Some(b) => Some(lanes::<V>(t, b.as_ptr().add(v * l), tail, mk)),
                            None => None,
                        },
                        Some(e.then.load_lanes::<V>(t, v * l, tail, mk)),
                    ),
                    None => (None, None),
                }
            };
            for (j, acc) in acc.iter().enumerate().take(n) {
                // SAFETY: `j < n`: vector `v` of position `j` is inside the output, full or
                // masked as loaded (the caller's promise).
                unsafe {
                    let p = y.add(j * f + v * l);
                    let mut sum = if first {
                        acc[v]
                    } else {
                        V::add(lanes::<V>(t, p, tail, mk), acc[v])
                    };
                    if let Some(b) = bias {
                        sum = V::add(sum, b);
                    }
                    if let Some(e) = then {
                        sum = e.apply(t, sum);
                    }
                    if tail {
                        V::store_masked(p, mk, sum);
                    } else {
                        V::store(p, sum);
                    }
                }
            }
        }};
    }
    const { assert!(MV == 1 || MV == 2) };
    store!(0);
    if MV == 2 {
        store!(MV - 1);
    }
}

/// Where row `k` of the matrix product's panel starts ([`GROUPS`]).
#[inline(always)]
fn group_row<V: Vector, const N: usize>(k: usize) -> usize {
    let l = V::LANES;
    k / l * N * l + k % l
}

/// One vector from `p`: `LANES` values, or the mask's lanes for a masked `tail`.
///
/// # Safety
/// `p` is valid for reads of those values.
#[inline(always)]
pub(crate) unsafe fn lanes<V: Vector>(t: V::Token, p: *const f32, tail: bool, mk: V::Mask) -> V {
    // SAFETY: the caller's promise.
    unsafe {
        if tail {
            V::load_masked(t, p, mk)
        } else {
            V::load(t, p)
        }
    }
}

/// The `MV` vectors of a row of A, vector `v` from `a[v] + at` (the last masked when `TAIL`).
///
/// # Safety
/// Each vector's values (the mask's lanes for the tail) are readable there.
#[inline(always)]
unsafe fn row_a<V: Vector, const MV: usize, const TAIL: bool>(
    t: V::Token,
    a: [*const f32; MV],
    at: usize,
    mk: V::Mask,
) -> [V; MV] {
    let mut av = [V::zero(t); MV];
    for (v, av) in av.iter_mut().enumerate() {
        // SAFETY: the caller's promise, for vector `v`.
        *av = unsafe { lanes::<V>(t, a[v].add(at), TAIL && v + 1 == MV, mk) };
    }
    av
}
