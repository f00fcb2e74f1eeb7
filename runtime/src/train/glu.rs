//! The training path of a layer whose Keras activation is `glu` (`Dense(8, activation="glu")`):
//! the layer runs linear (its field is the plain layer, as at inference), then [`Glu`] halves its
//! last axis.

use core::mem::size_of;

use super::{Plain, Train, TrainCtx, View};
use crate::{Glu, Layer, Tensor};

/// A layer `L` (run with a linear activation) followed by `glu`, seen as one layer for training:
/// `y = a·σ(b)` where `a` and `b` are the two halves of the last axis of `L`'s output `z`.
///
/// `#[repr(transparent)]` over `L`, so the training step views the model's field (an `L`) as
/// one ([`ThenGlu::from_ref`]) and its gradients (an `L` too) the same way: the layer's weights
/// and gradients keep `L`'s own layout.
#[repr(transparent)]
#[derive(Debug)]
pub struct ThenGlu<L, const IN: usize, const OUT: usize>(pub L);

impl<L, const IN: usize, const OUT: usize> ThenGlu<L, IN, OUT> {
    /// Views a layer as itself followed by `glu`.
    pub fn from_ref(layer: &L) -> &Self {
        // SAFETY: `ThenGlu` is `#[repr(transparent)]` over `L`: same layout, and the reference
        // keeps `layer`'s lifetime.
        unsafe { &*(layer as *const L).cast::<Self>() }
    }

    /// [`ThenGlu::from_ref`], mutably (the gradients of the layer).
    pub fn from_mut(layer: &mut L) -> &mut Self {
        // SAFETY: as in `from_ref`; the borrow is exclusive for the new reference's lifetime.
        unsafe { &mut *(layer as *mut L).cast::<Self>() }
    }
}

impl<L, In, const IN: usize, const OUT: usize, const P: usize> Layer<In> for ThenGlu<L, IN, OUT>
where
    L: Layer<In, Output = Tensor<IN, P>>,
{
    type Output = Tensor<OUT, P>;

    fn forward(&self, x: &In) -> Tensor<OUT, P> {
        Glu::<IN, OUT>.forward(&self.0.forward(x))
    }
}

// SAFETY: `#[repr(transparent)]` over `L`.
unsafe impl<L, const IN: usize, const OUT: usize> View for ThenGlu<L, IN, OUT> {
    type Of = L;
}

/// What [`ThenGlu`] keeps per sample: the layer's output before glu, room for its gradient, and
/// the layer's own cache.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct GluCache<const IN: usize, const P: usize, C> {
    /// The layer's (linear) output, glu's input.
    pub z: Tensor<IN, P>,
    /// `∂loss/∂z`, written by backward.
    pub dz: Tensor<IN, P>,
    /// The layer's own cache.
    pub inner: C,
}

// SAFETY: `repr(C)` over two tensors (f32 words) and a plain `C`; `C`'s alignment is at most 4
// and divides the tensors' sizes (multiples of 4 bytes), so there is no padding before `inner`;
// `C`'s size is a multiple of 4 (checked where the cache is used, `GluCache::CHECK`), so none
// after it either. Every field is valid for every bit pattern.
unsafe impl<const IN: usize, const P: usize, C: Plain> Plain for GluCache<IN, P, C> {}

impl<const IN: usize, const P: usize, C> GluCache<IN, P, C> {
    const CHECK: () = assert!(
        size_of::<C>().is_multiple_of(4),
        "a cache is made of f32-sized values"
    );
}

/// Forward: the layer's training forward into the cache's `z`, then `y = a·σ(b)`. Backward:
/// `∂a = ∂y·σ(b)`, `∂b = ∂y·a·σ(b)·(1 − σ(b))` into the cache's `dz`, then the layer's backward
/// from it. Sample by sample (the pre-activations of a batch are not contiguous in the caches).
impl<L, In, const IN: usize, const OUT: usize, const P: usize> Train<In> for ThenGlu<L, IN, OUT>
where
    L: Train<In, Output = Tensor<IN, P>>,
{
    type Cache = GluCache<IN, P, L::Cache>;

    fn forward_train(
        &self,
        x: &In,
        y: &mut Tensor<OUT, P>,
        cache: &mut Self::Cache,
        ctx: &mut TrainCtx,
    ) {
        let () = GluCache::<IN, P, L::Cache>::CHECK;
        self.0.forward_train(x, &mut cache.z, &mut cache.inner, ctx);
        Glu::<IN, OUT>.forward_into(&cache.z, y);
    }

    fn backward(
        &self,
        x: &In,
        y: &Tensor<OUT, P>,
        cache: &mut Self::Cache,
        dy: &Tensor<OUT, P>,
        dx: Option<&mut In>,
        grads: Option<&mut Self>,
    ) {
        cache.dz = Tensor::zeros();
        Glu::<IN, OUT>.backward(&cache.z, y, &mut (), dy, Some(&mut cache.dz), None);
        self.0.backward(
            x,
            &cache.z,
            &mut cache.inner,
            &cache.dz,
            dx,
            grads.map(|g| &mut g.0),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::check;
    use crate::{Activation, Dense, Weights};

    impl<L: Weights, const IN: usize, const OUT: usize> Weights for ThenGlu<L, IN, OUT> {
        fn variables(&self) -> &'static [crate::Variable] {
            self.0.variables()
        }
        fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
            self.0.load_variable(index, values);
        }
        fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
            self.0.store_variable(index, out);
        }
    }

    impl<L: Clone, const IN: usize, const OUT: usize> Clone for ThenGlu<L, IN, OUT> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut layer = ThenGlu::<Dense<3, 6>, 6, 3>(Dense::new(Activation::Linear));
        check::fill(&mut layer.0, 7);
        check::gradients::<_, Tensor<3, 2>>(&layer, 11);
    }

    #[test]
    fn forward_is_the_layer_then_glu() {
        let mut dense: Dense<3, 4> = Dense::new(Activation::Linear);
        check::fill(&mut dense, 3);
        let x = Tensor::<3, 2>::from_slice(&[0.5, -1.0, 2.0, 0.1, 0.2, -0.3]);
        let want = Glu::<4, 2>.forward(&dense.forward(&x));
        let mut y = Tensor::<2, 2>::zeros();
        let mut cache: GluCache<4, 2, <Dense<3, 4> as Train<Tensor<3, 2>>>::Cache> = GluCache {
            z: Tensor::zeros(),
            dz: Tensor::zeros(),
            inner: Tensor::zeros(),
        };
        ThenGlu::<_, 4, 2>::from_ref(&dense).forward_train(
            &x,
            &mut y,
            &mut cache,
            &mut TrainCtx::new(0),
        );
        assert_eq!(y, want);
        assert_eq!(ThenGlu::<_, 4, 2>::from_ref(&dense).forward(&x), want);
    }
}
