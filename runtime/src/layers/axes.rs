//! `RepeatVector` and `Permute`: values moved between axes, none computed.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{no_params, stateless_train, Params};
use crate::{zeros, Tensor};

/// Most axes (batch excluded) of the input of a layer whose axis layout is set when it is built:
/// [`Permute`] and [`Softmax`](crate::Softmax).
pub const MAX_RANK: usize = 8;

/// Keras `RepeatVector(n)`: a vector `(F,)` repeated `N` times, `(N, F)`.
///
/// # Shapes
/// - input: `Tensor<F, 1>`; output: `Tensor<F, N>`.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, RepeatVector};
/// let mut x = zeros::<2, 1>();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0]);
/// let y = RepeatVector::<2, 3>.forward(&x);
/// assert_eq!(y.as_slice(), &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RepeatVector<const F: usize, const N: usize>;

zeroable!([const F: usize, const N: usize] RepeatVector<F, N> => RepeatVector);

impl<const F: usize, const N: usize> Layer<Tensor<F, 1>> for RepeatVector<F, N> {
    type Output = Tensor<F, N>;

    fn forward(&self, x: &Tensor<F, 1>) -> Tensor<F, N> {
        let mut y = zeros::<F, N>();
        for step in y.as_mut_slice().chunks_exact_mut(F) {
            step.copy_from_slice(x.as_slice());
        }
        y
    }
}

no_weights!(<const F: usize, const N: usize> Weights for RepeatVector<F, N>);

stateless_train! {
    /// The training path: the gradient of the vector is the sum over its `N` copies.
    impl[const F: usize, const N: usize] Train<Tensor<F, 1>> for RepeatVector<F, N>;
    fn backward(&self, _x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        for step in dy.as_slice().chunks_exact(F) {
            crate::train::add_into(dx.as_mut_slice(), step);
        }
    }
}

no_params!(<const F: usize, const N: usize> Params for RepeatVector<F, N>);

/// Keras `Permute(dims)`: the axes of the input reordered; `dims` is a permutation of
/// `1..=rank` counting the first axis after the batch as 1, as in Keras (`Permute((2, 1))`
/// swaps the two axes of a sequence).
///
/// The input shape and the permutation are set when the layer is built (a `const fn`: build it
/// in a `const` or `static` and a wrong shape or permutation is a compile error); the tensor
/// sizes are checked against each other at compile time.
///
/// # Shapes
/// - input: `Tensor<FI, PI>` (Keras `shape`); output: `Tensor<FO, PO>`, the shape permuted.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, Permute};
/// // Keras: Permute((2, 1)) on (2, 3): the transpose, (3, 2).
/// const T: Permute<3, 2, 2, 3> = Permute::new(&[2, 3], &[2, 1]);
/// let mut x = zeros::<3, 2>();
/// x.as_mut_slice().copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(T.forward(&x).as_slice(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
///
/// ```compile_fail
/// use static_keras_runtime::Permute;
/// // (1, 1) is not a permutation.
/// const T: Permute<3, 2, 2, 3> = Permute::new(&[2, 3], &[1, 1]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permute<const FI: usize, const PI: usize, const FO: usize, const PO: usize> {
    /// The input's Keras shape; `rank` entries are used.
    shape: [usize; MAX_RANK],
    /// Output axis `j` is input axis `from[j]` (0-based).
    from: [usize; MAX_RANK],
    rank: usize,
}

zeroable!([const FI: usize, const PI: usize, const FO: usize, const PO: usize] Permute<FI, PI, FO, PO> => Permute { shape, from, rank });

