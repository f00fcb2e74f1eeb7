//! Merge layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum` (element-wise
//! over a list of tensors of one shape), `Concatenate(axis)` and `Dot(axes, normalize)`.
//!
//! Keras calls them on a list, `Add()([a, b])`; generated models call [`Add::merge`] and friends
//! on a slice of references. For hand-written composition, the element-wise layers are also a
//! [`Layer`] on a pair of tensors.

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::{zeroable, MergeInPlace};
use crate::Tensor;

/// Defines an element-wise merge layer folding its inputs left to right with `$op`.
macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident, $keras:literal, |$a:ident, $b:ident| $op:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $name {
            #[doc = concat!("Keras `", $keras, "` over `inputs` (at least one), all of one shape.")]
            ///
            /// # Panics
            /// When `inputs` is empty (generated models always pass at least one).
            pub fn merge<const F: usize, const P: usize>(&self, inputs: &[&Tensor<F, P>]) -> Tensor<F, P> {
                let (first, rest) = inputs.split_first().expect("a merge needs an input");
                let mut y = **first;
                for x in rest {
                    for (y, &$b) in y.as_mut_slice().iter_mut().zip(x.as_slice()) {
                        let $a = *y;
                        *y = $op;
                    }
                }
                y
            }
        }

        impl $name {
            /// The backward pass for one sample: adds `∂loss/∂x_i` into each `dxs[i]` (of the
            /// inputs' length), given the inputs, the output and its gradient `dy`.
            pub fn backward(&self, xs: &[&[f32]], y: &[f32], dy: &[f32], dxs: &mut [&mut [f32]]) {
                elementwise_backward(stringify!($name), xs, y, dy, dxs);
            }
        }

        impl<const F: usize, const P: usize> Layer<(Tensor<F, P>, Tensor<F, P>)> for $name {
            type Output = Tensor<F, P>;
            fn forward(&self, (a, b): &(Tensor<F, P>, Tensor<F, P>)) -> Tensor<F, P> {
                self.merge(&[a, b])
            }
        }

        no_weights!(Weights for $name);
        zeroable!([] $name => $name);

        impl<const F: usize, const P: usize> MergeInPlace<Tensor<F, P>> for $name {
            fn merge_in_place(&self, first: &mut Tensor<F, P>, rest: &[&Tensor<F, P>]) {
                // `merge`'s fold, from the first input already in place.
                for x in rest {
                    for (y, &$b) in first.as_mut_slice().iter_mut().zip(x.as_slice()) {
                        let $a = *y;
                        *y = $op;
                    }
                }
            }
        }
    };
}

/// The backward pass of a left-to-right fold `y = ((x0 ∘ x1) ∘ x2) …`, as JAX differentiates
/// it: `∂` of a product goes to the other factors, of a maximum or minimum to the operand that
/// won each step (half to each at a tie).
fn elementwise_backward(op: &str, xs: &[&[f32]], _y: &[f32], dy: &[f32], dxs: &mut [&mut [f32]]) {
    let n = xs.len();
    for e in 0..dy.len() {
        let g = dy[e];
        match op {
            "Add" => dxs.iter_mut().for_each(|d| d[e] += g),
            "Subtract" => {
                dxs[0][e] += g;
                dxs[1][e] -= g;
            }
            "Multiply" => {
                // ∂/∂x_i of the fold: the product of the others.
                for (i, d) in dxs.iter_mut().enumerate() {
                    let mut p = g;
                    for (j, x) in xs.iter().enumerate() {
                        if j != i {
                            p *= x[e];
                        }
                    }
                    d[e] += p;
                }
            }
            _ => {
                // Maximum / Minimum: walk the fold backwards, sending the gradient to the winner
                // of each step (split at ties, as JAX's max/min do).
                let wins = |a: f32, b: f32| if op == "Maximum" { a > b } else { a < b };
                let mut acc = [0.0f32; 64];
                assert!(n <= 64, "a merge of more than 64 tensors");
                acc[0] = xs[0][e];
                for i in 1..n {
                    let (a, b) = (acc[i - 1], xs[i][e]);
                    acc[i] = if wins(b, a) || a.is_nan() { b } else { a };
                }
                let mut carry = g;
                for i in (1..n).rev() {
                    let (a, b) = (acc[i - 1], xs[i][e]);
                    let (to_acc, to_x) = if a == b {
                        (0.5, 0.5)
                    } else if wins(b, a) || a.is_nan() {
                        (0.0, 1.0)
                    } else {
                        (1.0, 0.0)
                    };
                    dxs[i][e] += carry * to_x;
                    carry *= to_acc;
                }
                dxs[0][e] += carry;
            }
        }
    }
}

