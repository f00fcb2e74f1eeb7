//! Shape formulas shared by the `keras_model!` checker and the runtime kernels: one source of truth
//! for how long an output is and where padding goes.

/// Keras's `padding` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding; the window must fit.
    Valid,
    /// Output length `ceil(n / stride)`; the odd extra pad goes at the end.
    Same,
    /// Left padding of `(k − 1)·dilation` only (Conv1D).
    Causal,
}

/// Effective window length of a kernel `k` with `dilation`: `(k − 1)·dilation + 1`.
pub const fn effective_window(k: usize, dilation: usize) -> usize {
    if k == 0 {
        0
    } else {
        (k - 1) * dilation + 1
    }
}

/// Output length along one axis, or `None` when the window does not fit (valid padding with a
/// window longer than the input) or an argument is zero.
pub const fn output_len(
    n: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Option<usize> {
    if k == 0 || stride == 0 || dilation == 0 || n == 0 {
        return None;
    }
    let window = effective_window(k, dilation);
    match padding {
        Padding::Valid => {
            if window > n {
                None
            } else {
                Some((n - window) / stride + 1)
            }
        }
        Padding::Same => Some(n.div_ceil(stride)),
        Padding::Causal => Some((n - 1) / stride + 1),
    }
}

/// Padding `(before, after)` along one axis, as Keras applies it.
pub const fn padding_amounts(
    n: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> (usize, usize) {
    let window = effective_window(k, dilation);
    match padding {
        Padding::Valid => (0, 0),
        Padding::Causal => (window - 1, 0),
        Padding::Same => {
            let out = n.div_ceil(stride);
            let needed = (out - 1) * stride + window;
            let total = needed.saturating_sub(n);
            (total / 2, total - total / 2)
        }
    }
}

impl Padding {
    /// Reads Keras's `padding` string (any case, as Keras lower-cases it); `causal` only when
    /// `allow_causal` (Conv1D).
    pub fn from_keras(name: &str, allow_causal: bool) -> Option<Padding> {
        [Padding::Valid, Padding::Same, Padding::Causal]
            .into_iter()
            .filter(|p| allow_causal || *p != Padding::Causal)
            .find(|p| p.keras_name().eq_ignore_ascii_case(name))
    }

    /// The Keras config string (`"valid"`, `"same"`, `"causal"`).
    pub const fn keras_name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }
}

/// One spatial axis of a sliding window (convolution or pooling), fully resolved: where every
/// output reads, as Keras computes it.
///
/// Output `o` reads, at tap `t` (`0 ≤ t < k`), input index `o·stride + t·dilation − before`; an
/// index outside `0..n` is padding (zero for convolution, skipped by pooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisGeometry {
    /// Input length.
    pub n: usize,
    /// Window (kernel or pool) length.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation (1 for pooling).
    pub dilation: usize,
    /// Padding added before the input.
    pub before: usize,
    /// Output length.
    pub out: usize,
}

impl AxisGeometry {
    /// Resolves an axis with [`output_len`] and [`padding_amounts`]; `None` when the window does
    /// not fit (see [`output_len`]).
    pub const fn resolve(
        n: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
    ) -> Option<AxisGeometry> {
        let Some(out) = output_len(n, k, stride, dilation, padding) else {
            return None;
        };
        let (before, _) = padding_amounts(n, k, stride, dilation, padding);
        Some(AxisGeometry {
            n,
            k,
            stride,
            dilation,
            before,
            out,
        })
    }

    /// How many values of the padded input `outputs ≥ 1` consecutive outputs read, from the
    /// first one's first tap: `(outputs − 1)·stride + (k − 1)·dilation + 1`.
    pub const fn reach(&self, outputs: usize) -> usize {
        (outputs - 1) * self.stride + effective_window(self.k, self.dilation)
    }

    /// The input index that tap `t` of output `o` reads, or `None` where it reads padding.
    pub const fn input_index(&self, o: usize, t: usize) -> Option<usize> {
        let i = o * self.stride + t * self.dilation;
        if i < self.before || i - self.before >= self.n {
            None
        } else {
            Some(i - self.before)
        }
    }

