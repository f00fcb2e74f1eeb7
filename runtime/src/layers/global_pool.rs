//! `GlobalAveragePooling1D/2D/3D` and `GlobalMaxPooling1D/2D/3D`: one value per channel over
//! every position, whatever the rank (the spatial axes are folded into the tensor's positions).

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::zeroable;
use crate::train::{no_params, stateless_train, Params};
use crate::Tensor;

/// Keras `GlobalAveragePooling1D/2D/3D(data_format=None, keepdims=False)`: the mean of each
/// channel over every position.
///
/// One type serves every rank and both `keepdims`: Keras's `(C,)` and `(1, …, 1, C)` outputs
/// are both a `Tensor<C, 1>`.
///
/// With a mask (`GlobalAveragePooling1D` after `Embedding(mask_zero=True)`),
/// [`GlobalAvgPool::forward_masked`] averages the unmasked steps only, as Keras does.
///
/// # Shapes
/// - input: `Tensor<C, P>` (Keras `(*spatial, C)`, `P` positions); output: `Tensor<C, 1>`.
///
/// ```
/// use static_keras_runtime::{zeros, GlobalAvgPool, Layer, Tensor};
/// // Keras: GlobalAveragePooling1D() on 3 steps of 2 channels.
/// let mut x: Tensor<2, 3> = zeros();
/// x.as_mut_slice().copy_from_slice(&[1.0, -1.0, 2.0, -2.0, 6.0, -6.0]);
/// assert_eq!(GlobalAvgPool.forward(&x).as_slice(), &[3.0, -3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GlobalAvgPool;

zeroable!([] GlobalAvgPool => GlobalAvgPool);

/// Keras `GlobalMaxPooling1D/2D/3D(data_format=None, keepdims=False)`: the maximum of each
/// channel over every position.
///
/// One type serves every rank and both `keepdims`, as for [`GlobalAvgPool`]. Keras's
/// `GlobalMaxPooling1D` does not support masking: a mask is dropped and every step counts.
///
/// # Shapes
/// - input: `Tensor<C, P>` (Keras `(*spatial, C)`, `P` positions); output: `Tensor<C, 1>`.
///
/// ```
/// use static_keras_runtime::{zeros, GlobalMaxPool, Layer, Tensor};
/// // Keras: GlobalMaxPooling2D() on a (2, 2, 1) input.
/// let mut x: Tensor<1, 4> = zeros();
/// x.as_mut_slice().copy_from_slice(&[-3.0, -1.0, -4.0, -2.0]);
/// assert_eq!(GlobalMaxPool.forward(&x).as_slice(), &[-1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GlobalMaxPool;

zeroable!([] GlobalMaxPool => GlobalMaxPool);

/// `y = Σ x[p]` over the positions `p` that `keep` selects, channel by channel; the number of
/// them.
#[inline(always)]
fn sum<const C: usize>(x: &[f32], y: &mut [f32; C], keep: impl Fn(usize) -> bool) -> usize {
    let (positions, _) = x.as_chunks::<C>();
    y.fill(0.0);
    let mut count = 0;
    for (p, column) in positions.iter().enumerate() {
        if keep(p) {
            for (o, &v) in y.iter_mut().zip(column) {
                *o += v;
            }
            count += 1;
        }
    }
    count
}

impl GlobalAvgPool {
    /// The mean over the steps whose mask is `true` (Keras's `GlobalAveragePooling1D` given a
    /// mask: `sum(where(mask, x, 0)) / sum(mask)`). A sequence with every step masked gives NaN,
    /// as in Keras (0 / 0).
    pub fn forward_masked<const C: usize, const P: usize>(
        &self,
        x: &Tensor<C, P>,
        mask: &[bool; P],
    ) -> Tensor<C, 1> {
        const {
            assert!(
                C > 0 && P > 0,
                "global pooling needs channels and positions"
            )
        };
        let mut y: Tensor<C, 1> = crate::zeros();
        let out: &mut [f32; C] = y.as_mut_slice().try_into().expect("C values");
        let count = sum::<C>(x.as_slice(), out, |p| mask[p]) as f32;
        out.iter_mut().for_each(|o| *o /= count);
        y
    }
}