elementwise!(
    /// Keras `Add()`: the element-wise sum of its inputs.
    ///
    /// # Shapes
    /// - inputs: any number of `Tensor<F, P>` (one Keras shape)
    /// - output: `Tensor<F, P>`
    ///
    /// ```
    /// use static_keras_runtime::{Add, Layer, Tensor};
    /// let a = Tensor::<2, 1>::from_slice(&[1.0, 2.0]);
    /// let b = Tensor::<2, 1>::from_slice(&[10.0, 20.0]);
    /// assert_eq!(Add.forward(&(a, b)).as_slice(), &[11.0, 22.0]);
    /// ```
    Add, "Add", |a, b| a + b
);
elementwise!(
    /// Keras `Subtract()`: `a − b` of exactly two inputs (the checker allows no other count).
    ///
    /// # Shapes
    /// - inputs: two `Tensor<F, P>`; output: `Tensor<F, P>`
    Subtract, "Subtract", |a, b| a - b
);
elementwise!(
    /// Keras `Multiply()`: the element-wise product of its inputs.
    ///
    /// # Shapes
    /// - inputs: any number of `Tensor<F, P>`; output: `Tensor<F, P>`
    Multiply, "Multiply", |a, b| a * b
);
elementwise!(
    /// Keras `Maximum()`: the element-wise maximum of its inputs.
    ///
    /// # Shapes
    /// - inputs: any number of `Tensor<F, P>`; output: `Tensor<F, P>`
    Maximum, "Maximum", |a, b| if b > a || a.is_nan() { b } else { a }
);
elementwise!(
    /// Keras `Minimum()`: the element-wise minimum of its inputs.
    ///
    /// # Shapes
    /// - inputs: any number of `Tensor<F, P>`; output: `Tensor<F, P>`
    Minimum, "Minimum", |a, b| if b < a || a.is_nan() { b } else { a }
);

/// Keras `Average()`: the element-wise mean of its inputs, their sum divided by their count (as
/// Keras computes it, a division rather than a product with the reciprocal).
///
/// # Shapes
/// - inputs: any number of `Tensor<F, P>`; output: `Tensor<F, P>`
///
/// ```
/// use static_keras_runtime::{Average, Tensor};
/// let a = Tensor::<2, 1>::from_slice(&[1.0, 2.0]);
/// let b = Tensor::<2, 1>::from_slice(&[2.0, 6.0]);
/// assert_eq!(Average.merge(&[&a, &b]).as_slice(), &[1.5, 4.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Average;

zeroable!([] Average => Average);

impl Average {
    /// The mean of `inputs` (at least one).
    ///
    /// # Panics
    /// When `inputs` is empty.
    pub fn merge<const F: usize, const P: usize>(&self, inputs: &[&Tensor<F, P>]) -> Tensor<F, P> {
        let mut y = Add.merge(inputs);
        let n = inputs.len() as f32;
        y.as_mut_slice().iter_mut().for_each(|v| *v /= n);
        y
    }
}

impl Average {
    /// The backward pass for one sample: each input gets `∂y / n`.
    pub fn backward(&self, xs: &[&[f32]], _y: &[f32], dy: &[f32], dxs: &mut [&mut [f32]]) {
        let n = xs.len() as f32;
        for d in dxs.iter_mut() {
            for (d, g) in d.iter_mut().zip(dy) {
                *d += g / n;
            }
        }
    }
}