    /// The taps `lo..hi` of output `o` that read the input (not padding).
    pub const fn taps_inside(&self, o: usize) -> (usize, usize) {
        let start = o * self.stride; // input index + before of tap 0
        let lo = if start >= self.before {
            0
        } else {
            (self.before - start).div_ceil(self.dilation)
        };
        // Tap t is inside while start + t·d ≤ n − 1 + before.
        let last = self.n - 1 + self.before;
        let hi = if start > last {
            0
        } else {
            let h = (last - start) / self.dilation + 1;
            if h < self.k {
                h
            } else {
                self.k
            }
        };
        if lo < hi {
            (lo, hi)
        } else {
            (0, 0)
        }
    }

    /// The outputs `lo..hi` whose tap `t` reads the input (not padding).
    pub const fn outputs_inside(&self, t: usize) -> (usize, usize) {
        let shift = t * self.dilation; // o·stride + shift − before must lie in 0..n
        let lo = if shift >= self.before {
            0
        } else {
            (self.before - shift).div_ceil(self.stride)
        };
        let last = self.n - 1 + self.before;
        let hi = if shift > last {
            0
        } else {
            let h = (last - shift) / self.stride + 1;
            if h < self.out {
                h
            } else {
                self.out
            }
        };
        if lo < hi {
            (lo, hi)
        } else {
            (0, 0)
        }
    }

    /// The outputs `lo..hi` whose every tap reads the input (no padding anywhere in their
    /// window): kernels run these without bounds tests and the others (the borders) apart.
    /// `(0, 0)` when there are none.
    pub const fn interior(&self) -> (usize, usize) {
        let lo = self.before.div_ceil(self.stride);
        // The last tap of output o reads o·stride + (k − 1)·dilation − before ≤ n − 1.
        let reach = (self.k - 1) * self.dilation;
        let last = self.n - 1 + self.before;
        if last < reach {
            return (0, 0);
        }
        let h = (last - reach) / self.stride + 1;
        let hi = if h < self.out { h } else { self.out };
        if lo < hi {
            (lo, hi)
        } else {
            (0, 0)
        }
    }
}

/// Output length along one axis of a transposed convolution (Keras `Conv*Transpose`), or `None`
/// when an argument is zero, `output_padding` is not below the stride (Keras raises), padding is
/// `Causal` (Keras has none for these layers) or the output would be empty.
///
/// | padding | `output_padding = None` | `output_padding = p` |
/// |---|---|---|
/// | valid | `(n − 1)·s + max(k_e, s)` | `(n − 1)·s + k_e + p` |
/// | same | `n·s` | `(n − 1)·s + (k_e mod 2) + p` |
///
/// with `k_e` the [`effective_window`].
pub const fn transposed_output_len(
    n: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> Option<usize> {
    if k == 0 || stride == 0 || dilation == 0 || n == 0 {
        return None;
    }
    if let Some(p) = output_padding {
        if p >= stride {
            return None;
        }
    }
    let window = effective_window(k, dilation);
    let len = match (padding, output_padding) {
        (Padding::Valid, None) => (n - 1) * stride + if window > stride { window } else { stride },
        (Padding::Valid, Some(p)) => (n - 1) * stride + window + p,
        (Padding::Same, None) => n * stride,
        (Padding::Same, Some(p)) => (n - 1) * stride + window % 2 + p,
        (Padding::Causal, _) => return None,
    };
    if len == 0 {
        None
    } else {
        Some(len)
    }
}

/// Where a transposed convolution's output starts in its full result: input `i` at tap `t`
/// lands on `i·stride + t·dilation` of a result of length `(n − 1)·stride + k_e`, and output `o`
/// is position `o + crop` of it. Zero for `"valid"`; for `"same"`, Keras's (JAX's) left padding
/// `left = min(⌈pad / 2⌉, k_e − 1)` becomes `crop = k_e − 1 − left`, with
/// `pad = stride + k_e − 2` (`output_padding = None`) or `k_e + (k_e mod 2) − 2 + p`.
pub const fn transposed_crop(
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
    output_padding: Option<usize>,
) -> usize {
    let window = effective_window(k, dilation);
    match padding {
        Padding::Valid | Padding::Causal => 0,
        Padding::Same => {
            let pad = match output_padding {
                None => stride + window - 2,
                Some(p) => window + window % 2 - 2 + p,
            };
            let half = pad.div_ceil(2);
            let left = if half < window - 1 { half } else { window - 1 };
            window - 1 - left
        }
    }
}

/// One spatial axis of a transposed convolution, fully resolved: where every input lands.
///
/// Input `i` at tap `t` (`0 ≤ t < k`) adds to output `i·stride + t·dilation − crop`; a position
/// outside `0..out` is cropped away (and outputs no input reaches hold the bias alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransposedAxisGeometry {
    /// Input length.
    pub n: usize,
    /// Kernel length.
    pub k: usize,
    /// Stride (the upsampling factor).
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// How much of the full result's start is cropped ([`transposed_crop`]).
    pub crop: usize,
    /// Output length ([`transposed_output_len`]).
    pub out: usize,
}

