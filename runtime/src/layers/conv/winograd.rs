//! Winograd F(2×2, 3×3) for the stride-1 3×3 convolutions of the SIMD builds: 16 multiplications
//! per 2×2 output tile and channel pair instead of 36.
//!
//! With the filter `g` (3×3), a 4×4 input tile `d` and the matrices of Lavin and Gray (2015),
//!
//! ```text
//!      ⎡1  0  0⎤         ⎡1  0 -1  0⎤         ⎡1  1  1  0⎤
//!  G = ⎢½  ½  ½⎥    Bᵀ = ⎢0  1  1  0⎥    Aᵀ = ⎣0  1 -1 -1⎦
//!      ⎢½ -½  ½⎥         ⎢0 -1  1  0⎥
//!      ⎣0  0  1⎦         ⎣0  1  0 -1⎦
//! ```
//!
//! the 2×2 outputs of Keras's correlation are `Y = Aᵀ [Σ_c (G g_fc Gᵀ) ⊙ (Bᵀ d_c B)] A`. For each
//! of the 16 elements `e` of the 4×4 tile, the sum over channels is a matrix product
//! `M_e (filters × tiles) = U_e (filters × cin) · V_e (cin × tiles)`, run by the SIMD GEMM
//! ([`Gemm`]). The steps:
//!
//! 1. `U = G g Gᵀ` of every filter and channel, from the packed kernel ([`panel_index`]), once per
//!    call into a stack buffer (at most [`U_MAX`] values). No second, transformed copy of the
//!    kernel lives in the layer (16/9 of the kernel's memory more): the transform costs about
//!    0.2 ns per value of `U` (2.7 µs for 32→32, measured on AVX-512 on 2026-12-06), which
//!    [`applies`] charges against the products' savings. Where it takes too big a share (few
//!    tiles), the direct kernel runs.
//! 2. Per block of at most [`SCRATCH`]`/(16·max(cin, filters) + PAD)` tiles (in row-major order
//!    over the whole map, so a small map is one block): `V = Bᵀ d B` of each tile (the padding
//!    read as zeros), then the 16 products, then `Y = Aᵀ M A` plus the bias (and a fused ReLU)
//!    written to the output, clipped where an odd output size leaves half a tile.
//!
//! Every transform runs over the channels (or filters), which are contiguous in the channels-last
//! tensors, a vector of lanes at a time. The rounding differs from the direct sum: the input
//! transform adds up to 4 input values and the output transform up to 9 sums, so the error
//! bound grows by a small constant factor over a direct sum's (see the tests).

use super::kernel::{panel_index, Conv, ConvGeometry, MR};
use crate::kernels::product::Gemm;
use crate::kernels::vector::{Kernel, Vector};
use crate::{Aligned, Epilogue};
use core::mem::MaybeUninit;

/// The most values of `U` (`16 · (cin · filters + PAD)`) the stack buffer holds: 129 KiB, the
/// 32→64 convolution's (M2's second; see [`applies`]).
const U_MAX: usize = u_len(32, 64);
/// The buffer of `U` for convolutions up to 32→32: 65 KiB. Each buffer size is its own kernel
/// (`Winograd<U_SMALL>`, `Winograd<U_MAX>`), so that a small convolution's frame is not the
/// large one's: every call touches each 4 KiB page of its frame (the stack probes), and with
/// the 129 KiB frame M7 (whose layers all fit here) measured ×1.012 at batch 1 (2 of 20
/// alternations won).
const U_SMALL: usize = u_len(32, 32);

/// Values of `U` for `cin` channels and `filters` filters: 16 matrices of `cin · filters`, each
/// followed by [`PAD`] values (as [`transform_kernel`] lays them out).
const fn u_len(cin: usize, filters: usize) -> usize {
    16 * (cin * filters + PAD)
}

/// Values of each of the two per-block buffers (`V` and `M`): 16 KiB each, so that they and
/// a matrix `U_e` stay in the L1 cache through the 16 products (measured: 64 KiB buffers made
/// the 16→16 convolution at 32×32 15% slower).
const SCRATCH: usize = 16 * 256;
/// Values (one cache line) between the matrices `U_e`, and between tiles in `V` and `M`: a
/// stride of a multiple of 4 KiB (`cin · filters = 1024`, or 64 channels) would map the 16
/// matrices, or the 12 columns of a product's tile, to the same sets of the L1 cache.
const PAD: usize = 16;
/// The most input channels: the zero row the padding reads has this many values.
const CIN_MAX: usize = 256;