/// Training under a mask (`GlobalAveragePooling1D` after a masking layer): the mean over the
/// kept steps; backwards each kept step receives `∂y / count`, masked steps nothing.
impl<const C: usize, const P: usize> crate::train::MaskedTrain<Tensor<C, P>> for GlobalAvgPool {
    type MaskedCache = ();

    fn forward_train_masked(
        &self,
        xs: &[Tensor<C, P>],
        masks: &[bool],
        ys: &mut [Tensor<C, 1>],
        _caches: &mut [()],
        _ctx: &mut crate::train::TrainCtx,
    ) {
        for ((x, y), mask) in xs.iter().zip(ys).zip(masks.chunks_exact(P)) {
            *y = self.forward_masked(x, mask.try_into().expect("P entries"));
        }
    }

    fn backward_masked(
        &self,
        _xs: &[Tensor<C, P>],
        masks: &[bool],
        _ys: &[Tensor<C, 1>],
        _caches: &mut [()],
        dys: &[Tensor<C, 1>],
        dxs: Option<&mut [Tensor<C, P>]>,
        _grads: Option<&mut Self>,
    ) {
        let Some(dxs) = dxs else { return };
        for ((dx, dy), mask) in dxs.iter_mut().zip(dys).zip(masks.chunks_exact(P)) {
            let count = mask.iter().filter(|&&m| m).count() as f32;
            for (d, &m) in dx.as_mut_slice().chunks_exact_mut(C).zip(mask) {
                if m {
                    for (d, g) in d.iter_mut().zip(dy.as_slice()) {
                        *d += g / count;
                    }
                }
            }
        }
    }
}

impl<const C: usize, const P: usize> Layer<Tensor<C, P>> for GlobalAvgPool {
    type Output = Tensor<C, 1>;
    fn forward(&self, x: &Tensor<C, P>) -> Tensor<C, 1> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, P>, y: &mut Tensor<C, 1>) {
        const {
            assert!(
                C > 0 && P > 0,
                "global pooling needs channels and positions"
            )
        };
        let out: &mut [f32; C] = y.as_mut_slice().try_into().expect("C values");
        // Keras's mean: the sum divided by the number of positions.
        let count = sum::<C>(x.as_slice(), out, |_| true) as f32;
        out.iter_mut().for_each(|o| *o /= count);
    }
}

impl<const C: usize, const P: usize> Layer<Tensor<C, P>> for GlobalMaxPool {
    type Output = Tensor<C, 1>;
    fn forward(&self, x: &Tensor<C, P>) -> Tensor<C, 1> {
        let mut y = crate::zeros();
        self.forward_into(x, &mut y);
        y
    }

    fn forward_into(&self, x: &Tensor<C, P>, y: &mut Tensor<C, 1>) {
        const {
            assert!(
                C > 0 && P > 0,
                "global pooling needs channels and positions"
            )
        };
        let (positions, _) = x.as_slice().as_chunks::<C>();
        let out = y.as_mut_slice();
        out.copy_from_slice(&positions[0]);
        for column in &positions[1..] {
            for (o, &v) in out.iter_mut().zip(column) {
                *o = if v > *o { v } else { *o };
            }
        }
    }
}

no_weights!(Weights for GlobalAvgPool);
no_weights!(Weights for GlobalMaxPool);

stateless_train! {
    /// `∂x[p] += ∂y / P` at every position (the unmasked mean; a masked one has no training path
    /// yet).
    impl[const C: usize, const P: usize] Train<Tensor<C, P>> for GlobalAvgPool;
    fn backward(&self, _x, _y, dy, dx) {
        let Some(dx) = dx else { return };
        let count = P as f32;
        for column in dx.as_mut_slice().chunks_exact_mut(C) {
            for (d, &g) in column.iter_mut().zip(dy.as_slice()) {
                *d += g / count;
            }
        }
    }
}