impl TransposedAxisGeometry {
    /// Resolves an axis; `None` where [`transposed_output_len`] is.
    pub const fn resolve(
        n: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
        output_padding: Option<usize>,
    ) -> Option<TransposedAxisGeometry> {
        let Some(out) = transposed_output_len(n, k, stride, dilation, padding, output_padding)
        else {
            return None;
        };
        Some(TransposedAxisGeometry {
            n,
            k,
            stride,
            dilation,
            crop: transposed_crop(k, stride, dilation, padding, output_padding),
            out,
        })
    }

    /// The output that input `i` reaches at tap `t`, or `None` where it is cropped away.
    pub const fn output_index(&self, i: usize, t: usize) -> Option<usize> {
        let q = i * self.stride + t * self.dilation;
        if q < self.crop || q - self.crop >= self.out {
            None
        } else {
            Some(q - self.crop)
        }
    }

    /// The inputs `lo..hi` whose tap `t` lands inside the output.
    pub const fn inputs_inside(&self, t: usize) -> (usize, usize) {
        let shift = t * self.dilation; // i·stride + shift − crop must lie in 0..out
        let lo = if shift >= self.crop {
            0
        } else {
            (self.crop - shift).div_ceil(self.stride)
        };
        let last = self.out - 1 + self.crop;
        let hi = if shift > last {
            0
        } else {
            let h = (last - shift) / self.stride + 1;
            if h < self.n {
                h
            } else {
                self.n
            }
        };
        if lo < hi {
            (lo, hi)
        } else {
            (0, 0)
        }
    }
}

/// How `padding` is spelled at the type level, so a window's geometry is a compile-time constant.
pub trait PaddingKind {
    /// The padding this marker stands for.
    const PADDING: Padding;
}

/// Type-level `padding="valid"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Valid;
/// Type-level `padding="same"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Same;
/// Type-level `padding="causal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Causal;

impl PaddingKind for Valid {
    const PADDING: Padding = Padding::Valid;
}
impl PaddingKind for Same {
    const PADDING: Padding = Padding::Same;
}
impl PaddingKind for Causal {
    const PADDING: Padding = Padding::Causal;
}

/// A spatial axis of a convolution or pooling layer, as a type: its geometry is a constant that
/// the compiler checks (a window that does not fit fails the build).
pub trait Window {
    /// Whether the axis exists in Keras's shape ([`NoAxis`] fills the leading axes of the
    /// lower-rank layers so that one N-d kernel serves 1D, 2D and 3D).
    const PRESENT: bool;
    /// The axis's geometry.
    const AXIS: AxisGeometry;
}

/// A spatial axis of input length `N` under a window of `K` taps with `STRIDE`, `DILATION` and
/// padding `P` ([`Valid`], [`Same`] or [`Causal`]).
///
/// ```
/// use static_keras_runtime::shape::{Axis, Same, Window};
/// // Conv2D(…, kernel_size=3, strides=2, padding="same") along an axis of 7:
/// type Rows = Axis<7, 3, 2, 1, Same>;
/// assert_eq!(Rows::AXIS.out, 4);
/// assert_eq!(Rows::AXIS.before, 1);
/// ```
///
/// A window that does not fit its input is a compile error where the axis is used:
///
/// ```compile_fail
/// use static_keras_runtime::shape::{Axis, Valid, Window};
/// const OUT: usize = <Axis<4, 5, 1, 1, Valid> as Window>::AXIS.out;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Axis<
    const N: usize,
    const K: usize,
    const STRIDE: usize,
    const DILATION: usize,
    P = Valid,