/// Whether the Winograd kernel computes this convolution: a 3×3 kernel, stride and dilation 1,
/// no groups, 2-d (no depth axis), and `U` and a block of at least one tile inside their stack
/// buffers.
pub(super) fn fits(g: &ConvGeometry) -> bool {
    let [ad, ah, aw] = g.axes;
    ad.n == 1
        && ad.k == 1
        && ad.out == 1
        && three(ah)
        && three(aw)
        && g.groups == 1
        && g.cin >= 1
        && g.filters >= 1
        && g.cin <= CIN_MAX
        && u_len(g.cin, g.filters) <= U_MAX
        && 16 * g.cin.max(g.filters) + PAD <= SCRATCH
}

/// A 3×3 window, stride 1, no dilation.
fn three(a: crate::shape::AxisGeometry) -> bool {
    a.k == 3 && a.stride == 1 && a.dilation == 1
}

/// Whether the Winograd kernel runs ([`fits`]) and pays, by the measurements of
/// `winograd_timing` (below; AVX-512, 2026-12-06, ratios of Winograd's time to the direct
/// kernel's in two runs) and of whole models: 16 to 32 input channels, 16 to 64 filters and at
/// least 16 tiles (an 8×8 output). Inside: 16→16 at 32×32 ×0.72–0.78, at 16×16 ×0.63–0.66, at
/// 8×8 ×0.77–0.80; 32→32 at 16×16 ×0.58–0.62, at 11×11 ×0.79–0.84, at 8×8 ×0.80–0.81. Outside:
/// 4 tiles (32→32 at 4×4 ×1.25–1.28; 16→16 ×0.89–0.96, too close to call) and 1 tile (16→16 at 2×2
/// ×1.42–1.54); fewer than 16 channels, where a product of depth 4 or 8 gains too little over
/// the transforms (4→16 at 16×16 ×1.62–1.66, 8→8 at 16×16 ×1.28, 8→8 and 8→16 at 32×32
/// ×0.83–1.00), and one channel (1→32 at 26×26 ×2.2–2.4). 64 filters: with `U` in a 129 KiB
/// buffer, M2's second convolution (32→64 at 11×11) measured ×0.84–0.85 here, yet M2 itself at
/// batch 64 ran level on that machine (×0.996 of the direct kernel's time, medians of ten
/// alternations of the whole model; then ×1.02, after `U`'s buffer stopped being zeroed). On an
/// AMD Zen 5 (2026-12-07) that layer measured ×0.92–0.93 alone (16→64 ×0.97), and M2 ran
/// ×0.957 at batch 64 and ×0.954 at batch 1 with it (12 of 12 alternations each; an A/A run of
/// one build against itself ×1.002), so 64 filters take it. The same runs there put 32→32 at
/// 11×11 at ×0.80–0.82 and 16→16 at 8×8 at ×1.08, inside the rule. 64→64 at 32×32 measured
/// ×2.8 with a block of [`SCRATCH`] holding 3 tiles.
pub(super) fn applies(g: &ConvGeometry) -> bool {
    let tiles = g.axes[1].out.div_ceil(2) * g.axes[2].out.div_ceil(2);
    fits(g) && (16..=32).contains(&g.cin) && (16..=64).contains(&g.filters) && tiles >= 16
}

/// Whether [`super::kernel::conv`] runs `g` by Winograd ([`applies`]; the SIMD builds' tests can
/// turn it off to time the direct kernel).
pub(super) fn chosen(g: &ConvGeometry) -> bool {
    #[cfg(test)]
    if tests::OFF.get() {
        return false;
    }
    applies(g)
}

/// One convolution's arguments ([`super::kernel::conv`]'s, whose checks of the lengths have
/// run), run by Winograd as a SIMD [`Kernel`] where [`applies`] holds: `y = conv(x, kernel) +
/// bias`, then the epilogue, in the store. `U` is the size of its stack buffer for the
/// transformed kernel ([`U_SMALL`] or [`U_MAX`]; [`run_simd`] picks).
pub(super) struct Winograd<'a, const U: usize>(pub Conv<'a>);