impl<const F: usize, const P: usize> Layer<(Tensor<F, P>, Tensor<F, P>)> for Average {
    type Output = Tensor<F, P>;
    fn forward(&self, (a, b): &(Tensor<F, P>, Tensor<F, P>)) -> Tensor<F, P> {
        self.merge(&[a, b])
    }
}

no_weights!(Weights for Average);

impl<const F: usize, const P: usize> MergeInPlace<Tensor<F, P>> for Average {
    fn merge_in_place(&self, first: &mut Tensor<F, P>, rest: &[&Tensor<F, P>]) {
        Add.merge_in_place(first, rest);
        let n = (rest.len() + 1) as f32;
        first.as_mut_slice().iter_mut().for_each(|v| *v /= n);
    }
}

/// Keras `Concatenate(axis=-1)`: its inputs joined along one axis.
///
/// In Keras's row-major order a concatenation along an axis is, for each index of the axes
/// before it (`OUTER` of them in all), one contiguous run of each input in turn: the run of
/// input `i` holds its length along the axis times the product of the axes after it.
///
/// # Shapes
/// - inputs: tensors whose Keras shapes agree except along the axis
/// - output: `Tensor<F, P>` of the joined shape
///
/// ```
/// use static_keras_runtime::{Concatenate, Tensor};
/// // Keras: Concatenate()([a, b]) of (2, 1) and (2, 2): the last axis.
/// let a = Tensor::<1, 2>::from_slice(&[1.0, 2.0]);
/// let b = Tensor::<2, 2>::from_slice(&[10.0, 11.0, 20.0, 21.0]);
/// let mut y = Tensor::<3, 2>::zeros();
/// Concatenate::<2>.merge_into(&[(a.as_slice(), 1), (b.as_slice(), 2)], y.as_mut_slice());
/// assert_eq!(y.as_slice(), &[1.0, 10.0, 11.0, 2.0, 20.0, 21.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Concatenate<const OUTER: usize>;

zeroable!([const OUTER: usize] Concatenate<OUTER> => Concatenate);

impl<const OUTER: usize> Concatenate<OUTER> {
    /// Joins `inputs`, each given with its run length, into `out`.
    ///
    /// # Panics
    /// When an input does not hold `OUTER` runs or `out` is not their total length.
    pub fn merge_into(&self, inputs: &[(&[f32], usize)], out: &mut [f32]) {
        let total: usize = inputs.iter().map(|(_, run)| run).sum();
        assert_eq!(out.len(), OUTER * total, "Concatenate: output length");
        for (x, run) in inputs {
            assert_eq!(x.len(), OUTER * run, "Concatenate: input length");
        }
        let mut at = 0;
        for o in 0..OUTER {
            for &(x, run) in inputs {
                out[at..at + run].copy_from_slice(&x[o * run..(o + 1) * run]);
                at += run;
            }
        }
    }
}

impl<const OUTER: usize> Concatenate<OUTER> {
    /// The backward pass for one sample: each input's runs of `dy` added into its gradient.
    pub fn backward(&self, dy: &[f32], dxs: &mut [(&mut [f32], usize)]) {
        let mut at = 0;
        for o in 0..OUTER {
            for (d, run) in dxs.iter_mut() {
                let run = *run;
                for (d, g) in d[o * run..(o + 1) * run].iter_mut().zip(&dy[at..at + run]) {
                    *d += g;
                }
                at += run;
            }
        }
    }
}

no_weights!(<const OUTER: usize> Weights for Concatenate<OUTER>);

/// Keras `Dot(axes, normalize=False)` of two inputs of Keras rank 1 or 2 (batch excluded).
///
/// Each input is viewed as a matrix `rows × cols` (a vector `(d,)` as `1 × d`) contracted over
/// axis `AXIS_A`/`AXIS_B` of [`Dot::merge_into`] (0 = rows, 1 = cols of that view). The output
/// holds, in row-major order, the dot products of every remaining index of `a` with every
/// remaining index of `b`. With `normalize`, each contracted vector is first scaled to unit L2
/// norm as Keras does, `x · min(1/√Σx², 1e7)`, which makes the output a cosine similarity.
///
/// # Shapes
/// - inputs: `a` of `RA × CA` and `b` of `RB × CB` values; output: the products
///
/// ```
/// use static_keras_runtime::Dot;
/// // Keras: Dot(axes=1) of two (3,) vectors → (1,).
/// let mut y = [0.0f32];
/// Dot { normalize: false }.merge_into::<1, 3, 1, 3, 1, 1>(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], &mut y);
/// assert_eq!(y, [32.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dot {
    /// L2-normalise along the contracted axis first.
    pub normalize: bool,
}