>(core::marker::PhantomData<P>);

impl<
        const N: usize,
        const K: usize,
        const STRIDE: usize,
        const DILATION: usize,
        P: PaddingKind,
    > Window for Axis<N, K, STRIDE, DILATION, P>
{
    const PRESENT: bool = true;
    const AXIS: AxisGeometry = match AxisGeometry::resolve(N, K, STRIDE, DILATION, P::PADDING) {
        Some(axis) => axis,
        None => panic!("the window does not fit the input along this axis (padding \"valid\")"),
    };
}

/// An axis the layer does not have (the depth of a 2D layer): length 1, window 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoAxis;

impl Window for NoAxis {
    const PRESENT: bool = false;
    const AXIS: AxisGeometry = AxisGeometry {
        n: 1,
        k: 1,
        stride: 1,
        dilation: 1,
        before: 0,
        out: 1,
    };
}

/// Keras's `output_padding` of a transposed convolution at the type level: [`NoOutputPadding`]
/// (`None`, the default) or [`OutputPadding<P>`].
pub trait OutputPaddingKind {
    /// The `output_padding` of one axis.
    const VALUE: Option<usize>;
}

/// Type-level `output_padding=None`: the output length follows from the padding alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoOutputPadding;
/// Type-level `output_padding=P` along one axis (`P < stride`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputPadding<const P: usize>;

impl OutputPaddingKind for NoOutputPadding {
    const VALUE: Option<usize> = None;
}
impl<const P: usize> OutputPaddingKind for OutputPadding<P> {
    const VALUE: Option<usize> = Some(P);
}

/// A spatial axis of a transposed convolution, as a type (see [`TransposeAxis`]).
pub trait TransposedWindow {
    /// Whether the axis exists in Keras's shape ([`NoAxis`] fills the leading axes of the
    /// lower-rank layers).
    const PRESENT: bool;
    /// The axis's geometry.
    const AXIS: TransposedAxisGeometry;
}

/// A spatial axis of input length `N` under a transposed convolution of `K` taps with `STRIDE`,
/// `DILATION`, padding `P` ([`Valid`] or [`Same`]) and output padding `O`
/// ([`NoOutputPadding`] or [`OutputPadding`]).
///
/// ```
/// use static_keras_runtime::shape::{OutputPadding, Same, TransposeAxis, TransposedWindow, Valid};
/// // Conv1DTranspose(…, kernel_size=3, strides=2) on 5 steps:
/// assert_eq!(<TransposeAxis<5, 3, 2, 1, Valid> as TransposedWindow>::AXIS.out, 11);
/// assert_eq!(<TransposeAxis<5, 3, 2, 1, Same> as TransposedWindow>::AXIS.out, 10);
/// type Padded = TransposeAxis<5, 4, 3, 1, Same, OutputPadding<2>>;
/// assert_eq!(<Padded as TransposedWindow>::AXIS.out, 14);
/// ```
///
/// An output padding not below the stride (which Keras rejects) does not build:
///
/// ```compile_fail
/// use static_keras_runtime::shape::{OutputPadding, TransposeAxis, TransposedWindow, Valid};
/// const OUT: usize =
///     <TransposeAxis<5, 3, 2, 1, Valid, OutputPadding<2>> as TransposedWindow>::AXIS.out;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransposeAxis<
    const N: usize,
    const K: usize,
    const STRIDE: usize,
    const DILATION: usize,
    P = Valid,
    O = NoOutputPadding,
>(core::marker::PhantomData<(P, O)>);

impl<
        const N: usize,
        const K: usize,
        const STRIDE: usize,
        const DILATION: usize,
        P: PaddingKind,
        O: OutputPaddingKind,
    > TransposedWindow for TransposeAxis<N, K, STRIDE, DILATION, P, O>
{
    const PRESENT: bool = true;
    const AXIS: TransposedAxisGeometry =
        match TransposedAxisGeometry::resolve(N, K, STRIDE, DILATION, P::PADDING, O::VALUE) {
            Some(axis) => axis,
            None => panic!(
                "invalid transposed axis: output_padding must be below the stride, padding \
                 \"valid\" or \"same\", and the output not empty"
            ),
        };
}

