//! `Softmax` along any axes of its input.

use crate::memory::zeroable;
use libm::{expf, logf};

use crate::layer::{no_weights, Layer, Weights};
use crate::train::{no_params, stateless_train, Params};
use crate::{zeros, Tensor, MAX_RANK};

/// Keras `Softmax(axis=-1)`: `exp(x − max) / Σ exp(x − max)` over the values that differ only
/// along `axis`, which may be any axis of the input, or several (a tuple).
///
/// With several axes Keras computes `exp(x − logsumexp(x))` instead (`logsumexp` with the
/// maximum taken out first), and so does this layer; one axis, in a tuple or not, is the plain
/// quotient. The layout of the axes is set when the layer is built (a `const fn`: build it in a
/// `const` or `static` and a wrong shape or axis is a compile error).
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, Keras shape `(…, F)` with `P` positions.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, Softmax};
/// // Keras: Softmax(axis=1) on a (2, 2) input: each column sums to 1.
/// const SOFTMAX: Softmax<2, 2> = Softmax::new(&[2, 2], &[1]);
/// let mut x = zeros::<2, 2>();
/// x.as_mut_slice().copy_from_slice(&[1.0, 5.0, 1.0, 3.0]);
/// let y = SOFTMAX.forward(&x);
/// assert_eq!(y.as_slice()[0], 0.5);
/// assert!((y.as_slice()[1] + y.as_slice()[3] - 1.0).abs() < 1e-6);
/// assert!(y.as_slice()[1] > 0.88);
/// ```
///
/// The batch axis cannot be normalised over (each sample is computed on its own):
///
/// ```compile_fail
/// use static_keras_runtime::Softmax;
/// const SOFTMAX: Softmax<2, 2> = Softmax::new(&[2, 2], &[0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softmax<const F: usize, const P: usize> {
    /// Lengths of the runs of consecutive axes that are all normalised over or all kept,
    /// outermost first; `count` of them are used.
    runs: [usize; MAX_RANK],
    /// Which runs are normalised over.
    reduced: [bool; MAX_RANK],
    count: usize,
    /// Keras's form for several axes.
    log_sum_exp: bool,
}

zeroable!([const F: usize, const P: usize] Softmax<F, P> => Softmax { runs, reduced, count, log_sum_exp });

impl<const F: usize, const P: usize> Softmax<F, P> {
    /// Softmax along the last axis (Keras's default `axis=-1`), whatever the shape.
    pub const fn last_axis() -> Self {
        let mut runs = [1; MAX_RANK];
        let mut reduced = [false; MAX_RANK];
        runs[0] = P;
        runs[1] = F;
        reduced[1] = true;
        Self {
            runs,
            reduced,
            count: 2,
            log_sum_exp: false,
        }
    }

    /// Softmax along Keras `axes` (counted with the batch axis as 0; negative from the end) of
    /// an input of Keras shape `shape` (without the batch axis).
    ///
    /// # Panics
    /// (A compile error in `const` context.) When `shape` does not hold `F·P` values ending in
    /// `F`, has more than [`MAX_RANK`] axes, or an axis is out of range, the batch axis, or
    /// repeated, or `axes` is empty.
    pub const fn new(shape: &[usize], axes: &[isize]) -> Self {
        let rank = shape.len();
        assert!(
            rank >= 1 && rank <= MAX_RANK,
            "Softmax: the shape must have 1 to MAX_RANK axes"
        );
        let mut size = 1;
        let mut k = 0;
        while k < rank {
            size *= shape[k];
            k += 1;
        }
        assert!(
            size == F * P && shape[rank - 1] == F,
            "Softmax: the shape must hold F * P values and end in F"
        );
        assert!(!axes.is_empty(), "Softmax: give at least one axis");
        let mut marked = [false; MAX_RANK];
        let mut i = 0;
        while i < axes.len() {
            let axis = if axes[i] < 0 {
                axes[i] + rank as isize + 1
            } else {
                axes[i]
            };
            assert!(
                axis >= 0 && axis <= rank as isize,
                "Softmax: axis out of range"
            );
            assert!(
                axis != 0,
                "Softmax: axis 0 is the batch axis, and each sample is computed on its own"
            );
            assert!(!marked[axis as usize - 1], "Softmax: an axis is repeated");
            marked[axis as usize - 1] = true;
            i += 1;
        }
        let mut runs = [1; MAX_RANK];
        let mut reduced = [false; MAX_RANK];
        let mut count = 0;
        let mut k = 0;
        while k < rank {
            if count > 0 && reduced[count - 1] == marked[k] {
                runs[count - 1] *= shape[k];
            } else {
                runs[count] = shape[k];
                reduced[count] = marked[k];
                count += 1;
            }
            k += 1;
        }
        Self {
            runs,
            reduced,
            count,
            log_sum_exp: axes.len() > 1,
        }
    }