/// Runs `call` by Winograd on the best SIMD instruction set of this CPU (`None` where it has
/// none), with the smaller buffer for `U` where the convolution's fits in it.
pub(super) fn run_simd(call: Conv<'_>) -> Option<()> {
    if u_len(call.g.cin, call.g.filters) <= U_SMALL {
        crate::kernels::run_simd(Winograd::<U_SMALL>(call))
    } else {
        crate::kernels::run_simd(Winograd::<U_MAX>(call))
    }
}

/// The first `len` values of `buf`, set to zero (only those: a call writes what it uses).
#[inline(always)]
fn prefix<const N: usize>(buf: &mut MaybeUninit<Aligned<[f32; N]>>, len: usize) -> &mut [f32] {
    assert!(len <= N);
    let p = buf.as_mut_ptr().cast::<f32>();
    // SAFETY: `buf` holds `N ≥ len` values of `f32` from `p`, borrowed mutably for the result's
    // lifetime; the `len` values are initialised (zero bits are the value 0.0) before the slice
    // over them is formed.
    unsafe {
        core::ptr::write_bytes(p, 0, len);
        core::slice::from_raw_parts_mut(p, len)
    }
}

impl<const U: usize> Kernel for Winograd<'_, U> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let Winograd(Conv {
            g,
            x,
            kernel,
            bias,
            e,
            y,
        }) = self;
        let [_, ah, aw] = g.axes;
        let (cin, f) = (g.cin, g.filters);
        assert!(
            fits(g)
                && x.len() == ah.n * aw.n * cin
                && y.len() == ah.out * aw.out * f
                && kernel.len() == 9 * cin * f
                && bias.is_none_or(|b| b.len() == f),
            "winograd: the geometry or the slices do not fit"
        );
        let mut u_buf = MaybeUninit::<Aligned<[f32; U]>>::uninit();
        let u = transform_kernel::<V, U>(t, kernel, cin, f, &mut u_buf);
        // The 16 matrices `U_e`, `us` apart (as `transform_kernel` laid them out); a tile's 16
        // runs of `V` (of `M`), `vs` (`ms`) apart.
        let (us, vs, ms) = (u.len() / 16, 16 * cin + PAD, 16 * f + PAD);

        let (th, tw) = (ah.out.div_ceil(2), aw.out.div_ceil(2));
        let tiles = th * tw;
        let block = (SCRATCH / vs.max(ms)).min(tiles);
        let mut v_buf = MaybeUninit::<Aligned<[f32; SCRATCH]>>::uninit();
        let v = prefix(&mut v_buf, vs * block);
        let mut m_buf = MaybeUninit::<Aligned<[f32; SCRATCH]>>::uninit();
        let m = prefix(&mut m_buf, ms * block);
        let zeros = [0.0f32; CIN_MAX];
        let zeros = &zeros[..cin];
        let mut first = 0;
        while first < tiles {
            let n = block.min(tiles - first);
            for j in 0..n {
                let (ty, tx) = ((first + j) / tw, (first + j) % tw);
                // The 16 input rows of channels the tile reads, the padding as zeros.
                let mut rows = [zeros; 16];
                for (a, rows) in rows.chunks_exact_mut(4).enumerate() {
                    let r = (2 * ty + a).wrapping_sub(ah.before);
                    if r >= ah.n {
                        continue;
                    }
                    for (b, row) in rows.iter_mut().enumerate() {
                        let s = (2 * tx + b).wrapping_sub(aw.before);
                        if s < aw.n {
                            let at = (r * aw.n + s) * cin;
                            *row = &x[at..at + cin];
                        }
                    }
                }
                transform_input::<V>(t, &rows, &mut v[j * vs..j * vs + 16 * cin]);
            }
            for e in 0..16 {
                Gemm {
                    m: f,
                    k: cin,
                    n,
                    a: &u[e * us..e * us + cin * f],
                    lda: f,
                    b: &v[e * cin..],
                    ldb: vs,
                    c: &mut m[e * f..],
                    ldc: ms,
                    accumulate: false,
                }
                .run::<V>(t);
            }
            for j in 0..n {
                let (ty, tx) = ((first + j) / tw, (first + j) % tw);
                let mut outs: [Option<&mut [f32]>; 4] = [None, None, None, None];
                // Outputs (2ty + i, 2tx + k) at `i·2 + k`, absent past an odd output size. The
                // four are disjoint runs of `f` values; split off in increasing order.
                let mut rest = &mut *y;
                let mut taken = 0;
                for i in 0..2 {
                    let oy = 2 * ty + i;
                    for k in 0..2 {
                        let ox = 2 * tx + k;
                        if oy < ah.out && ox < aw.out {
                            let at = (oy * aw.out + ox) * f;
                            let (_, tail) = core::mem::take(&mut rest).split_at_mut(at - taken);
                            let (here, tail) = tail.split_at_mut(f);
                            outs[i * 2 + k] = Some(here);
                            rest = tail;
                            taken = at + f;
                        }
                    }
                }
                transform_output::<V>(t, &m[j * ms..j * ms + 16 * f], bias, e, &mut outs);
            }
            first += n;
        }
    }
}