impl TransposedWindow for NoAxis {
    const PRESENT: bool = false;
    const AXIS: TransposedAxisGeometry = TransposedAxisGeometry {
        n: 1,
        k: 1,
        stride: 1,
        dilation: 1,
        crop: 0,
        out: 1,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_at_the_edges() {
        assert_eq!(output_len(5, 5, 1, 1, Padding::Valid), Some(1));
        assert_eq!(output_len(4, 5, 1, 1, Padding::Valid), None);
        assert_eq!(output_len(7, 3, 2, 1, Padding::Valid), Some(3));
        assert_eq!(output_len(8, 3, 3, 1, Padding::Valid), Some(2));
        assert_eq!(output_len(7, 3, 1, 2, Padding::Valid), Some(3));
        assert_eq!(output_len(5, 3, 1, 3, Padding::Valid), None);
        assert_eq!(output_len(7, 3, 2, 1, Padding::Same), Some(4));
        assert_eq!(output_len(1, 9, 1, 1, Padding::Same), Some(1));
        assert_eq!(output_len(7, 3, 3, 1, Padding::Causal), Some(3));
        assert_eq!(output_len(7, 3, 0, 1, Padding::Same), None);
    }

    #[test]
    fn same_puts_the_odd_pad_at_the_end() {
        // n=5, k=2, s=1: total 1 -> (0, 1).
        assert_eq!(padding_amounts(5, 2, 1, 1, Padding::Same), (0, 1));
        // n=5, k=4, s=1: total 3 -> (1, 2).
        assert_eq!(padding_amounts(5, 4, 1, 1, Padding::Same), (1, 2));
        // n=6, k=3, s=2: out 3, needed 7 -> total 1 -> (0, 1).
        assert_eq!(padding_amounts(6, 3, 2, 1, Padding::Same), (0, 1));
        // stride larger than the window: nothing to pad.
        assert_eq!(padding_amounts(6, 1, 3, 1, Padding::Same), (0, 0));
        assert_eq!(padding_amounts(6, 3, 1, 2, Padding::Causal), (4, 0));
    }

    fn all_axes() -> impl Iterator<Item = AxisGeometry> {
        let paddings = [Padding::Valid, Padding::Same, Padding::Causal];
        (1..9).flat_map(move |n| {
            (1..6).flat_map(move |k| {
                (1..4).flat_map(move |s| {
                    (1..4).flat_map(move |d| {
                        paddings
                            .into_iter()
                            .filter_map(move |p| AxisGeometry::resolve(n, k, s, d, p))
                    })
                })
            })
        })
    }

    #[test]
    fn every_output_reads_the_input() {
        // Without dilation no window is made only of padding (pooling relies on it: its
        // windows are never empty). A dilated window can straddle a short input: n=1, k=2,
        // d=2, "same" reads indices -1 and 1, and Keras outputs the bias alone.
        let a = AxisGeometry::resolve(1, 2, 1, 2, Padding::Same).unwrap();
        assert_eq!(a.taps_inside(0), (0, 0));
        for a in all_axes().filter(|a| a.dilation == 1) {
            for o in 0..a.out {
                assert!(
                    (0..a.k).any(|t| a.input_index(o, t).is_some()),
                    "{a:?} output {o}"
                );
            }
        }
    }

    #[test]
    fn tap_and_output_ranges_agree_with_input_index() {
        for a in all_axes() {
            for o in 0..a.out {
                let (lo, hi) = a.taps_inside(o);
                for t in 0..a.k {
                    assert_eq!(
                        a.input_index(o, t).is_some(),
                        (lo..hi).contains(&t),
                        "{a:?} o={o} t={t}"
                    );
                }
            }
            for t in 0..a.k {
                let (lo, hi) = a.outputs_inside(t);
                for o in 0..a.out {
                    assert_eq!(
                        a.input_index(o, t).is_some(),
                        (lo..hi).contains(&o),
                        "{a:?} o={o} t={t}"
                    );
                }
            }
        }
    }

    #[test]
    fn causal_pads_left_only_and_same_pads_the_end() {
        let a = AxisGeometry::resolve(6, 3, 1, 2, Padding::Causal).unwrap();
        assert_eq!((a.before, a.out), (4, 6));
        assert_eq!(a.input_index(0, 2), Some(0));
        assert_eq!(a.input_index(0, 1), None);
        // n=5, k=4, s=1: total 3 -> 1 before, 2 after.
        let a = AxisGeometry::resolve(5, 4, 1, 1, Padding::Same).unwrap();
        assert_eq!((a.before, a.out), (1, 5));
        assert_eq!(a.taps_inside(4), (0, 2));
        assert_eq!(a.taps_inside(0), (1, 4));
        // A window wider than the input is fine with "same": n=1, k=9.
        let a = AxisGeometry::resolve(1, 9, 1, 1, Padding::Same).unwrap();
        assert_eq!((a.before, a.out, a.taps_inside(0)), (4, 1, (4, 5)));
        assert_eq!(AxisGeometry::resolve(4, 5, 1, 1, Padding::Valid), None);
        assert_eq!(Padding::from_keras("SAME", false), Some(Padding::Same));
        assert_eq!(Padding::from_keras("causal", false), None);
        assert_eq!(Padding::from_keras("causal", true), Some(Padding::Causal));
    }

    #[test]
    fn interior_outputs_read_no_padding() {
        for a in all_axes() {
            let (lo, hi) = a.interior();
            for o in 0..a.out {
                let full = a.taps_inside(o) == (0, a.k);
                assert_eq!(full, (lo..hi).contains(&o), "{a:?} o={o}");
            }
        }
    }

    /// Keras 3.15.1's measured Conv1DTranspose output lengths (n, k, s, d, padding,
    /// output_padding → length), KERAS_GRAPHS.md §2.2.
    #[test]
    fn transposed_lengths_match_keras() {
        use Padding::{Same, Valid};
        let cases = [
            (5, 3, 2, 1, Same, None, 10),
            (5, 3, 2, 1, Valid, None, 11),
            (5, 4, 2, 1, Same, None, 10),
            (5, 4, 2, 1, Valid, None, 12),
            (5, 3, 2, 1, Same, Some(1), 10),
            (5, 3, 2, 1, Valid, Some(1), 12),
            (5, 4, 3, 1, Same, Some(2), 14),
            (5, 2, 3, 1, Valid, None, 15),
            (5, 3, 1, 2, Same, None, 5),
            (5, 3, 1, 2, Valid, None, 9),
            (4, 5, 2, 1, Same, Some(0), 7),
            (4, 1, 3, 1, Same, None, 12),
        ];
        for (n, k, s, d, p, op, len) in cases {
            assert_eq!(
                transposed_output_len(n, k, s, d, p, op),
                Some(len),
                "{n} {k} {s} {d} {p:?} {op:?}"
            );
        }
        // output_padding must stay below the stride; an empty output is refused.
        assert_eq!(transposed_output_len(5, 3, 2, 1, Valid, Some(2)), None);
        assert_eq!(transposed_output_len(1, 2, 1, 1, Same, Some(0)), None);
        assert_eq!(
            transposed_output_len(5, 3, 2, 1, Padding::Causal, None),
            None
        );
        // "same" with stride 2, kernel 3: pad 3, left 2, so the first output is position 0.
        assert_eq!(transposed_crop(3, 2, 1, Same, None), 0);
        // kernel 4, stride 1: pad 3, left 2, crop 1.
        assert_eq!(transposed_crop(4, 1, 1, Same, None), 1);
        assert_eq!(transposed_crop(4, 3, 1, Valid, None), 0);
    }

    #[test]
    fn transposed_input_ranges_agree_with_output_index() {
        let paddings = [Padding::Valid, Padding::Same];
        for n in 1..7 {
            for k in 1..6 {
                for s in 1..4 {
                    for d in 1..3 {
                        for p in paddings {
                            for op in [None, Some(0), Some(1), Some(2)] {
                                let Some(a) = TransposedAxisGeometry::resolve(n, k, s, d, p, op)
                                else {
                                    continue;
                                };
                                for t in 0..k {
                                    let (lo, hi) = a.inputs_inside(t);
                                    for i in 0..n {
                                        assert_eq!(
                                            a.output_index(i, t).is_some(),
                                            (lo..hi).contains(&i),
                                            "{a:?} i={i} t={t}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
