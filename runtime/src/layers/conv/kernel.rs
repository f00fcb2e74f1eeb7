//! The convolution kernel: one N-d implementation shared by Conv1D, Conv2D and Conv3D (the lower
//! ranks run with leading axes of length 1).
//!
//! It is a matrix product, `y (F × positions) = kernel (F × taps·channels) · B`, where column `p`
//! of `B` is the input window of output position `p` (im2col). `B` is never built whole: for
//! `NR` output positions at a time, a bounded panel of at most `KB` rows is packed on the stack
//! (padding as zeros), and every block of `MR` filters runs a register-tiled micro-kernel over
//! it. The kernel (`A`) is stored pre-packed (see [`panel_index`]): each block of `MR` filters
//! holds its weights for every tap and channel contiguously, so the micro-kernel streams through
//! both operands. Groups pack their own channels and use their own filter blocks: nothing is
//! copied per group beyond the panel.
//!
//! The portable micro-kernel keeps products and sums separate instructions in the same order on
//! every target (no fused multiply-add), so a host and a Cortex-M compute the same bits. Where the
//! SIMD kernels run ([`crate::kernels::simd`]), an AVX-512 or AVX2 micro-kernel with fused
//! multiply-adds and wider tiles takes its place (the last bits then differ).

use crate::shape::AxisGeometry;

/// Filters per register tile, and positions per tile on the baseline path. The Cortex-M4F has 32
/// single-precision registers: a 4×4 tile plus its operands fits. Other baselines (SSE2, NEON)
/// hold 8 filters in two 4-wide registers. On x86_64 the SIMD micro-kernels want 16 filters:
/// one AVX-512 register, or two AVX2 registers.
#[cfg(target_arch = "arm")]
const MR: usize = 4;
#[cfg(target_arch = "x86_64")]
const MR: usize = 16;
#[cfg(not(any(target_arch = "arm", target_arch = "x86_64")))]
const MR: usize = 8;
const NR: usize = 4;
/// Rows (taps × channels) of the packed panel: `KB × NR` floats of stack, 4 KiB on a
/// microcontroller, 16 KiB (with AVX's 8 positions) on a host.
#[cfg(target_arch = "arm")]
const KB: usize = 256;
#[cfg(not(target_arch = "arm"))]
const KB: usize = 512;

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
pub fn conv(g: &ConvGeometry, x: &[f32], kernel: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    let [ad, ah, aw] = g.axes;
    assert!(
        g.groups > 0
            && x.len() == ad.n * ah.n * aw.n * g.cin
            && y.len() == ad.out * ah.out * aw.out * g.filters
            && kernel.len() == ad.k * ah.k * aw.k * (g.cin / g.groups) * g.filters
            && bias.is_none_or(|b| b.len() == g.filters)
    );
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    match crate::kernels::simd_isa() {
        // SAFETY: the CPU has the instruction set (checked by `simd_isa`).
        Some(simd::Isa::Avx512) => return unsafe { simd::conv_avx512(g, x, kernel, bias, y) },
        Some(simd::Isa::Avx2) => return unsafe { simd::conv_avx2(g, x, kernel, bias, y) },
        None => {}
    }
    conv_tiled::<Portable, NR>(g, x, kernel, bias, y);
}

/// What runs one block of at most `MR` filters over one packed panel of `N` positions and
/// writes (or adds to) the outputs: the register tile.
trait Micro<const N: usize> {
    /// `a`: `b.len()` rows of `m` packed filter weights; `y`: the outputs of the block's first
    /// filter at the tile's first position, positions `f` apart; `n ≤ N` positions are real.
    /// The first chunk of the reduction writes, later ones add; the bias comes with the last.
    #[allow(clippy::too_many_arguments)]
    fn block(
        a: &[f32],
        m: usize,
        b: &[[f32; N]],
        n: usize,
        y: &mut [f32],
        f: usize,
        first: bool,
        bias: Option<&[f32]>,
    );

    /// Whether [`Micro::pair`] runs two full blocks at once.
    const PAIRS: bool = false;