/// `v` (16 runs of `cin`: element `e` of the tile's `Bᵀ d B`) from the tile's 16 input rows
/// (`rows[a·4 + b]`, `cin` values each).
#[inline(always)]
fn transform_input<V: Vector>(t: V::Token, rows: &[&[f32]; 16], v: &mut [f32]) {
    let cin = v.len() / 16;
    assert!(v.len() == 16 * cin && rows.iter().all(|r| r.len() == cin));
    let l = V::LANES;
    let mut c = 0;
    while c < cin {
        let w = l.min(cin - c);
        let mk = V::mask(t, w);
        let mut d = [[V::zero(t); 4]; 4];
        for (a, d) in d.iter_mut().enumerate() {
            for (b, d) in d.iter_mut().enumerate() {
                // SAFETY: values `c..c + w ≤ cin` of a row of `cin` (asserted above).
                *d = unsafe { get::<V>(t, rows[a * 4 + b].as_ptr().add(c), w, mk) };
            }
        }
        // Bᵀ d, then (Bᵀ d) B.
        let mut s = [[V::zero(t); 4]; 4];
        for b in 0..4 {
            s[0][b] = V::sub(d[0][b], d[2][b]);
            s[1][b] = V::add(d[1][b], d[2][b]);
            s[2][b] = V::sub(d[2][b], d[1][b]);
            s[3][b] = V::sub(d[1][b], d[3][b]);
        }
        for (a, s) in s.iter().enumerate() {
            let out = [
                V::sub(s[0], s[2]),
                V::add(s[1], s[2]),
                V::sub(s[2], s[1]),
                V::sub(s[1], s[3]),
            ];
            for (b, &o) in out.iter().enumerate() {
                // SAFETY: values `c..c + w ≤ cin` of run `a·4 + b < 16` of `v` (16 runs of
                // `cin`, asserted above).
                unsafe { put::<V>(v.as_mut_ptr().add((a * 4 + b) * cin + c), w, mk, o) };
            }
        }
        c += w;
    }
}

/// The tile's outputs `Aᵀ M A` (+ bias, then the epilogue) from `m` (16 runs of `f`: element `e`
/// of the sum over channels), into `outs[i·2 + k]` (`f` values each; `None` past the output's
/// edge).
#[inline(always)]
fn transform_output<V: Vector>(
    t: V::Token,
    m: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    outs: &mut [Option<&mut [f32]>; 4],
) {
    let f = m.len() / 16;
    assert!(
        m.len() == 16 * f
            && bias.is_none_or(|b| b.len() == f)
            && e.fits(f)
            && outs.iter().flatten().all(|o| o.len() == f)
    );
    let l = V::LANES;
    let zero = V::zero(t);
    let mut c = 0;
    while c < f {
        let w = l.min(f - c);
        let mk = V::mask(t, w);
        // Aᵀ M (2 × 4), by columns `b`.
        let mut s = [[zero; 4]; 2];
        #[allow(clippy::needless_range_loop)] // `b` picks a column of `s` and the runs of `m`.
        for b in 0..4 {
            let mut mv = [zero; 4];
            for (a, mv) in mv.iter_mut().enumerate() {
                // SAFETY: values `c..c + w ≤ f` of run `a·4 + b < 16` of `m` (asserted above).
                *mv = unsafe { get::<V>(t, m.as_ptr().add((a * 4 + b) * f + c), w, mk) };
            }
            let [m0, m1, m2, m3] = mv;
            s[0][b] = V::add(V::add(m0, m1), m2);
            s[1][b] = V::sub(V::sub(m1, m2), m3);
        }
        let bv = match bias {
            // SAFETY: values `c..c + w ≤ f` of the bias (asserted above).
            Some(b) => unsafe { get::<V>(t, b.as_ptr().add(c), w, mk) },
            None => zero,
        };
        for (i, s) in s.iter().enumerate() {
            let out = [
                V::add(V::add(s[0], s[1]), s[2]),
                V::sub(V::sub(s[1], s[2]), s[3]),
            ];
            for (k, &o) in out.iter().enumerate() {
                if let Some(dst) = outs[i * 2 + k].as_deref_mut() {
                    let o = if bias.is_some() { V::add(o, bv) } else { o };
                    // SAFETY: values `c..c + w ≤ f` of the epilogue's factors (it fits `f`
                    // filters, asserted above), read by `get` as `w` values; the same of an
                    // output run of `f` (asserted above).
                    unsafe {
                        let o = e.vector(t, o, c, |p| get::<V>(t, p, w, mk));
                        put::<V>(dst.as_mut_ptr().add(c), w, mk, o);
                    }
                }
            }
        }
        c += w;
    }
}