impl<const FI: usize, const PI: usize, const FO: usize, const PO: usize> Permute<FI, PI, FO, PO> {
    /// The permutation `dims` (Keras's, 1-based) of an input of Keras shape `shape`.
    ///
    /// # Panics
    /// (A compile error in `const` context.) When `dims` is not a permutation of
    /// `1..=shape.len()`, the rank exceeds [`MAX_RANK`], or the shapes do not give `FI·PI`
    /// values ending in `FI` in and ending in `FO` out.
    pub const fn new(shape: &[usize], dims: &[usize]) -> Self {
        let rank = shape.len();
        assert!(
            rank >= 1 && rank <= MAX_RANK && dims.len() == rank,
            "Permute: dims must have one entry per axis of the shape (at most MAX_RANK)"
        );
        let mut seen = [false; MAX_RANK];
        let mut from = [0; MAX_RANK];
        let mut own = [1; MAX_RANK];
        let mut size = 1;
        let mut j = 0;
        while j < rank {
            assert!(
                dims[j] >= 1 && dims[j] <= rank && !seen[dims[j] - 1],
                "Permute: dims must be a permutation of 1..=rank"
            );
            seen[dims[j] - 1] = true;
            from[j] = dims[j] - 1;
            own[j] = shape[j];
            size *= shape[j];
            j += 1;
        }
        assert!(
            size == FI * PI && shape[rank - 1] == FI && shape[from[rank - 1]] == FO,
            "Permute: the shape must hold FI * PI values, end in FI, and its permutation end in FO"
        );
        Self {
            shape: own,
            from,
            rank,
        }
    }
}

impl<const FI: usize, const PI: usize, const FO: usize, const PO: usize> Layer<Tensor<FI, PI>>
    for Permute<FI, PI, FO, PO>
{
    type Output = Tensor<FO, PO>;

    fn forward(&self, x: &Tensor<FI, PI>) -> Tensor<FO, PO> {
        const { assert!(FI * PI == FO * PO, "Permute must keep the number of values") };
        let r = self.rank;
        // Row-major strides of the input, then each output axis's stride in the input.
        let mut in_stride = [1; MAX_RANK];
        for k in (0..r - 1).rev() {
            in_stride[k] = in_stride[k + 1] * self.shape[k + 1];
        }
        let mut len = [1; MAX_RANK];
        let mut stride = [0; MAX_RANK];
        for j in 0..r {
            len[j] = self.shape[self.from[j]];
            stride[j] = in_stride[self.from[j]];
        }
        let (xs, mut y) = (x.as_slice(), zeros::<FO, PO>());
        // Every output row (all axes but the last) in order, with an odometer over the outer
        // output axes that keeps the row's first input offset.
        let (mut index, mut src) = ([0usize; MAX_RANK], 0usize);
        for row in y.as_mut_slice().chunks_exact_mut(FO) {
            if stride[r - 1] == 1 {
                row.copy_from_slice(&xs[src..src + FO]);
            } else {
                for (i, out) in row.iter_mut().enumerate() {
                    *out = xs[src + i * stride[r - 1]];
                }
            }
            let mut j = r - 1;
            while j > 0 {
                j -= 1;
                index[j] += 1;
                src += stride[j];
                if index[j] < len[j] {
                    break;
                }
                src -= stride[j] * len[j];
                index[j] = 0;
            }
        }
        y
    }
}

no_weights!(<const FI: usize, const PI: usize, const FO: usize, const PO: usize> Weights for Permute<FI, PI, FO, PO>);

impl<const FI: usize, const PI: usize, const FO: usize, const PO: usize> Permute<FI, PI, FO, PO> {
    /// Calls `f(o, i)` for every output index `o` in order with the input index `i` it takes.
    fn each(&self, mut f: impl FnMut(usize, usize)) {
        let r = self.rank;
        let mut in_stride = [1; MAX_RANK];
        for k in (0..r - 1).rev() {
            in_stride[k] = in_stride[k + 1] * self.shape[k + 1];
        }
        let mut len = [1; MAX_RANK];
        let mut stride = [0; MAX_RANK];
        for j in 0..r {
            len[j] = self.shape[self.from[j]];
            stride[j] = in_stride[self.from[j]];
        }
        let (mut index, mut src) = ([0usize; MAX_RANK], 0usize);
        for o in 0..FO * PO {
            f(o, src);
            let mut j = r;
            while j > 0 {
                j -= 1;
                index[j] += 1;
                src += stride[j];
                if index[j] < len[j] {
                    break;
                }
                src -= stride[j] * len[j];
                index[j] = 0;
            }
        }
    }
}