    /// `(groups, n)`: how many groups are normalised, of how many values each.
    fn sizes(&self) -> (usize, usize) {
        let (mut groups, mut n) = (1, 1);
        for j in 0..self.count {
            if self.reduced[j] {
                n *= self.runs[j];
            } else {
                groups *= self.runs[j];
            }
        }
        (groups, n)
    }

    /// Whether the normalised axes are the innermost ones (each group a contiguous slice).
    fn innermost(&self, n: usize) -> bool {
        let last = self.count - 1;
        self.reduced[last] && n == self.runs[last]
    }

    /// The offset of element `index` of the runs that are (`reduced`) or are not normalised
    /// over, the others at 0: mixed-radix digits over those runs.
    fn offset(&self, mut index: usize, reduced: bool) -> usize {
        let (mut offset, mut stride) = (0, 1);
        let mut j = self.count;
        while j > 0 {
            j -= 1;
            if self.reduced[j] == reduced {
                offset += (index % self.runs[j]) * stride;
                index /= self.runs[j];
            }
            stride *= self.runs[j];
        }
        offset
    }
}

impl<const F: usize, const P: usize> Default for Softmax<F, P> {
    /// Along the last axis, Keras's default.
    fn default() -> Self {
        Self::last_axis()
    }
}

/// Softmax over the `n` values `v[at(0)]`, …, `v[at(n − 1)]`, as JAX computes it.
#[inline(always)]
fn normalise(v: &mut [f32], n: usize, at: impl Fn(usize) -> usize, log_sum_exp: bool) {
    let mut max = f32::NEG_INFINITY;
    for e in 0..n {
        max = max.max(v[at(e)]);
    }
    let mut sum = 0.0f32;
    if log_sum_exp {
        // jax.nn.logsumexp: the maximum taken out (0 when it is not finite), then added back.
        let shift = if max.is_finite() { max } else { 0.0 };
        for e in 0..n {
            sum += expf(v[at(e)] - shift);
        }
        let lse = logf(sum) + shift;
        for e in 0..n {
            let i = at(e);
            v[i] = expf(v[i] - lse);
        }
    } else {
        for e in 0..n {
            let i = at(e);
            v[i] = expf(v[i] - max);
            sum += v[i];
        }
        for e in 0..n {
            v[at(e)] /= sum;
        }
    }
}

impl<const F: usize, const P: usize> Layer<Tensor<F, P>> for Softmax<F, P> {
    type Output = Tensor<F, P>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
        let mut y = zeros::<F, P>();
        let v = y.as_mut_slice();
        v.copy_from_slice(x.as_slice());
        let (groups, n) = self.sizes();
        if self.innermost(n) {
            // The normalised axes are the innermost ones: each group is a contiguous slice.
            for group in v.chunks_exact_mut(n) {
                normalise(group, n, |e| e, self.log_sum_exp);
            }
        } else {
            for g in 0..groups {
                let base = self.offset(g, false);
                normalise(v, n, |e| base + self.offset(e, true), self.log_sum_exp);
            }
        }
        y
    }
}

no_weights!(<const F: usize, const P: usize> Weights for Softmax<F, P>);

/// `dx[i] += y[i]·(dy[i] − Σ y·dy)` over one group: the softmax's backward pass (also that of
/// Keras's `exp(x − logsumexp(x))` form, whose derivative is the same).
#[inline(always)]
fn backward_group(y: &[f32], dy: &[f32], dx: &mut [f32], n: usize, at: impl Fn(usize) -> usize) {
    let mut dot = 0.0f32;
    for e in 0..n {
        let i = at(e);
        dot += y[i] * dy[i];
    }
    for e in 0..n {
        let i = at(e);
        dx[i] += y[i] * (dy[i] - dot);
    }
}

