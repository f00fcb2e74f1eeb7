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
}