zeroable!([] Dot => Dot { normalize });

/// `(remaining, contracted)` sizes of a `rows × cols` view contracted over `axis`, and the
/// stride of each in the flat data.
const fn view(rows: usize, cols: usize, axis: usize) -> (usize, usize, usize, usize) {
    if axis == 1 {
        (rows, cols, cols, 1)
    } else {
        (cols, rows, 1, cols)
    }
}

impl Dot {
    /// The layer; `normalize` as Keras's argument.
    pub const fn new(normalize: bool) -> Self {
        Self { normalize }
    }

    /// `1/‖x_i‖` of remaining index `i` (clamped as Keras clamps it), or 1 without `normalize`.
    fn scale(&self, x: &[f32], i: usize, si: usize, sk: usize, k: usize) -> f32 {
        if !self.normalize {
            return 1.0;
        }
        let s: f32 = (0..k)
            .map(|j| x[i * si + j * sk] * x[i * si + j * sk])
            .sum();
        let inv = 1.0 / libm::sqrtf(s);
        if inv < 1e7 {
            inv
        } else {
            1e7
        }
    }

    /// The products of `a` (`RA × CA`) and `b` (`RB × CB`) into `out`
    /// (`remaining(a) × remaining(b)` values).
    ///
    /// # Panics
    /// When a slice length does not match the sizes.
    pub fn merge_into<
        const RA: usize,
        const CA: usize,
        const RB: usize,
        const CB: usize,
        const AXIS_A: usize,
        const AXIS_B: usize,
    >(
        &self,
        a: &[f32],
        b: &[f32],
        out: &mut [f32],
    ) {
        const {
            assert!(
                AXIS_A < 2 && AXIS_B < 2,
                "Dot: axes are 0 (rows) or 1 (cols)"
            )
        };
        let (ra, ka, sa_i, sa_k) = view(RA, CA, AXIS_A);
        let (rb, kb, sb_i, sb_k) = view(RB, CB, AXIS_B);
        assert!(ka == kb, "Dot: the contracted axes differ in length");
        assert!(
            a.len() == RA * CA && b.len() == RB * CB,
            "Dot: input lengths"
        );
        assert!(out.len() == ra * rb, "Dot: output length");
        for i in 0..ra {
            let na = self.scale(a, i, sa_i, sa_k, ka);
            for j in 0..rb {
                let nb = self.scale(b, j, sb_i, sb_k, kb);
                let mut acc = 0.0f32;
                for k in 0..ka {
                    acc += (a[i * sa_i + k * sa_k] * na) * (b[j * sb_i + k * sb_k] * nb);
                }
                out[i * rb + j] = acc;
            }
        }
    }
}