    /// [`Micro::block`] for two full blocks of `MR` filters (`a0` then `a1`), when
    /// [`Micro::PAIRS`].
    #[allow(clippy::too_many_arguments)]
    fn pair(
        _a0: &[f32],
        _a1: &[f32],
        _b: &[[f32; N]],
        _n: usize,
        _y: &mut [f32],
        _f: usize,
        _first: bool,
        _bias: Option<&[f32]>,
    ) {
        unreachable!("no pairs on this path")
    }
}

/// The portable register tile ([`micro`]), products and sums in a fixed order.
struct Portable;

impl<const N: usize> Micro<N> for Portable {
    #[inline(always)]
    fn block(
        a: &[f32],
        m: usize,
        b: &[[f32; N]],
        n: usize,
        y: &mut [f32],
        f: usize,
        first: bool,
        bias: Option<&[f32]>,
    ) {
        let acc = micro(a, b, m);
        for (j, acc) in acc.iter().enumerate().take(n) {
            store(&mut y[j * f..][..m], &acc[..m], first, bias);
        }
    }
}

#[inline(always)]
fn conv_tiled<K: Micro<N>, const N: usize>(
    g: &ConvGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    let [ad, ah, aw] = g.axes;
    let (cin_g, f_g, f) = (g.cin / g.groups, g.filters / g.groups, g.filters);
    let depth = ad.k * ah.k * aw.k * cin_g; // rows of A per group
    let positions = ad.out * ah.out * aw.out;
    let mut panel = [[0.0f32; N]; KB];
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
        for grp in 0..g.groups {
            for k0 in (0..depth).step_by(KB) {
                let kb = KB.min(depth - k0);
                let b = &mut panel[..kb];
                pack(g, x, &at, n, grp, k0, b);
                let (first, last) = (k0 == 0, k0 + kb == depth);
                let mut f0 = 0;
                while f0 < f_g {
                    let ch = grp * f_g + f0;
                    let bias_of = |m: usize| bias.filter(|_| last).map(|b| &b[ch..ch + m]);
                    if K::PAIRS && f_g - f0 >= 2 * MR {
                        // Two full blocks at once: twice the filters per broadcast.
                        let a0 = &kernel[ch * depth + k0 * MR..][..kb * MR];
                        let a1 = &kernel[(ch + MR) * depth + k0 * MR..][..kb * MR];
                        let out = &mut y[p0 * f + ch..][..(n - 1) * f + 2 * MR];
                        K::pair(a0, a1, b, n, out, f, first, bias_of(2 * MR));
                        f0 += 2 * MR;
                        continue;
                    }
                    let m = MR.min(f_g - f0);
                    let a = &kernel[ch * depth + k0 * m..][..kb * m];
                    let out = &mut y[p0 * f + ch..][..(n - 1) * f + m];
                    K::block(a, m, b, n, out, f, first, bias_of(m));
                    f0 += MR;
                }
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
fn store(out: &mut [f32], acc: &[f32], first: bool, bias: Option<&[f32]>) {
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
}

/// Packs rows `k0..k0 + b.len()` of the im2col matrix of group `grp` for the tile's positions:
/// row `tap·cin_g + c`, column `j` is channel `c` of the input that position `j` reads at `tap`,
/// or zero in the padding (and for the unused columns of a last, short tile).
///
/// Rows go in runs: without dilation and groups along the last axis, the taps `kw..KW` of one
/// position read consecutive input values, so a run is one contiguous copy (the part of it that
/// falls in the padding is zeros); otherwise a run is one tap.
#[inline(always)]
fn pack<const N: usize>(
    g: &ConvGeometry,
    x: &[f32],
    at: &[[usize; 3]; N],
    n: usize,
    grp: usize,
    k0: usize,
    b: &mut [[f32; N]],
) {
    if let Some(bases) = interior(g, at, n, grp) {
        return pack_interior(g, x, &bases, n, k0, b);
    }
    let [ad, ah, aw] = g.axes;
    let cin_g = g.cin / g.groups;
    let runs = aw.dilation == 1 && g.groups == 1;
    let (tap, c0) = (k0 / cin_g, k0 % cin_g);
    let mut taps = [tap / (ah.k * aw.k), (tap / aw.k) % ah.k, tap % aw.k];
    // Offset of the run's first value within its (kd, kh) slab of `aw.k · cin_g` rows.
    let mut e0 = taps[2] * cin_g + c0;
    let mut row = 0;
    while row < b.len() {
        let [kd, kh, kw] = taps;
        let run_end = if runs { aw.k * cin_g } else { (kw + 1) * cin_g };
        let len = (run_end - e0).min(b.len() - row);
        let rows = &mut b[row..row + len];
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
            if valid.is_empty() {
                rows.iter_mut().for_each(|r| r[j] = 0.0);
                continue;
            }
            let (zeros_before, copied) = (valid.start - e0, valid.len());
            rows[..zeros_before].iter_mut().for_each(|r| r[j] = 0.0);
            for (r, &v) in rows[zeros_before..]
                .iter_mut()
                .zip(&x[source..source + copied])
            {
                r[j] = v;
            }
            rows[zeros_before + copied..]
                .iter_mut()
                .for_each(|r| r[j] = 0.0);
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
/// `x[base + offset(tap, c)]` for every position, one gather per row without any padding test.
#[inline(always)]
fn pack_interior<const N: usize>(
    g: &ConvGeometry,
    x: &[f32],
    bases: &[usize; N],
    n: usize,
    k0: usize,
    b: &mut [[f32; N]],
) {
    let [ad, ah, aw] = g.axes;
    let cin_g = g.cin / g.groups;
    let (tap, mut c) = (k0 / cin_g, k0 % cin_g);
    let mut taps = [tap / (ah.k * aw.k), (tap / aw.k) % ah.k, tap % aw.k];
    let offset = |[kd, kh, kw]: [usize; 3]| {
        ((kd * ad.dilation * ah.n + kh * ah.dilation) * aw.n + kw * aw.dilation) * g.cin
    };
    let mut tap_offset = offset(taps);
    for row in b.iter_mut() {
        let off = tap_offset + c;
        for (v, &base) in row.iter_mut().zip(bases).take(n) {
            *v = x[base + off];
        }
        row[n..].iter_mut().for_each(|v| *v = 0.0);
        c += 1;
        if c == cin_g {
            c = 0;
            step(&mut taps, [ad.k, ah.k, aw.k]);
            tap_offset = offset(taps);
        }
    }
}

/// The register tile: `acc[j][i] = Σ_k a[k·m + i] · b[k][j]` for a panel of `m ≤ MR` filters.
#[inline(always)]
fn micro<const N: usize>(a: &[f32], b: &[[f32; N]], m: usize) -> [[f32; MR]; N] {
    let mut acc = [[0.0f32; MR]; N];
    if m == MR {
        for (a, b) in a.chunks_exact(MR).zip(b) {
            for j in 0..N {
                for i in 0..MR {
                    acc[j][i] += a[i] * b[j];
                }
            }
        }
    } else {
        for (a, b) in a.chunks_exact(m).zip(b) {
            for (acc, &b) in acc.iter_mut().zip(b) {
                for (t, &w) in acc.iter_mut().zip(a) {
                    *t += w * b;
                }
            }
        }
    }
    acc
}

/// The SIMD register tiles: `MR` = 16 filters in one AVX-512 or two AVX2 registers, 12 (resp.
/// 6) positions per tile, fused multiply-adds.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod simd {
    use super::{conv_tiled, ConvGeometry, Micro, MR};
    pub(super) use crate::kernels::x86::Isa;
    use crate::kernels::x86::{Avx2, Avx512, Vector};

    /// # Safety
    /// The CPU has AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn conv_avx512(
        g: &ConvGeometry,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
    ) {
        conv_tiled::<Simd<Avx512>, 12>(g, x, kernel, bias, y);
    }

    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn conv_avx2(
        g: &ConvGeometry,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
    ) {
        conv_tiled::<Simd<Avx2>, 6>(g, x, kernel, bias, y);
    }

    struct Simd<V>(V);

    impl<V: Vector, const N: usize> Micro<N> for Simd<V> {
        /// AVX-512 has the registers for 2 × 12 tiles (AVX2 would need 4 × 6).
        const PAIRS: bool = V::LANES == MR;

        #[inline(always)]
        fn pair(
            a0: &[f32],
            a1: &[f32],
            b: &[[f32; N]],
            n: usize,
            y: &mut [f32],
            f: usize,
            first: bool,
            bias: Option<&[f32]>,
        ) {
            assert!(
                V::LANES == MR
                    && a0.len() == b.len() * MR
                    && a1.len() == b.len() * MR
                    && n <= N
                    && n > 0
                    && y.len() >= (n - 1) * f + 2 * MR
                    && bias.is_none_or(|b| b.len() == 2 * MR)
            );
            // SAFETY: lengths checked above.
            unsafe { tile_pair::<V, N>(a0, a1, b, n, y, f, first, bias) }
        }

        #[inline(always)]
        fn block(
            a: &[f32],
            m: usize,
            b: &[[f32; N]],
            n: usize,
            y: &mut [f32],
            f: usize,
            first: bool,
            bias: Option<&[f32]>,
        ) {
            const { assert!(MR == 16) };
            assert!(
                m <= MR
                    && a.len() == b.len() * m
                    && n <= N
                    && n > 0
                    && y.len() >= (n - 1) * f + m
                    && bias.is_none_or(|b| b.len() == m)
            );
            let l = V::LANES;
            // SAFETY: every pointer the tile forms stays inside `a`, `b`, `y` and `bias`
            // (lengths checked above; masked lanes beyond `m` are not touched).
            unsafe {
                if m == MR {
                    if l == 16 {
                        tile::<V, 1, N, false>(a, m, b, n, y, f, first, bias, l);
                    } else {
                        tile::<V, 2, N, false>(a, m, b, n, y, f, first, bias, l);
                    }
                } else if m > l {
                    tile::<V, 2, N, true>(a, m, b, n, y, f, first, bias, m - l);
                } else if m == l {
                    tile::<V, 1, N, false>(a, m, b, n, y, f, first, bias, l);
                } else {
                    tile::<V, 1, N, true>(a, m, b, n, y, f, first, bias, m);
                }
            }
        }
    }

    /// Two full blocks of 16 filters (one AVX-512 register each) × `N` positions: per row, two
    /// loads and `N` broadcasts feed `2·N` fused multiply-adds.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile_pair<V: Vector, const N: usize>(
        a0: &[f32],
        a1: &[f32],
        b: &[[f32; N]],
        n: usize,
        y: &mut [f32],
        f: usize,
        first: bool,
        bias: Option<&[f32]>,
    ) {
        let l = V::LANES;
        // SAFETY: see `Micro::pair`: row `k` of `a0` and `a1` holds `l` values each, `y` holds
        // `2·l` outputs at each of the `n` positions, `bias` `2·l` values.
        unsafe {
            let mut acc = [[V::zero(); 2]; N];
            let (mut p0, mut p1) = (a0.as_ptr(), a1.as_ptr());
            for row in b {
                let av = [V::load(p0), V::load(p1)];
                for (acc, x) in acc.iter_mut().zip(row) {
                    let x = V::broadcast(x);
                    acc[0] = V::fmadd(av[0], x, acc[0]);
                    acc[1] = V::fmadd(av[1], x, acc[1]);
                }
                p0 = p0.add(l);
                p1 = p1.add(l);
            }
            let yp = y.as_mut_ptr();
            for (j, acc) in acc.iter().enumerate().take(n) {
                for (v, &sum) in acc.iter().enumerate() {
                    let p = yp.add(j * f + v * l);
                    let mut sum = if first { sum } else { V::add(V::load(p), sum) };
                    if let Some(b) = bias {
                        sum = V::add(sum, V::load(b.as_ptr().add(v * l)));
                    }
                    V::store(p, sum);
                }
            }
        }
    }

    /// `MV` vectors of filters (the last holding `last` when `TAIL`) × `N` positions.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<V: Vector, const MV: usize, const N: usize, const TAIL: bool>(
        a: &[f32],
        m: usize,
        b: &[[f32; N]],
        n: usize,
        y: &mut [f32],
        f: usize,
        first: bool,
        bias: Option<&[f32]>,
        last: usize,
    ) {
        let l = V::LANES;
        let mk = V::mask(last);
        // SAFETY: see `block`: row `k` of `a` holds `m = (MV − 1)·l + last` values.
        unsafe {
            let load = |p: *const f32, v: usize| {
                if TAIL && v + 1 == MV {
                    V::load_masked(p, mk)
                } else {
                    V::load(p)
                }
            };
            let mut acc = [[V::zero(); MV]; N];
            let mut ap = a.as_ptr();
            for row in b {
                let mut av = [V::zero(); MV];
                for (v, av) in av.iter_mut().enumerate() {
                    *av = load(ap.add(v * l), v);
                }
                for (acc, x) in acc.iter_mut().zip(row) {
                    let x = V::broadcast(x);
                    for (acc, &av) in acc.iter_mut().zip(&av) {
                        *acc = V::fmadd(av, x, *acc);
                    }
                }
                ap = ap.add(m);
            }
            let yp = y.as_mut_ptr();
            for (j, acc) in acc.iter().enumerate().take(n) {
                for (v, &sum) in acc.iter().enumerate() {
                    let p = yp.add(j * f + v * l);
                    let mut sum = if first { sum } else { V::add(load(p, v), sum) };
                    if let Some(b) = bias {
                        sum = V::add(sum, load(b.as_ptr().add(v * l), v));
                    }
                    if TAIL && v + 1 == MV {
                        V::store_masked(p, mk, sum);
                    } else {
                        V::store(p, sum);
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
        for (axes, cin, filters, groups) in cases {
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
            let want = naive(&g, &x, &w, &b);
            let depth = kl / filters;
            let mut packed = [0.0f32; 8192];
            for (i, &v) in w[..kl].iter().enumerate() {
                packed[panel_index(depth, filters / groups, i / filters, i % filters)] = v;
            }
            let w = packed;
            // The dispatching entry point and both tile widths compute the same bits.
            let mut first = [7.0f32; 4096];
            conv(
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &mut first[..yl],
            );
            for (i, (got, want)) in first[..yl].iter().zip(&want[..yl]).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{g:?} at {i}: {got} vs {want}"
                );
            }
            let mut y = [7.0f32; 4096];
            // Both tile widths of the portable path compute the same bits.
            let mut portable = [7.0f32; 4096];
            conv_tiled::<Portable, 4>(
                &g,
                &x[..xl],
                &w[..kl],
                Some(&b[..filters]),
                &mut portable[..yl],
            );
            conv_tiled::<Portable, 8>(&g, &x[..xl], &w[..kl], Some(&b[..filters]), &mut y[..yl]);
            assert_eq!(y[..yl], portable[..yl]);
            for (i, (got, want)) in portable[..yl].iter().zip(&want[..yl]).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "portable {g:?} at {i}: {got} vs {want}"
                );
            }
            // Each SIMD instruction set this CPU has.
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            for isa in [simd::Isa::Avx2, simd::Isa::Avx512] {
                let has = match isa {
                    simd::Isa::Avx2 => {
                        std::is_x86_feature_detected!("avx2")
                            && std::is_x86_feature_detected!("fma")
                    }
                    simd::Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
                };
                if !has {
                    continue;
                }
                let mut y = [7.0f32; 4096];
                let (xs, ws, bs, ys) = (&x[..xl], &w[..kl], Some(&b[..filters]), &mut y[..yl]);
                // SAFETY: the CPU has the instruction set (checked above).
                unsafe {
                    match isa {
                        simd::Isa::Avx2 => simd::conv_avx2(&g, xs, ws, bs, ys),
                        simd::Isa::Avx512 => simd::conv_avx512(&g, xs, ws, bs, ys),
                    }
                }
                for (i, (got, want)) in y[..yl].iter().zip(&want[..yl]).enumerate() {
                    assert!(
                        (got - want).abs() <= 1e-4 * want.abs().max(1.0),
                        "{isa:?} {g:?} at {i}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