stateless_train! {
    /// `∂y` goes to the maximum of each channel; where several positions tie for it, it is split
    /// evenly among them, as JAX differentiates `max` (a reduction, unlike the windows of
    /// `MaxPooling`, which send it to the first).
    impl[const C: usize, const P: usize] Train<Tensor<C, P>> for GlobalMaxPool;
    fn backward(&self, x, y, dy, dx) {
        let Some(dx) = dx else { return };
        let (positions, _) = x.as_slice().as_chunks::<C>();
        let (max, dy) = (y.as_slice(), dy.as_slice());
        let mut ties = [0u32; C];
        for column in positions {
            for ((t, &v), &m) in ties.iter_mut().zip(column).zip(max) {
                *t += u32::from(v == m);
            }
        }
        let (grads, _) = dx.as_mut_slice().as_chunks_mut::<C>();
        for (column, grad) in positions.iter().zip(grads) {
            for c in 0..C {
                if column[c] == max[c] {
                    grad[c] += dy[c] / ties[c] as f32;
                }
            }
        }
    }
}

no_params!(Params for GlobalAvgPool);
no_params!(Params for GlobalMaxPool);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Train, TrainCtx};
    use crate::zeros;

    fn tensor<const C: usize, const P: usize>(values: &[f32]) -> Tensor<C, P> {
        let mut t: Tensor<C, P> = zeros();
        t.as_mut_slice().copy_from_slice(values);
        t
    }

    #[test]
    fn mean_and_max_per_channel() {
        // (2, 2, 3): channel c at position p is (p + 1) · (c + 1), channel 2 negated.
        #[rustfmt::skip]
        let x: Tensor<3, 4> = tensor(&[
            1.0, 2.0, -3.0,
            2.0, 4.0, -6.0,
            3.0, 6.0, -9.0,
            4.0, 8.0, -12.0,
        ]);
        assert_eq!(GlobalAvgPool.forward(&x).as_slice(), &[2.5, 5.0, -7.5]);
        assert_eq!(GlobalMaxPool.forward(&x).as_slice(), &[4.0, 8.0, -3.0]);
        // Stale output values do not leak in.
        let mut y: Tensor<3, 1> = tensor(&[9.0, 9.0, 9.0]);
        GlobalAvgPool.forward_into(&x, &mut y);
        assert_eq!(y.as_slice(), &[2.5, 5.0, -7.5]);
        let mut y: Tensor<3, 1> = tensor(&[99.0, 99.0, 99.0]);
        GlobalMaxPool.forward_into(&x, &mut y);
        assert_eq!(y.as_slice(), &[4.0, 8.0, -3.0]);
    }

    #[test]
    fn masked_mean_counts_the_unmasked_steps() {
        let x: Tensor<2, 4> = tensor(&[1.0, 10.0, 2.0, 20.0, 100.0, 100.0, 6.0, 60.0]);
        let y = GlobalAvgPool.forward_masked(&x, &[true, true, false, true]);
        assert_eq!(y.as_slice(), &[3.0, 30.0]);
        let y = GlobalAvgPool.forward_masked(&x, &[true; 4]);
        assert_eq!(y.as_slice(), GlobalAvgPool.forward(&x).as_slice());
        // Every step masked: 0 / 0, as Keras computes it.
        let y = GlobalAvgPool.forward_masked(&x, &[false; 4]);
        assert!(y.as_slice().iter().all(|v| v.is_nan()));
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        gradients::<_, Tensor<3, 7>>(&GlobalAvgPool, 1);
        gradients::<_, Tensor<3, 7>>(&GlobalMaxPool, 2);
    }

    /// What `jax.grad` gives through Keras's `GlobalMaxPooling2D` where five positions tie for
    /// the maximum: a fifth each.
    #[test]
    fn max_ties_share_the_gradient_as_in_jax() {
        let x: Tensor<1, 9> = tensor(&[1.0, 3.0, 3.0, 3.0, 2.0, 3.0, 0.0, 3.0, 1.0]);
        let mut y = zeros();
        GlobalMaxPool.forward_train(&x, &mut y, &mut (), &mut TrainCtx::new(0));
        let mut dx: Tensor<1, 9> = zeros();
        let dy: Tensor<1, 1> = tensor(&[1.0]);
        GlobalMaxPool.backward(&x, &y, &mut (), &dy, Some(&mut dx), None);
        assert_eq!(
            dx.as_slice(),
            &[0.0, 0.2, 0.2, 0.2, 0.0, 0.2, 0.0, 0.2, 0.0]
        );
    }
}