/// `U_e` (`f × cin`, column-major: `u[e·us + c·f + filter]`, `us = cin·f + PAD`) for the 16
/// elements `e` of `G g Gᵀ`, from the packed kernel ([`panel_index`]: blocks of `MR` filters,
/// each holding its `9·cin` rows of `mb` weights): the first `16·us` values of `buf`, the `PAD`
/// values after each matrix zero. Every value is written once, with no zeroing pass first (for
/// 32→32, 65 KiB a call).
#[inline(always)]
fn transform_kernel<'u, V: Vector, const N: usize>(
    t: V::Token,
    kernel: &[f32],
    cin: usize,
    f: usize,
    buf: &'u mut MaybeUninit<Aligned<[f32; N]>>,
) -> &'u mut [f32] {
    let depth = 9 * cin;
    let us = cin * f + PAD;
    assert!(kernel.len() == depth * f && 16 * us <= N);
    let u = buf.as_mut_ptr().cast::<f32>();
    let l = V::LANES;
    let half = V::splat(t, 0.5);
    let mut f0 = 0;
    while f0 < f {
        let mb = MR.min(f - f0);
        // Where the block's rows start (row `kk` of its `mb` weights at `base + kk·mb`): one
        // call of `panel_index` per block, whose divisions would cost more than the transform
        // in the loop.
        let base = panel_index(depth, f, 0, f0);
        for c in 0..cin {
            let mut q = 0;
            while q < mb {
                let w = l.min(mb - q);
                let mk = V::mask(t, w);
                let mut gk = [[V::zero(t); 3]; 3];
                for (ky, gk) in gk.iter_mut().enumerate() {
                    for (kx, gk) in gk.iter_mut().enumerate() {
                        // Row `tap·cin + c` of the block: its `mb` weights from filter `f0`.
                        let p = base + ((ky * 3 + kx) * cin + c) * mb + q;
                        assert!(p + w <= kernel.len());
                        // SAFETY: values `p..p + w` of `kernel` (asserted).
                        *gk = unsafe { get::<V>(t, kernel.as_ptr().add(p), w, mk) };
                    }
                }
                // G g (4 × 3), then (G g) Gᵀ (4 × 4).
                let mut s = [[V::zero(t); 3]; 4];
                for kx in 0..3 {
                    let (g0, g1, g2) = (gk[0][kx], gk[1][kx], gk[2][kx]);
                    s[0][kx] = g0;
                    s[1][kx] = V::mul(V::add(V::add(g0, g1), g2), half);
                    s[2][kx] = V::mul(V::add(V::sub(g0, g1), g2), half);
                    s[3][kx] = g2;
                }
                for (i, s) in s.iter().enumerate() {
                    let out = [
                        s[0],
                        V::mul(V::add(V::add(s[0], s[1]), s[2]), half),
                        V::mul(V::add(V::sub(s[0], s[1]), s[2]), half),
                        s[2],
                    ];
                    for (j, &o) in out.iter().enumerate() {
                        // `c·f + f0 + q + w ≤ cin·f`: inside matrix `i·4 + j`, before its pad.
                        let p = (i * 4 + j) * us + c * f + f0 + q;
                        assert!(p + w <= 16 * us);
                        // SAFETY: values `p..p + w` of `buf`, which holds `N ≥ 16·us`
                        // values (asserted), borrowed mutably.
                        unsafe { put::<V>(u.add(p), w, mk, o) };
                    }
                }
                q += w;
            }
        }
        f0 += mb;
    }
    for e in 0..16 {
        // SAFETY: the pad of matrix `e`, values `e·us + cin·f .. (e + 1)·us ≤ 16·us ≤ N` of
        // `buf` (asserted above).
        unsafe { core::ptr::write_bytes(u.add(e * us + cin * f), 0, PAD) };
    }
    // SAFETY: the loops above wrote every value `e·us + c·f + fi` for `e < 16`, `c < cin` and
    // `fi < f` (the blocks `f0` cover the filters, `q` each block's `mb`, `w` values a step),
    // and the pads the rest, so the first `16·us` values of `buf` are initialised; `buf` is
    // borrowed mutably for `'u`.
    unsafe { core::slice::from_raw_parts_mut(u, 16 * us) }
}