stateless_train! {
    /// The training path: the gradient moves back along the inverse permutation.
    impl[const FI: usize, const PI: usize, const FO: usize, const PO: usize]
        Train<Tensor<FI, PI>> for Permute<FI, PI, FO, PO>;
    fn backward(&self, _x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        let (dx, dy) = (dx.as_mut_slice(), dy.as_slice());
        self.each(|o, i| dx[i] += dy[o]);
    }
}

no_params!(<const FI: usize, const PI: usize, const FO: usize, const PO: usize> Params for Permute<FI, PI, FO, PO>);

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize, const P: usize>(values: &[f32]) -> Tensor<F, P> {
        let mut t = zeros::<F, P>();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    fn iota<const F: usize, const P: usize>() -> Tensor<F, P> {
        let mut t = zeros::<F, P>();
        for (i, v) in t.as_mut_slice().iter_mut().enumerate() {
            *v = i as f32;
        }
        t
    }

    #[test]
    fn repeat_vector_repeats_the_vector() {
        let y = RepeatVector::<3, 2>.forward(&tensor::<3, 1>(&[1.0, -1.0, 0.5]));
        assert_eq!(y.as_slice(), &[1.0, -1.0, 0.5, 1.0, -1.0, 0.5]);
    }

    /// `y[o] = x[i]` checked against index arithmetic written out for rank 3.
    fn check_rank3<const FO: usize, const PO: usize>(shape: [usize; 3], dims: [usize; 3]) {
        let p: Permute<4, 6, FO, PO> = Permute::new(&shape, &dims);
        let x = iota::<4, 6>();
        let y = p.forward(&x);
        let out = [shape[dims[0] - 1], shape[dims[1] - 1], shape[dims[2] - 1]];
        for a in 0..out[0] {
            for b in 0..out[1] {
                for c in 0..out[2] {
                    let mut i = [0; 3];
                    i[dims[0] - 1] = a;
                    i[dims[1] - 1] = b;
                    i[dims[2] - 1] = c;
                    let src = (i[0] * shape[1] + i[1]) * shape[2] + i[2];
                    let dst = (a * out[1] + b) * out[2] + c;
                    assert_eq!(y.as_slice()[dst], src as f32, "{dims:?} at {a},{b},{c}");
                }
            }
        }
    }

    #[test]
    fn permute_every_order_of_three_axes() {
        // (2, 3, 4): every permutation, including the identity.
        check_rank3::<4, 6>([2, 3, 4], [1, 2, 3]);
        check_rank3::<4, 6>([2, 3, 4], [2, 1, 3]);
        check_rank3::<3, 8>([2, 3, 4], [1, 3, 2]);
        check_rank3::<2, 12>([2, 3, 4], [3, 2, 1]);
        check_rank3::<2, 12>([2, 3, 4], [2, 3, 1]);
        check_rank3::<3, 8>([2, 3, 4], [3, 1, 2]);
    }

    #[test]
    fn permute_with_a_size_one_axis() {
        // Keras: Permute((3, 1, 2)) on (4, 3, 1) gives (1, 4, 3).
        let p: Permute<1, 12, 3, 4> = Permute::new(&[4, 3, 1], &[3, 1, 2]);
        let y = p.forward(&iota::<1, 12>());
        assert_eq!(y.as_slice(), iota::<3, 4>().as_slice());
    }
    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        gradients::<_, Tensor<3, 1>>(&RepeatVector::<3, 4>, 1);
        let p: Permute<4, 6, 2, 12> = Permute::new(&[2, 3, 4], &[3, 2, 1]);
        gradients::<_, Tensor<4, 6>>(&p, 2);
        let p: Permute<4, 6, 3, 8> = Permute::new(&[2, 3, 4], &[1, 3, 2]);
        gradients::<_, Tensor<4, 6>>(&p, 3);
        // The traversal of the backward pass is the forward pass's.
        let x = iota::<4, 6>();
        let y = p.forward(&x);
        p.each(|o, i| assert_eq!(y[o], x[i]));
    }
}
