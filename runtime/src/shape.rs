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
}