impl Dot {
    /// The backward pass for one sample: adds `∂loss/∂a` and `∂loss/∂b` into `da` and `db`
    /// (the geometry as [`Dot::merge_into`]), through the normalisation when there is one.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<
        const RA: usize,
        const CA: usize,
        const RB: usize,
        const CB: usize,
        const AXIS_A: usize,
        const AXIS_B: usize,
    >(
        &self,
        a: &[f32],
        b: &[f32],
        dy: &[f32],
        da: &mut [f32],
        db: &mut [f32],
    ) {
        let (ra, ka, sa_i, sa_k) = view(RA, CA, AXIS_A);
        let (rb, _, sb_i, sb_k) = view(RB, CB, AXIS_B);
        for i in 0..ra {
            let na = self.scale(a, i, sa_i, sa_k, ka);
            for j in 0..rb {
                let nb = self.scale(b, j, sb_i, sb_k, ka);
                let g = dy[i * rb + j];
                // y = Σ_k (a_k·na)(b_k·nb): ∂ through the normalised vectors first.
                let mut dot = 0.0f32;
                for k in 0..ka {
                    dot += (a[i * sa_i + k * sa_k] * na) * (b[j * sb_i + k * sb_k] * nb);
                }
                for k in 0..ka {
                    let (x, w) = (a[i * sa_i + k * sa_k], b[j * sb_i + k * sb_k]);
                    // ∂(x·n)/∂x_l = n·δ − x·x_l·n³ while the norm is not clamped.
                    let an = x * na;
                    let bn = w * nb;
                    da[i * sa_i + k * sa_k] += g * bn * na;
                    db[j * sb_i + k * sb_k] += g * an * nb;
                }
                if self.normalize {
                    // The normalisation's own term: −n²·x·(Σ_k x̂_k·ŷ_k) per vector.
                    let clamp_a = na >= 1e7;
                    let clamp_b = nb >= 1e7;
                    for k in 0..ka {
                        if !clamp_a {
                            da[i * sa_i + k * sa_k] -= g * dot * a[i * sa_i + k * sa_k] * na * na;
                        }
                        if !clamp_b {
                            db[j * sb_i + k * sb_k] -= g * dot * b[j * sb_i + k * sb_k] * nb * nb;
                        }
                    }
                }
            }
        }
    }
}

no_weights!(Weights for Dot);

#[cfg(test)]
mod tests {
    use super::*;

    fn t<const F: usize, const P: usize>(v: &[f32]) -> Tensor<F, P> {
        let mut x = crate::zeros::<F, P>();
        x.as_mut_slice().copy_from_slice(v);
        x
    }

    #[test]
    fn elementwise_fold_left_to_right() {
        let (a, b, c) = (
            t::<2, 1>(&[1.0, -2.0]),
            t::<2, 1>(&[3.0, 5.0]),
            t::<2, 1>(&[-1.0, 0.5]),
        );
        assert_eq!(Add.merge(&[&a, &b, &c]).as_slice(), &[3.0, 3.5]);
        assert_eq!(Subtract.merge(&[&a, &b]).as_slice(), &[-2.0, -7.0]);
        assert_eq!(Multiply.merge(&[&a, &b, &c]).as_slice(), &[-3.0, -5.0]);
        assert_eq!(Maximum.merge(&[&a, &b, &c]).as_slice(), &[3.0, 5.0]);
        assert_eq!(Minimum.merge(&[&a, &b, &c]).as_slice(), &[-1.0, -2.0]);
        assert_eq!(Average.merge(&[&a, &b]).as_slice(), &[2.0, 1.5]);
    }

    #[test]
    fn concatenate_along_the_first_axis_is_one_run_each() {
        // (1, 2) and (2, 2) along axis 1 (Keras) = rows: OUTER 1.
        let mut y = [0.0; 6];
        Concatenate::<1>.merge_into(&[(&[1.0, 2.0], 2), (&[3.0, 4.0, 5.0, 6.0], 4)], &mut y);
        assert_eq!(y, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn dot_of_matrices_and_cosine() {
        // a (2, 3) · b (4, 3) over their last axes → (2, 4).
        let a = [1.0, 0.0, 2.0, 0.0, 1.0, -1.0];
        let b = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 1.0, -1.0, 0.0];
        let mut y = [0.0; 8];
        Dot::new(false).merge_into::<2, 3, 4, 3, 1, 1>(&a, &b, &mut y);
        assert_eq!(y, [3.0, 2.0, 2.0, 1.0, 0.0, -1.0, 0.0, -1.0]);
        // a (3, 2) · b (3, 1) over their first axes → (2, 1).
        let mut z = [0.0; 2];
        Dot::new(false).merge_into::<3, 2, 3, 1, 0, 0>(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[1.0, 0.0, -1.0],
            &mut z,
        );
        assert_eq!(z, [-4.0, -4.0]);
        let mut c = [0.0];
        Dot::new(true).merge_into::<1, 2, 1, 2, 1, 1>(&[3.0, 4.0], &[6.0, 8.0], &mut c);
        assert!((c[0] - 1.0).abs() < 1e-6);
    }
}