stateless_train! {
    /// The training path: the forward pass is inference's; the backward pass reads the output.
    impl[const F: usize, const P: usize] Train<Tensor<F, P>> for Softmax<F, P>;
    fn backward(&self, _x, y, dy, dx) {
        let Some(dx) = dx else { return };
        let (y, dy, dx) = (y.as_slice(), dy.as_slice(), dx.as_mut_slice());
        let (groups, n) = self.sizes();
        if self.innermost(n) {
            for g in 0..groups {
                backward_group(y, dy, dx, n, |e| g * n + e);
            }
        } else {
            for g in 0..groups {
                let base = self.offset(g, false);
                backward_group(y, dy, dx, n, |e| base + self.offset(e, true));
            }
        }
    }
}

no_params!(<const F: usize, const P: usize> Params for Softmax<F, P>);

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t = zeros::<F, P>();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn last_axis_matches_the_keras_docstring() {
        let y = Softmax::<3, 1>::last_axis().forward(&tensor::<3, 1>(&[1.0, 2.0, 1.0]));
        for (got, want) in y
            .as_slice()
            .iter()
            .zip([0.211_941_57, 0.576_116_9, 0.211_941_57])
        {
            assert!((got - want).abs() < 1e-7, "{y:?}");
        }
        assert_eq!(
            Softmax::<3, 2>::new(&[2, 3], &[-1]),
            Softmax::<3, 2>::last_axis()
        );
        assert_eq!(
            Softmax::<3, 2>::new(&[2, 3], &[2]),
            Softmax::<3, 2>::last_axis()
        );
    }

    #[test]
    fn a_middle_axis_and_several_axes() {
        // (2, 2, 2) = [[[0, 1], [2, 3]], [[4, 5], [6, 7]]].
        let x = tensor::<2, 4>(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        // axis 2: pairs 2 apart within each block of 4.
        let y = Softmax::<2, 4>::new(&[2, 2, 2], &[2]).forward(&x);
        let (a, b) = (1.0 / (1.0 + expf(2.0)), 1.0 / (1.0 + expf(-2.0)));
        let want = [a, a, b, b, a, a, b, b];
        for (got, want) in y.as_slice().iter().zip(want) {
            assert!((got - want).abs() < 1e-7, "{y:?}");
        }
        // axes (1, 3): for each middle index, the four values of both outer blocks.
        let y = Softmax::<2, 4>::new(&[2, 2, 2], &[1, 3]).forward(&x);
        for j in [0usize, 2] {
            let group = [j, j + 1, j + 4, j + 5];
            let sum: f32 = group.iter().map(|&i| y.as_slice()[i]).sum();
            assert!((sum - 1.0).abs() < 1e-6);
            let z: f32 = group.iter().map(|&i| expf(x.as_slice()[i])).sum();
            assert!((y.as_slice()[j + 5] - expf(x.as_slice()[j + 5]) / z).abs() < 1e-6);
        }
        // every axis: one group.
        let y = Softmax::<2, 4>::new(&[2, 2, 2], &[1, 2, -1]).forward(&x);
        let total: f32 = y.as_slice().iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
    }

    #[test]
    #[should_panic(expected = "repeated")]
    fn a_repeated_axis_is_refused() {
        let _ = Softmax::<2, 2>::new(&[2, 2], &[1, -2]);
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        gradients::<_, Tensor<3, 2>>(&Softmax::<3, 2>::last_axis(), 1);
        gradients::<_, Tensor<2, 4>>(&Softmax::<2, 4>::new(&[2, 2, 2], &[2]), 2);
        gradients::<_, Tensor<2, 4>>(&Softmax::<2, 4>::new(&[2, 2, 2], &[1, 3]), 3);
        gradients::<_, Tensor<2, 4>>(&Softmax::<2, 4>::new(&[2, 2, 2], &[1, 2, 3]), 4);
    }
}
