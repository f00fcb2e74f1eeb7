//! The depthwise kernel shared by `DepthwiseConv1D/2D` and the depthwise step of
//! `SeparableConv1D/2D` (1-D runs with a rows axis of length 1).
//!
//! Each output position is computed a block of channels at a time: the block's sums stay in
//! registers over every tap of the window, and the innermost loop runs over contiguous channels
//! of the input and of the kernel, so the compiler vectorises it. Positions whose window lies
//! inside the input (the interior) run without padding tests, and 3×3 and 5×5 windows with
//! their tap loops unrolled; border positions clip their tap ranges instead.
//!
//! This portable kernel ([`depthwise_body`]) is the specification: products and sums are
//! separate operations in a fixed order (no fused multiply-add), so every target computes the
//! same bits (a host inside `Kernels::Portable` computes a microcontroller's). Where the SIMD
//! kernels run, `simd` takes its place: the same walk over positions and taps, channels in
//! vector blocks with one fused multiply-add per tap (the last bits then differ).

use crate::shape::AxisGeometry;
use crate::Epilogue;

#[cfg(simd_kernels)]
mod padded;
#[cfg(simd_kernels)]
mod simd;

/// Channels per register block: eight 4-wide registers (or four AVX ones) of sums; on a
/// Cortex-M4F, eight of its 32 single-precision registers.
#[cfg(target_arch = "arm")]
const BLOCK: usize = 8;
#[cfg(not(target_arch = "arm"))]
const BLOCK: usize = 32;

/// A depthwise convolution's geometry, resolved at compile time by the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DepthwiseGeometry {
    /// The rows axis (length 1, window 1 for 1-D layers).
    pub rows: AxisGeometry,
    /// The columns (1-D: steps) axis.
    pub cols: AxisGeometry,
    /// Input channels.
    pub channels: usize,
    /// Keras `depth_multiplier`: outputs per input channel.
    pub multiplier: usize,
}

impl DepthwiseGeometry {
    /// Whether the operands of output positions `p0..p0 + n` and input channels `c0..c1` have
    /// this geometry's sizes (what [`depthwise`] asserts, and the SIMD kernel's pointers rely on).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn fits(
        &self,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        (p0, n): (usize, usize),
        (c0, c1): (usize, usize),
        out: &[f32],
    ) -> bool {
        let width = self.channels * self.multiplier;
        x.len() == self.rows.n * self.cols.n * self.channels
            && kernel.len() == self.rows.k * self.cols.k * width
            && bias.is_none_or(|b| b.len() == width)
            && p0 + n <= self.rows.out * self.cols.out
            && c0 <= c1
            && c1 <= self.channels
            && out.len() == n * (c1 - c0) * self.multiplier
    }
}

/// The layout the kernel takes the Keras kernel `(*kernel_size, channels, multiplier)` in:
/// per tap, the multipliers' rows of contiguous channels (`[tap][m][c]`), so that one multiplier's
/// weights for a block of channels are contiguous. Where Keras's flat index `i` goes.
pub(crate) const fn packed_index(i: usize, channels: usize, multiplier: usize) -> usize {
    let width = channels * multiplier;
    let (tap, q) = (i / width, i % width); // q = c·M + m
    tap * width + (q % multiplier) * channels + q / multiplier
}