/// `w` values from `p` (a full vector, or the mask's `w < LANES` lanes).
///
/// # Safety
/// `p` is valid for reads of `w ≤ LANES` values; `mk` is `V::mask(w)`.
#[inline(always)]
unsafe fn get<V: Vector>(t: V::Token, p: *const f32, w: usize, mk: V::Mask) -> V {
    // SAFETY: the caller's promise.
    unsafe {
        if w == V::LANES {
            V::load(t, p)
        } else {
            V::load_masked(t, p, mk)
        }
    }
}

/// Writes `w` values to `p` (a full vector, or the mask's `w < LANES` lanes).
///
/// # Safety
/// `p` is valid for writes of `w ≤ LANES` values; `mk` is `V::mask(w)`.
#[inline(always)]
unsafe fn put<V: Vector>(p: *mut f32, w: usize, mk: V::Mask, v: V) {
    // SAFETY: the caller's promise.
    unsafe {
        if w == V::LANES {
            V::store(p, v)
        } else {
            V::store_masked(p, mk, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernel;
    use super::*;
    use crate::kernels::simd_tests::values;
    use crate::kernels::{isas, run, with, Kernels};
    use crate::shape::{AxisGeometry, Padding};
    use std::vec::Vec;

    std::thread_local! {
        /// Turns the dispatch to Winograd off on this thread (for timing the direct kernels).
        pub(super) static OFF: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    fn geometry(h: usize, w: usize, cin: usize, filters: usize, p: Padding) -> ConvGeometry {
        let one = AxisGeometry::resolve(1, 1, 1, 1, Padding::Valid).unwrap();
        let ax = |n| AxisGeometry::resolve(n, 3, 1, 1, p).unwrap();
        ConvGeometry {
            axes: [one, ax(h), ax(w)],
            cin,
            filters,
            groups: 1,
        }
    }

    /// Winograd on every instruction set against the portable direct kernel, on the edges: maps
    /// of one output, odd sizes (half tiles clipped), "valid" and "same", channel and filter
    /// counts around the lane counts (8, 16) and the filter block, with and without bias and
    /// ReLU.
    ///
    /// Tolerance: inputs and weights in [-1, 1]. Two direct sums of `k = 9·cin` products agree
    /// within `1e-6·k` (the SIMD tests' bound). Winograd adds larger intermediates: `|U| ≤ 2.25`
    /// (the rows of `G` sum to at most 1.5 in absolute value), `|V| ≤ 4` (those of `Bᵀ`, 2), and
    /// an output adds 9 elements of `M` (those of `Aᵀ`, 3), so its worst-case rounding bound (the
    /// unit roundoff times the sum of the absolute values added) is up to `9·2.25·4 = 81` times a
    /// direct sum's over `cin`-long products instead of `9·cin`-long ones, while random signs
    /// make it grow like a square root. Measured worst: `5.3e-8·k`; the tolerance, `2e-6·k`
    /// (twice the direct one), leaves room for the other instruction sets' orders and stays far
    /// below a wrong tap or tile (errors of the order of a value, 0.1–1).
    #[test]
    fn winograd_matches_the_direct_kernel_at_the_edges() {
        let cases = [
            (1, 1, 16, 16, Padding::Same),
            (3, 3, 5, 7, Padding::Valid),
            (2, 9, 3, 20, Padding::Same),
            (4, 4, 1, 16, Padding::Same),
            (5, 7, 17, 19, Padding::Same),
            (6, 6, 16, 16, Padding::Valid),
            (7, 5, 33, 31, Padding::Valid),
            (9, 4, 8, 9, Padding::Same),
            (32, 32, 16, 16, Padding::Same),
            (13, 13, 32, 32, Padding::Valid),
            (13, 13, 32, 64, Padding::Valid),
            (6, 7, 20, 50, Padding::Same),
            (8, 8, 64, 16, Padding::Same),
            (3, 17, 24, 33, Padding::Same),
        ];
        // Under Miri (which checks the pointers), two small maps: a 1-tile "valid" map, and
        // half tiles at the edges with the padding; masked channels and filters in both.
        let cases: std::vec::Vec<_> = if cfg!(miri) {
            [1, 4].map(|i| cases[i]).to_vec()
        } else {
            cases.to_vec()
        };
        let isas = isas();
        assert!(!isas.is_empty());
        let mut worst = 0.0f32;
        for (case, &(h, w, cin, f, p)) in cases.iter().enumerate() {
            let g = geometry(h, w, cin, f, p);
            assert!(fits(&g), "{case}");
            let [_, ah, aw] = g.axes;
            let x = values(h * w * cin, 1 + case as u32);
            let keras = values(9 * cin * f, 100 + case as u32);
            let mut packed = std::vec![0.0; keras.len()];
            for kk in 0..9 * cin {
                for fi in 0..f {
                    packed[kernel::panel_index(9 * cin, f, kk, fi)] = keras[kk * f + fi];
                }
            }
            let b = values(f, 200 + case as u32);
            let k = 9 * cin;
            // BatchNormalization's factors and ReLU6, as a fused chain gives them.
            let (fa, fb) = (values(f, 300 + case as u32), values(f, 400 + case as u32));
            let relu = Epilogue {
                affine: None,
                clamp: Some(f32::INFINITY),
            };
            let bn_relu6 = Epilogue {
                affine: Some((&fa, &fb)),
                clamp: Some(6.0),
            };
            for (bias, e) in [
                (None, &Epilogue::NONE),
                (Some(&b[..]), &Epilogue::NONE),
                (Some(&b[..]), &relu),
                (Some(&b[..]), &bn_relu6),
            ] {
                let mut want = std::vec![0.0; ah.out * aw.out * f];
                with(Kernels::Portable, || {
                    kernel::conv(&g, &x, &packed, bias, &Epilogue::NONE, &mut want)
                });
                e.apply(&mut want, f);
                // Both buffers for `U` where the small one holds it (`run_simd` picks it).
                let small = u_len(cin, f) <= U_SMALL;
                let runs = isas.iter().flat_map(|&isa| [(isa, U_MAX), (isa, U_SMALL)]);
                for (isa, buffer) in runs.filter(|&(_, b)| b == U_MAX || small) {
                    let mut got = std::vec![f32::NAN; want.len()];
                    let call = Conv {
                        g: &g,
                        x: &x,
                        kernel: &packed,
                        bias,
                        e,
                        y: &mut got,
                    };
                    if buffer == U_MAX {
                        run(isa, Winograd::<U_MAX>(call))
                    } else {
                        run(isa, Winograd::<U_SMALL>(call))
                    }
                    .expect("the CPU has it");
                    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                        let err = (a - b).abs();
                        worst = worst.max(err / k as f32);
                        assert!(
                            err <= 2e-6 * k as f32,
                            "case {case} {isa:?} U {buffer} bias {} {e:?} at {i}: {a} vs {b}",
                            bias.is_some()
                        );
                    }
                }
            }
        }
        std::println!("worst |winograd - direct| / (9·cin): {worst:e}");
    }

    /// The layers the rule was measured on: M7's 16→16 at 32×32 and 32→32 at 16×16 take
    /// Winograd, and the 8×8 and 11×11 maps of 16 and 32 channels, and M2's 32→64 at 11×11;
    /// M7's 64→64 at 8×8 (its `U` is past the buffer), more than 64 filters, 4×4 maps, fewer
    /// than 16 channels (M2's 1→32, 4→16) and 8 filters do not, nor strided, 1×1 or 5×5 windows.
    #[test]
    fn the_dispatch_rule() {
        let s = Padding::Same;
        assert!(applies(&geometry(32, 32, 16, 16, s)));
        assert!(applies(&geometry(16, 16, 32, 32, s)));
        assert!(applies(&geometry(8, 8, 16, 16, s)));
        assert!(applies(&geometry(8, 8, 32, 32, s)));
        assert!(applies(&geometry(13, 13, 32, 32, Padding::Valid)));
        assert!(applies(&geometry(13, 13, 32, 64, Padding::Valid)));
        assert!(applies(&geometry(10, 10, 16, 40, Padding::Valid)));
        assert!(!applies(&geometry(13, 13, 32, 65, Padding::Valid)));
        assert!(!fits(&geometry(13, 13, 32, 65, Padding::Valid)));
        assert!(!applies(&geometry(8, 8, 64, 64, s)));
        assert!(!fits(&geometry(8, 8, 64, 64, s)));
        assert!(!applies(&geometry(4, 4, 32, 32, s)));
        assert!(!applies(&geometry(28, 28, 1, 32, Padding::Valid)));
        assert!(!applies(&geometry(16, 16, 4, 16, s)));
        assert!(!applies(&geometry(32, 32, 16, 8, s)));
        assert!(!applies(&geometry(2, 2, 16, 16, s)));
        let one = AxisGeometry::resolve(1, 1, 1, 1, Padding::Valid).unwrap();
        let strided = AxisGeometry::resolve(32, 3, 2, 1, s).unwrap();
        let five = AxisGeometry::resolve(32, 5, 1, 1, s).unwrap();
        let mut g = geometry(32, 32, 16, 16, s);
        g.axes = [one, strided, strided];
        assert!(!applies(&g));
        g.axes = [one, five, five];
        assert!(!applies(&g));
        g.axes = [one, one, one];
        assert!(!applies(&g));
    }

    /// The measurements behind [`applies`]: the SIMD direct kernel against Winograd per layer
    /// shape, medians of alternating runs. Run with
    /// `cargo test --release -p static-keras-runtime winograd_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn winograd_timing() {
        use std::time::Instant;
        let relu = Epilogue {
            affine: None,
            clamp: Some(f32::INFINITY),
        };
        let same = Padding::Same;
        let shapes = [
            (32, 32, 16, 16, same),
            (16, 16, 32, 32, same),
            (13, 13, 32, 32, Padding::Valid),
            (13, 13, 16, 64, Padding::Valid),
            (13, 13, 32, 64, Padding::Valid),
            (16, 16, 16, 16, same),
            (8, 8, 16, 16, same),
            (8, 8, 32, 32, same),
            (4, 4, 32, 32, same),
            (4, 4, 16, 16, same),
            (2, 2, 16, 16, same),
            (32, 32, 8, 8, same),
            (32, 32, 8, 16, same),
            (16, 16, 8, 8, same),
            (16, 16, 4, 16, same),
            (28, 28, 1, 32, Padding::Valid),
        ];
        for (h, w, cin, f, p) in shapes {
            let g = geometry(h, w, cin, f, p);
            let x = values(h * w * cin, 1);
            let kern = values(9 * cin * f, 2);
            let b = values(f, 3);
            let [_, ah, aw] = g.axes;
            let mut y = std::vec![0.0; ah.out * aw.out * f];
            let reps = (2_000_000 / (h * w * cin * f)).max(4);
            let mut time = |off: bool| {
                let start = Instant::now();
                for _ in 0..reps {
                    if off {
                        OFF.set(true);
                        kernel::conv(&g, &x, &kern, Some(&b), &relu, &mut y);
                        OFF.set(false);
                    } else {
                        let call = Conv {
                            g: &g,
                            x: &x,
                            kernel: &kern,
                            bias: Some(&b),
                            e: &relu,
                            y: &mut y,
                        };
                        run_simd(call).unwrap();
                    }
                }
                start.elapsed().as_secs_f64() * 1e6 / reps as f64
            };
            let (mut d, mut wg) = (Vec::new(), Vec::new());
            for _ in 0..9 {
                d.push(time(true));
                wg.push(time(false));
            }
            d.sort_by(f64::total_cmp);
            wg.sort_by(f64::total_cmp);
            std::println!(
                "{h}x{w} {cin}->{f} {p:?}: direct {:.2} µs, winograd {:.2} µs (x{:.2}); applies {}",
                d[4],
                wg[4],
                wg[4] / d[4],
                applies(&g)
            );
        }
    }
}