/// Output positions `p0..p0 + n` (flattened row-major) of a depthwise convolution, for input
/// channels `c0..c1`, written to `out` in Keras's channel order (`c·M + m`, position after
/// position, `(c1 − c0)·M` values each); `bias` (packed like one tap of the kernel) is added
/// when given. The SIMD kernel then applies the epilogue `e` (over all the channels: with `e`
/// other than [`Epilogue::NONE`], `(c0, c1)` is every channel) in its store and returns `true`;
/// the portable kernel leaves it to the caller ([`Epilogue::apply`], the same bits) and returns
/// `false`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn depthwise(
    g: &DepthwiseGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    e: &Epilogue<'_>,
    p0: usize,
    n: usize,
    (c0, c1): (usize, usize),
    out: &mut [f32],
) -> bool {
    assert!(g.fits(x, kernel, bias, (p0, n), (c0, c1), out));
    assert!(e.fits(g.channels * g.multiplier) && (e.is_none() || (c0, c1) == (0, g.channels)));
    #[cfg(simd_kernels)]
    {
        let call = simd::Depthwise {
            g,
            x,
            kernel,
            bias,
            e,
            positions: (p0, n),
            channels: (c0, c1),
            out: &mut *out,
        };
        let ran = if padded::applies(g) {
            crate::kernels::run_simd(padded::Padded(call))
        } else {
            crate::kernels::run_simd(call)
        };
        if ran.is_some() {
            return true;
        }
    }
    depthwise_body(g, x, kernel, bias, p0, n, (c0, c1), out);
    false
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn depthwise_body(
    g: &DepthwiseGeometry,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    p0: usize,
    n: usize,
    (c0, c1): (usize, usize),
    out: &mut [f32],
) {
    let (rows, cols) = (g.rows, g.cols);
    let stride = (c1 - c0) * g.multiplier;
    let (r0, r1) = rows.interior();
    let (k0, k1) = cols.interior();
    let (mut oh, mut ow) = (p0 / cols.out, p0 % cols.out);
    let mut done = 0;
    while done < n {
        // The rest of the current output row.
        let run = (n - done).min(cols.out - ow);
        let row_inside = r0 <= oh && oh < r1;
        let (i0, i1) = rows.taps_inside(oh);
        for w in ow..ow + run {
            let dst = &mut out[(done + w - ow) * stride..][..stride];
            let at = Position {
                g,
                x,
                kernel,
                bias,
                oh,
                ow: w,
            };
            if row_inside && k0 <= w && w < k1 {
                match (rows.k, cols.k) {
                    (3, 3) => at.run((0, 3), (0, 3), 3, (c0, c1), dst),
                    (5, 5) => at.run((0, 5), (0, 5), 5, (c0, c1), dst),
                    (1, 3) => at.run((0, 1), (0, 3), 3, (c0, c1), dst),
                    (kh, kw) => at.run((0, kh), (0, kw), kw, (c0, c1), dst),
                }
            } else {
                at.run((i0, i1), cols.taps_inside(w), cols.k, (c0, c1), dst);
            }
        }
        done += run;
        ow = 0;
        oh += 1;
    }
}

/// One output position and what it reads.
struct Position<'a> {
    g: &'a DepthwiseGeometry,
    x: &'a [f32],
    kernel: &'a [f32],
    bias: Option<&'a [f32]>,
    oh: usize,
    ow: usize,
}

impl Position<'_> {
    /// Channels `c0..c1` of every multiplier over taps `i0..i1` × `j0..j1` (the taps that read
    /// the input; `kw` is the kernel's width), into `dst` in Keras's channel order.
    #[inline(always)]
    fn run(
        &self,
        (i0, i1): (usize, usize),
        (j0, j1): (usize, usize),
        kw: usize,
        (c0, c1): (usize, usize),
        dst: &mut [f32],
    ) {
        for m in 0..self.g.multiplier {
            let mut c = c0;
            while c + BLOCK <= c1 {
                self.block::<BLOCK>((i0, i1), (j0, j1), kw, m, c, c0, dst);
                c += BLOCK;
            }
            if BLOCK > 8 {
                while c + 8 <= c1 {
                    self.block::<8>((i0, i1), (j0, j1), kw, m, c, c0, dst);
                    c += 8;
                }
            }
            while c < c1 {
                self.block::<1>((i0, i1), (j0, j1), kw, m, c, c0, dst);
                c += 1;
            }
        }
    }

    /// Channels `c..c + B` of multiplier `m`: `B` sums kept in registers over the taps.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn block<const B: usize>(
        &self,
        (i0, i1): (usize, usize),
        (j0, j1): (usize, usize),
        kw: usize,
        m: usize,
        c: usize,
        c0: usize,
        dst: &mut [f32],
    ) {
        let g = self.g;
        let (rows, cols) = (g.rows, g.cols);
        let channels = g.channels;
        let width = channels * g.multiplier;
        let lane = m * channels + c; // this block's offset within one tap of the kernel
        let mut acc = [0.0f32; B];
        for i in i0..i1 {
            let ih = self.oh * rows.stride + i * rows.dilation - rows.before;
            for j in j0..j1 {
                let iw = self.ow * cols.stride + j * cols.dilation - cols.before;
                let xs: &[f32; B] = self.x[(ih * cols.n + iw) * channels + c..][..B]
                    .try_into()
                    .expect("B values");
                let ks: &[f32; B] = self.kernel[(i * kw + j) * width + lane..][..B]
                    .try_into()
                    .expect("B values");
                for b in 0..B {
                    acc[b] += xs[b] * ks[b];
                }
            }
        }
        if let Some(bias) = self.bias {
            let bs: &[f32; B] = bias[lane..][..B].try_into().expect("B values");
            for b in 0..B {
                acc[b] += bs[b];
            }
        }
        let multiplier = g.multiplier;
        if multiplier == 1 {
            dst[c - c0..][..B].copy_from_slice(&acc);
        } else {
            for (b, v) in acc.into_iter().enumerate() {
                dst[(c - c0 + b) * multiplier + m] = v;
            }
        }
    }
}

/// Adds the gradients of [`depthwise`] (without bias) over every output position given `dz`
/// (`∂loss/∂output`, Keras's channel order `c·M + m`): `∂x` into `dx` and `∂kernel` (packed like
/// `kernel`) into `dkernel`, each when given. Per output position and tap that reads the input,
/// `∂kernel[tap, c, m] += ∂z[o, c·M + m] · x[i, c]` and `∂x[i, c] += kernel[tap, c, m] ·
/// ∂z[o, c·M + m]`, running over contiguous channels.
pub(crate) fn depthwise_backward(
    g: &DepthwiseGeometry,
    x: &[f32],
    kernel: &[f32],
    dz: &[f32],
    mut dx: Option<&mut [f32]>,
    mut dkernel: Option<&mut [f32]>,
) {
    let (rows, cols) = (g.rows, g.cols);
    let (channels, multiplier) = (g.channels, g.multiplier);
    let width = channels * multiplier;
    assert!(
        x.len() == rows.n * cols.n * channels
            && kernel.len() == rows.k * cols.k * width
            && dz.len() == rows.out * cols.out * width
            && dx.as_ref().is_none_or(|d| d.len() == x.len())
            && dkernel.as_ref().is_none_or(|d| d.len() == kernel.len())
    );
    for oh in 0..rows.out {
        let (i0, i1) = rows.taps_inside(oh);
        for ow in 0..cols.out {
            let (j0, j1) = cols.taps_inside(ow);
            let dz = &dz[(oh * cols.out + ow) * width..][..width];
            for i in i0..i1 {
                let ih = oh * rows.stride + i * rows.dilation - rows.before;
                for j in j0..j1 {
                    let iw = ow * cols.stride + j * cols.dilation - cols.before;
                    let at = (ih * cols.n + iw) * channels;
                    let tap = (i * cols.k + j) * width;
                    for m in 0..multiplier {
                        let lane = tap + m * channels;
                        let dzm = dz[m..].iter().step_by(multiplier);
                        if let Some(dk) = dkernel.as_deref_mut() {
                            let xs = &x[at..at + channels];
                            for ((d, &v), &g) in dk[lane..lane + channels]
                                .iter_mut()
                                .zip(xs)
                                .zip(dzm.clone())
                            {
                                *d += g * v;
                            }
                        }
                        if let Some(dx) = dx.as_deref_mut() {
                            let ks = &kernel[lane..lane + channels];
                            for ((d, &k), &g) in dx[at..at + channels].iter_mut().zip(ks).zip(dzm) {
                                *d += k * g;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::shape::Padding;
    use std::{vec, vec::Vec};

    /// The definition, one value at a time: `y[o, c·M + m] = Σ x[o·s + t·d − pad, c]·K[t, c, m]`.
    fn reference(g: &DepthwiseGeometry, x: &[f32], keras_kernel: &[f32], bias: &[f32]) -> Vec<f32> {
        let (rows, cols, ch, mult) = (g.rows, g.cols, g.channels, g.multiplier);
        let mut y = Vec::new();
        for oh in 0..rows.out {
            for ow in 0..cols.out {
                for c in 0..ch {
                    for m in 0..mult {
                        let mut s = 0.0f64;
                        for i in 0..rows.k {
                            for j in 0..cols.k {
                                if let (Some(ih), Some(iw)) =
                                    (rows.input_index(oh, i), cols.input_index(ow, j))
                                {
                                    let k = ((i * cols.k + j) * ch + c) * mult + m;
                                    s += f64::from(x[(ih * cols.n + iw) * ch + c])
                                        * f64::from(keras_kernel[k]);
                                }
                            }
                        }
                        y.push((s + f64::from(bias[c * mult + m])) as f32);
                    }
                }
            }
        }
        y
    }

    fn check(rows: AxisGeometry, cols: AxisGeometry, channels: usize, multiplier: usize) {
        let g = DepthwiseGeometry {
            rows,
            cols,
            channels,
            multiplier,
        };
        let width = channels * multiplier;
        let value = |i: usize, salt: usize| ((i * 37 + salt * 11) % 23) as f32 / 8.0 - 1.3;
        let x: Vec<f32> = (0..rows.n * cols.n * channels)
            .map(|i| value(i, 1))
            .collect();
        let keras: Vec<f32> = (0..rows.k * cols.k * width).map(|i| value(i, 2)).collect();
        let bias: Vec<f32> = (0..width).map(|i| value(i, 3)).collect();
        let mut kernel = vec![0.0; keras.len()];
        for (i, &v) in keras.iter().enumerate() {
            kernel[packed_index(i, channels, multiplier)] = v;
        }
        let mut packed_bias = vec![0.0; width];
        for (i, &v) in bias.iter().enumerate() {
            packed_bias[packed_index(i, channels, multiplier)] = v;
        }
        let want = reference(&g, &x, &keras, &bias);
        let positions = rows.out * cols.out;
        let mut got = vec![0.0; positions * width];
        depthwise(
            &g,
            &x,
            &kernel,
            Some(&packed_bias),
            &Epilogue::NONE,
            0,
            positions,
            (0, channels),
            &mut got,
        );
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{g:?} value {i}: {a} vs {b}"
            );
        }
        // In pieces: a few positions at a time, for a slab of channels.
        let (c0, c1) = (channels / 3, channels);
        let piece = (c1 - c0) * multiplier;
        for p0 in (0..positions).step_by(3) {
            let n = 3.min(positions - p0);
            let mut part = vec![0.0; n * piece];
            depthwise(
                &g,
                &x,
                &kernel,
                Some(&packed_bias),
                &Epilogue::NONE,
                p0,
                n,
                (c0, c1),
                &mut part,
            );
            for j in 0..n {
                let whole = &got[(p0 + j) * width + c0 * multiplier..][..piece];
                assert_eq!(
                    &part[j * piece..][..piece],
                    whole,
                    "{g:?} position {}",
                    p0 + j
                );
            }
        }
    }

    #[test]
    fn agrees_with_the_definition() {
        let axis = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = axis(1, 1, 1, 1, Padding::Valid);
        // Channel counts that exercise every block width (32, 8, 1) and their remainders.
        for channels in [1, 3, 8, 13, 45] {
            check(
                axis(7, 3, 1, 1, Padding::Same),
                axis(6, 3, 1, 1, Padding::Same),
                channels,
                1,
            );
        }
        check(
            axis(7, 3, 2, 1, Padding::Same),
            axis(8, 3, 2, 1, Padding::Same),
            16,
            1,
        );
        check(
            axis(9, 5, 1, 1, Padding::Same),
            axis(7, 5, 2, 1, Padding::Same),
            10,
            2,
        );
        check(
            axis(9, 3, 2, 2, Padding::Valid),
            axis(9, 3, 1, 2, Padding::Same),
            5,
            3,
        );
        check(
            axis(6, 2, 1, 1, Padding::Same),
            axis(5, 4, 1, 1, Padding::Same),
            9,
            1,
        );
        check(
            axis(2, 5, 1, 1, Padding::Same),
            axis(3, 5, 1, 1, Padding::Same),
            33,
            1,
        );
        check(one, axis(11, 3, 1, 1, Padding::Same), 40, 1);
        check(one, axis(11, 4, 3, 1, Padding::Valid), 7, 2);
    }

    /// The SIMD kernel against the portable one (the specification), at geometries that reach
    /// every block shape (channels not a multiple of the lanes, under one vector, several
    /// blocks of four), multipliers above 1, strides, padding, dilation and windows wider than
    /// the input. Each value sums the same `taps + 1` terms in the same order, the SIMD kernel
    /// with one rounding fewer per tap, so both lie within `(taps + 1)·u·Σ|term|` of the exact
    /// sum (`u` = 2⁻²⁴): they may differ by twice that, `(taps + 2)·ε·Σ|term|` with margin
    /// (`ε` = 2⁻²³, `Σ|term|` the portable kernel run on absolute values). The instruction sets
    /// compute the same bits as each other, and the fused multiply-adds do change some bits
    /// (the SIMD kernel is the one that ran).
    #[cfg(simd_kernels)]
    #[test]
    fn the_simd_kernel_agrees_with_the_portable_one() {
        use crate::kernels::{isas, run};
        use crate::Activation;
        let axis = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let one = axis(1, 1, 1, 1, Padding::Valid);
        let same3 = |n| axis(n, 3, 1, 1, Padding::Same);
        let mut cases = vec![];
        for channels in [1, 5, 8, 15, 16, 17, 24, 33, 48, 64, 70, 96, 100, 144] {
            cases.push((same3(6), same3(7), channels, 1));
        }
        cases.extend([
            (same3(7), axis(9, 3, 2, 1, Padding::Same), 45, 1),
            (same3(7), axis(9, 3, 2, 1, Padding::Same), 13, 2),
            (
                axis(9, 3, 2, 1, Padding::Same),
                axis(8, 3, 2, 1, Padding::Same),
                40,
                1,
            ),
            (
                axis(9, 5, 1, 1, Padding::Same),
                axis(7, 5, 2, 1, Padding::Same),
                10,
                2,
            ),
            (
                axis(9, 5, 1, 1, Padding::Valid),
                axis(9, 5, 1, 1, Padding::Same),
                35,
                1,
            ),
            (
                axis(9, 3, 2, 2, Padding::Valid),
                axis(9, 3, 1, 2, Padding::Same),
                5,
                3,
            ),
            (
                axis(10, 3, 1, 3, Padding::Same),
                axis(11, 3, 1, 2, Padding::Same),
                19,
                4,
            ),
            (
                axis(6, 2, 1, 1, Padding::Same),
                axis(5, 4, 1, 1, Padding::Same),
                9,
                1,
            ),
            (
                axis(2, 5, 1, 1, Padding::Same),
                axis(3, 5, 1, 1, Padding::Same),
                33,
                1,
            ),
            (
                axis(1, 9, 1, 1, Padding::Same),
                axis(2, 7, 1, 1, Padding::Same),
                17,
                1,
            ),
            (one, axis(11, 3, 1, 1, Padding::Same), 40, 1),
            (one, axis(11, 3, 1, 1, Padding::Causal), 70, 1),
            (one, axis(11, 4, 3, 1, Padding::Valid), 7, 2),
            (one, axis(25, 9, 2, 1, Padding::Same), 20, 3),
        ]);
        let mut changed = false;
        for (rows, cols, channels, multiplier) in cases {
            let g = DepthwiseGeometry {
                rows,
                cols,
                channels,
                multiplier,
            };
            let width = channels * multiplier;
            let taps = rows.k * cols.k;
            let value = |i: usize| ((i * 7919) % 1000) as f32 / 333.0 - 1.5;
            let x: Vec<f32> = (0..rows.n * cols.n * channels).map(value).collect();
            let kernel: Vec<f32> = (0..taps * width).map(|i| value(i + 5)).collect();
            let bias: Vec<f32> = (0..width).map(|i| value(i + 9)).collect();
            let abs = |v: &[f32]| v.iter().map(|v| v.abs()).collect::<Vec<f32>>();
            let positions = rows.out * cols.out;
            let all = (0, channels);
            let mut want = vec![0.0; positions * width];
            depthwise_body(&g, &x, &kernel, Some(&bias), 0, positions, all, &mut want);
            let mut size = vec![0.0; positions * width];
            let (ax, ak, ab) = (abs(&x), abs(&kernel), abs(&bias));
            depthwise_body(&g, &ax, &ak, Some(&ab), 0, positions, all, &mut size);
            let mut first: Option<Vec<f32>> = None;
            for isa in isas() {
                let mut got = vec![f32::NAN; positions * width];
                let call = simd::Depthwise {
                    g: &g,
                    x: &x,
                    kernel: &kernel,
                    bias: Some(&bias),
                    e: &Epilogue::NONE,
                    positions: (0, positions),
                    channels: all,
                    out: &mut got,
                };
                run(isa, call).expect("isas() lists what runs");
                // With an epilogue: the bits of the same kernel followed by BatchNormalization's
                // affine step (`affine_in_place`'s `v·a + b`) and the activation's own pass.
                // Factors that reach NaN, ±∞ and both zeros.
                let a: Vec<f32> = (0..width)
                    .map(|q| match q % 5 {
                        0 => 0.0,
                        1 => f32::INFINITY,
                        _ => value(q + 3),
                    })
                    .collect();
                let b: Vec<f32> = (0..width)
                    .map(|q| if q % 5 == 0 { -0.0 } else { value(q + 4) })
                    .collect();
                // Not under Miri (too slow there): the padded kernel's test runs this kernel
                // with an epilogue in its store under Miri.
                for affine in [false, true].into_iter().filter(|_| !cfg!(miri)) {
                    for (act, clamp) in [
                        (Activation::Linear, None),
                        (Activation::Relu, Some(f32::INFINITY)),
                        (Activation::Relu6, Some(6.0)),
                    ] {
                        let e = Epilogue {
                            affine: affine.then_some((&a[..], &b[..])),
                            clamp,
                        };
                        let mut unfused = got.clone();
                        if affine {
                            for row in unfused.chunks_exact_mut(width) {
                                for ((v, &a), &b) in row.iter_mut().zip(&a).zip(&b) {
                                    *v = *v * a + b;
                                }
                            }
                        }
                        act.apply(&mut unfused, width);
                        let mut fused = vec![f32::NAN; positions * width];
                        let call = simd::Depthwise {
                            g: &g,
                            x: &x,
                            kernel: &kernel,
                            bias: Some(&bias),
                            e: &e,
                            positions: (0, positions),
                            channels: all,
                            out: &mut fused,
                        };
                        run(isa, call).expect("isas() lists what runs");
                        for (i, (f, u)) in fused.iter().zip(&unfused).enumerate() {
                            assert!(
                                f.to_bits() == u.to_bits() || f.is_nan() && u.is_nan(),
                                "{isa:?} {g:?} affine {affine} {act:?} value {i}: {f:e} vs {u:e}"
                            );
                        }
                    }
                }
                for (i, ((a, b), s)) in got.iter().zip(&want).zip(&size).enumerate() {
                    let bound = (taps + 2) as f32 * f32::EPSILON * s;
                    assert!(
                        (a - b).abs() <= bound,
                        "{isa:?} {g:?} value {i}: {a} vs {b} (bound {bound})"
                    );
                    changed |= a.to_bits() != b.to_bits();
                }
                if let Some(first) = &first {
                    let same = first
                        .iter()
                        .zip(&got)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{isa:?} {g:?}: the instruction sets differ");
                }
                first = Some(got);
            }
        }
        assert!(changed || isas().is_empty());
    }

    /// The padded kernel against the clipping one, bit for bit: the same sums in the same
    /// order, a tap in the padding adding an exact zero. Windows of 3×3 and 5×5, strides,
    /// dilation, "valid" and "same", channels around the lane counts, the largest maps it
    /// takes, and the pieces of positions and channels a separable convolution asks for.
    #[cfg(simd_kernels)]
    #[test]
    fn the_padded_kernel_gives_the_clipping_kernels_bits() {
        use crate::kernels::{isas, run};
        let axis = |n, k, s, d, p| AxisGeometry::resolve(n, k, s, d, p).unwrap();
        let same = |n, k, s| axis(n, k, s, 1, Padding::Same);
        let mut cases = vec![];
        for channels in [1, 5, 8, 15, 16, 17, 33, 64, 70] {
            cases.push((same(25, 3, 1), same(5, 3, 1), channels));
        }
        cases.extend([
            (same(9, 3, 2), same(8, 3, 2), 40),
            (same(10, 3, 2), same(11, 3, 2), 24),
            (same(7, 5, 1), same(9, 5, 1), 20),
            (same(9, 5, 2), same(6, 5, 1), 16),
            (axis(9, 3, 1, 1, Padding::Valid), same(7, 3, 1), 9),
            (
                axis(11, 3, 1, 2, Padding::Same),
                axis(9, 3, 2, 2, Padding::Valid),
                18,
            ),
            (same(1, 3, 1), same(1, 3, 1), 3),
            (same(2, 5, 1), same(3, 5, 1), 33),
            // As large as it takes: 14·14 padded positions of 16 lanes in 4096 values.
            (same(12, 3, 1), same(12, 3, 1), 19),
            (same(13, 3, 2), same(11, 3, 2), 32),
        ]);
        // Under Miri (which checks the pointers), a fifth of the cases: every shape of window
        // and stride still runs.
        let cases: Vec<_> = cases
            .into_iter()
            .step_by(if cfg!(miri) { 5 } else { 1 })
            .collect();
        for (rows, cols, channels) in cases {
            let g = DepthwiseGeometry {
                rows,
                cols,
                channels,
                multiplier: 1,
            };
            assert!(padded::applies(&g), "{g:?}");
            let taps = rows.k * cols.k;
            let value = |i: usize| ((i * 7919) % 1000) as f32 / 333.0 - 1.5;
            let x: Vec<f32> = (0..rows.n * cols.n * channels).map(value).collect();
            let kernel: Vec<f32> = (0..taps * channels).map(|i| value(i + 5)).collect();
            let bias: Vec<f32> = (0..channels).map(|i| value(i + 9)).collect();
            let positions = rows.out * cols.out;
            let pieces = [
                ((0, positions), (0, channels)),
                (
                    (positions / 3, positions - positions / 3),
                    (channels / 2, channels),
                ),
                ((1.min(positions - 1), 1), (0, channels.min(3))),
            ];
            // BatchNormalization's factors and ReLU6, over every channel (the whole piece).
            let a: Vec<f32> = (0..channels).map(|i| value(i + 13)).collect();
            let b: Vec<f32> = (0..channels).map(|i| value(i + 17)).collect();
            let fused = Epilogue {
                affine: Some((&a, &b)),
                clamp: Some(6.0),
            };
            for isa in isas() {
                for ((p0, n), (c0, c1)) in pieces {
                    let whole = (c0, c1) == (0, channels);
                    for (bias, e) in [
                        (Some(&bias[..]), &Epilogue::NONE),
                        (None, &Epilogue::NONE),
                        (
                            Some(&bias[..]),
                            if whole { &fused } else { &Epilogue::NONE },
                        ),
                    ] {
                        let len = n * (c1 - c0);
                        let (mut want, mut got) = (vec![f32::NAN; len], vec![f32::NAN; len]);
                        let clipping = simd::Depthwise {
                            g: &g,
                            x: &x,
                            kernel: &kernel,
                            bias,
                            e,
                            positions: (p0, n),
                            channels: (c0, c1),
                            out: &mut want,
                        };
                        run(isa, clipping).expect("isas() lists what runs");
                        let call = padded::Padded(simd::Depthwise {
                            g: &g,
                            x: &x,
                            kernel: &kernel,
                            bias,
                            e,
                            positions: (p0, n),
                            channels: (c0, c1),
                            out: &mut got,
                        });
                        run(isa, call).expect("isas() lists what runs");
                        let same_bits = got
                            .iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                        assert!(
                            same_bits,
                            "{isa:?} {g:?} positions {p0}+{n}, channels {c0}..{c1}"
                        );
                    }
                }
            }
        }
        // Where it does not run: a multiplier above 1, other windows, maps too big to buffer.
        let g = |rows, cols, multiplier| DepthwiseGeometry {
            rows,
            cols,
            channels: 8,
            multiplier,
        };
        assert!(!padded::applies(&g(same(5, 3, 1), same(5, 3, 1), 2)));
        assert!(!padded::applies(&g(same(5, 1, 1), same(5, 3, 1), 1)));
        assert!(!padded::applies(&g(same(5, 3, 1), same(400, 3, 1), 1)));
        assert!(!padded::applies(&g(same(16, 3, 1), same(16, 3, 1), 1)));
        assert!(!padded::applies(&g(same(24, 3, 1), same(24, 3, 1), 1)));
    }
}
