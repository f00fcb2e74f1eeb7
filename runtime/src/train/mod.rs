//! Training: Keras's losses, metrics and optimizers, and the training path of every layer, step
//! for step equal to Keras. Everything here is `no_std` and allocation-free, so a
//! microcontroller can fine-tune a model (`Trainer::fit_in_place`); the `std` feature adds the
//! conveniences (an owned workspace, `fit` over shared slices with a history and a progress
//! line).
//!
//! How a step runs (`Trainer::train_on_batch`):
//! 1. the model's generated [`Trainable::train_batch`] runs every call of the graph over the batch
//!    in training mode ([`Train::forward_train_batch`]: Dropout drops, BatchNormalization uses the
//!    batch's statistics), keeping each activation and each layer's [`Train::Cache`] in a
//!    workspace carved into typed slices ([`carve`]);
//! 2. the loss gives `∂loss/∂output`, and the calls run backwards ([`Train::backward_batch`]),
//!    accumulating each trainable layer's gradients into a value of the layer's own type (so the
//!    gradient of a packed convolution kernel is packed the same way) and the input gradients
//!    only where an earlier trainable layer needs them;
//! 3. the optimizer updates every trainable variable from its gradient (element-wise rules, so
//!    the layers' internal layouts do not matter);
//! 4. layers with state updated by training (BatchNormalization's moving statistics) update it.

mod glu;
pub mod init;
pub mod par;
mod rng;
pub mod trainer;

mod batch;
pub mod callbacks;
mod fit;
mod history;
pub mod losses;
pub mod metrics;
pub mod optimizers;
pub(crate) mod products;
#[cfg(feature = "std")]
mod progress;

use core::mem::{align_of, size_of};

pub use batch::{Batch, BatchError};
pub use fit::{FitError, FitOptions, Phase};
pub use glu::{GluCache, ThenGlu};
#[cfg(feature = "std")]
pub use history::History;
pub use history::{Logs, LogsFull, MAX_LOGS};
pub use init::Init;
pub use rng::Rng;
pub use trainer::{apply_vars, Targets, Trainer, Workspace};

use crate::Layer;

/// What a training forward pass may draw on: the random numbers of Dropout and noise layers.
#[derive(Debug, Clone)]
pub struct TrainCtx {
    /// The generator every random layer draws from, in call order.
    pub rng: Rng,
}

impl TrainCtx {
    /// A context whose generator starts from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
        }
    }
}

/// A layer's training path: a forward pass that keeps what backward needs, and the backward pass.
///
/// The inference path ([`Layer::forward`]) is untouched by this: fused kernels there may throw
/// away what backward needs (a pre-activation, the gates of a recurrent step); here the layer
/// keeps it in its [`Train::Cache`], one per sample.
///
/// Gradients accumulate: `backward` **adds** into `dx` and into `grads` (the trainer zeroes them
/// once per step), so a tensor read by several calls, or a layer called several times, sums its
/// contributions as the chain rule wants.
pub trait Train<In>: Layer<In> + Sized {
    /// What the training forward pass keeps for backward, per sample (the layer's input and
    /// output are kept by the trainer and need not be in it).
    type Cache: Plain;

    /// Runs the layer in training mode (Keras `training=True`) on one sample.
    fn forward_train(
        &self,
        x: &In,
        y: &mut Self::Output,
        cache: &mut Self::Cache,
        ctx: &mut TrainCtx,
    );

    /// Given `dy = ∂loss/∂y` for one sample, adds `∂loss/∂x` into `dx` (when given: only when an
    /// earlier layer trains) and every parameter's gradient into `grads` (when given: only when
    /// this layer trains), in the layer's own layout. The cache is the layer's to reuse as
    /// scratch (nothing reads it after backward but [`Train::update_state`]).
    fn backward(
        &self,
        x: &In,
        y: &Self::Output,
        cache: &mut Self::Cache,
        dy: &Self::Output,
        dx: Option<&mut In>,
        grads: Option<&mut Self>,
    );

    /// [`Train::forward_train`] over a batch. Layers whose training statistics span the batch
    /// (BatchNormalization) or that batch better override it.
    fn forward_train_batch(
        &self,
        xs: &[In],
        ys: &mut [Self::Output],
        caches: &mut [Self::Cache],
        ctx: &mut TrainCtx,
    ) {
        for ((x, y), c) in xs.iter().zip(ys.iter_mut()).zip(caches.iter_mut()) {
            self.forward_train(x, y, c, ctx);
        }
    }

    /// [`Train::backward`] over a batch.
    fn backward_batch(
        &self,
        xs: &[In],
        ys: &[Self::Output],
        caches: &mut [Self::Cache],
        dys: &[Self::Output],
        mut dxs: Option<&mut [In]>,
        mut grads: Option<&mut Self>,
    ) {
        for (i, x) in xs.iter().enumerate() {
            self.backward(
                x,
                &ys[i],
                &mut caches[i],
                &dys[i],
                dxs.as_deref_mut().map(|d| &mut d[i]),
                grads.as_deref_mut(),
            );
        }
    }

    /// Updates state that training changes outside the gradient step (BatchNormalization's
    /// moving statistics), from the caches of the step's forward pass.
    fn update_state(&mut self, _caches: &[Self::Cache]) {}

    /// Whether the layer's training statistics span its batch (BatchNormalization). A
    /// `TimeDistributed` around such a layer runs it one step at a time, on that step's slice of
    /// every sample, as Keras does ([`Train::forward_train_strided`]).
    const BATCH_STATISTICS: bool = false;

    /// [`Train::forward_train_batch`] over the samples `start`, `start + stride`, … of `xs`
    /// only, as one batch (one step of a `TimeDistributed` batch, whose slices lie sample after
    /// sample); the others are left alone. By default sample by sample, which is right for every
    /// layer whose samples do not interact; [`Train::BATCH_STATISTICS`] layers override it.
    fn forward_train_strided(
        &self,
        xs: &[In],
        ys: &mut [Self::Output],
        caches: &mut [Self::Cache],
        (start, stride): (usize, usize),
        ctx: &mut TrainCtx,
    ) {
        for i in (start..xs.len()).step_by(stride) {
            self.forward_train(&xs[i], &mut ys[i], &mut caches[i], ctx);
        }
    }

    /// [`Train::backward_batch`] over the samples [`Train::forward_train_strided`] ran.
    #[allow(clippy::too_many_arguments)]
    fn backward_strided(
        &self,
        xs: &[In],
        ys: &[Self::Output],
        caches: &mut [Self::Cache],
        dys: &[Self::Output],
        mut dxs: Option<&mut [In]>,
        mut grads: Option<&mut Self>,
        (start, stride): (usize, usize),
    ) {
        for i in (start..xs.len()).step_by(stride) {
            self.backward(
                &xs[i],
                &ys[i],
                &mut caches[i],
                &dys[i],
                dxs.as_deref_mut().map(|d| &mut d[i]),
                grads.as_deref_mut(),
            );
        }
    }
}

/// A type the training step views a layer's field as (a fused `glu` trains as
/// [`ThenGlu`]): it has the layout of [`View::Of`], the field's type, so the field and its
/// gradients are viewed as one in place. A wrapper around a view is a view of the wrapper
/// (`TimeDistributed<ThenGlu<Dense>>` of `TimeDistributed<Dense>`).
///
/// # Safety
/// `Self` must have the size, alignment and layout of `Self::Of`, and every value of
/// `Self::Of` must be a valid `Self` (a `#[repr(transparent)]` wrapper, or such a wrapper's
/// `#[repr(transparent)]` container).
pub unsafe trait View {
    /// The type viewed.
    type Of;
}

/// The training path of a layer that reads its input's Keras mask (recurrent layers skip masked
/// steps; `GlobalAveragePooling1D` averages the unmasked ones). The generated training step calls
/// it in place of [`Train`] for a call whose input carries a mask; other layers ignore masks in
/// training as they do at inference.
///
/// `masks` holds the batch's masks one sample after another, one entry per position of the
/// input (`P` positions: `T` steps of a sequence), `true` where the position is kept. The
/// trainer keeps them in its workspace ([`carve_masks`]).
pub trait MaskedTrain<In>: Layer<In> + Sized {
    /// What the masked training forward pass keeps for backward, per sample.
    type MaskedCache: Plain;

    /// [`Train::forward_train_batch`] under the input's mask.
    fn forward_train_masked(
        &self,
        xs: &[In],
        masks: &[bool],
        ys: &mut [Self::Output],
        caches: &mut [Self::MaskedCache],
        ctx: &mut TrainCtx,
    );

    /// [`Train::backward_batch`] under the mask the forward pass had.
    #[allow(clippy::too_many_arguments)]
    fn backward_masked(
        &self,
        xs: &[In],
        masks: &[bool],
        ys: &[Self::Output],
        caches: &mut [Self::MaskedCache],
        dys: &[Self::Output],
        dxs: Option<&mut [In]>,
        grads: Option<&mut Self>,
    );
}

/// A layer returning its final states as extra outputs (Keras `return_state = True`): the
/// training forward pass leaves them in the cache, and the gradients of those outputs go back
/// into the cache before backward.
pub trait TrainStates<In>: Train<In> {
    /// The `i`-th final state (`h`, then `c` for LSTM) the forward pass left in `cache`.
    fn state(cache: &Self::Cache, i: usize) -> &[f32];

    /// Where `∂loss/∂(state i)` goes before backward (zeroed by the forward pass; callers add).
    fn state_grad(cache: &mut Self::Cache, i: usize) -> &mut [f32];
}

/// A layer's trainable variables (Keras's `trainable_variables`), as mutable slices in the
/// layer's internal layout. Non-trainable variables (moving statistics) are left out.
pub trait Params {
    /// How many trainable variables the layer has.
    fn trainable_count(&self) -> usize;

    /// Calls `f` on each trainable variable in Keras's order.
    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32]));

    /// Called after the optimizer changed the trainable variables, for layers that keep values
    /// derived from them (BatchNormalization's fused inference factors).
    fn after_update(&mut self) {}
}

/// Implements [`Params`] for a layer without trainable variables.
macro_rules! no_params {
    ($($ty:tt)*) => {
        impl $($ty)* {
            fn trainable_count(&self) -> usize {
                0
            }
            fn trainable_mut<'a>(&'a mut self, _f: &mut dyn FnMut(&'a mut [f32])) {}
        }
    };
}
pub(crate) use no_params;

/// Implements [`Train`] for a layer without variables whose training forward pass is its
/// inference pass and keeps nothing: `Cache = ()`, `forward_train` is [`Layer::forward_into`];
/// only `backward` is written, given the names of the input, the output, the output's gradient
/// and the `Option<&mut In>` the input's gradient is added into.
///
/// ```ignore
/// stateless_train! {
///     /// Doc of the impl.
///     impl[const F: usize, const P: usize] Train<Tensor<F, P>> for Identity;
///     fn backward(&self, _x, _y, dy, dx) {
///         if let Some(dx) = dx {
///             add_into(dx.as_mut_slice(), dy.as_slice());
///         }
///     }
/// }
/// ```
macro_rules! stateless_train {
    (
        $(#[$attr:meta])*
        impl[$($g:tt)*] Train<$in:ty> for $ty:ty;
        $(#[$battr:meta])*
        fn backward(&$s:ident, $x:pat_param, $y:pat_param, $dy:pat_param, $dx:ident) $body:block
    ) => {
        $(#[$attr])*
        impl<$($g)*> $crate::train::Train<$in> for $ty {
            type Cache = ();

            fn forward_train(
                &self,
                x: &$in,
                y: &mut <Self as $crate::Layer<$in>>::Output,
                _: &mut (),
                _: &mut $crate::train::TrainCtx,
            ) {
                $crate::Layer::forward_into(self, x, y);
            }

            $(#[$battr])*
            fn backward(
                &$s,
                $x: &$in,
                $y: &<Self as $crate::Layer<$in>>::Output,
                _: &mut (),
                $dy: &<Self as $crate::Layer<$in>>::Output,
                $dx: ::core::option::Option<&mut $in>,
                _: ::core::option::Option<&mut Self>,
            ) $body
        }
    };
}
pub(crate) use stateless_train;

/// Adds `src` into `dst`, element by element (gradients that pass through unchanged).
pub fn add_into(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// Types made only of `f32`-sized plain values (any bit pattern valid, no padding, alignment at
/// most 4), which a workspace of `f32` can hold: tensors, arrays of them, the layers' caches.
///
/// # Safety
/// Implementors must be `Copy`, have an alignment of at most 4, and be valid for every bit
/// pattern (no `bool`, no enum, no reference, no padding bytes).
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: f32, u32 and i32 are valid for every bit pattern and 4-aligned.
unsafe impl Plain for f32 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for i32 {}
// SAFETY: a zero-sized type has no bytes to be invalid.
unsafe impl Plain for () {}
// SAFETY: an array of plain values is plain (same alignment, no padding between elements).
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}
// SAFETY: `Tensor<F, P>` is `F·P` f32 values with the alignment of f32 (see `Tensor`).
unsafe impl<const F: usize, const P: usize> Plain for crate::Tensor<F, P> {}

/// How many `f32` words a slice of `n` values of `T` takes in a workspace.
pub const fn words<T: Plain>(n: usize) -> usize {
    (size_of::<T>() * n).div_ceil(4)
}

/// Splits the first [`words::<T>(n)`](words) words of `workspace` off as `n` values of `T`.
///
/// The values hold whatever the workspace held (every bit pattern is a valid `T`); callers
/// write before they read, or zero them.
///
/// # Panics
/// When the workspace is too short (the trainer sizes it from the model's own formula).
pub fn carve<T: Plain>(workspace: &mut [f32], n: usize) -> (&mut [T], &mut [f32]) {
    const { assert!(align_of::<T>() <= align_of::<f32>()) };
    let (head, rest) = workspace.split_at_mut(words::<T>(n));
    // SAFETY: `head` is `words::<T>(n)` f32 words, at least `size_of::<T>() * n` bytes, aligned
    // to 4 ≥ `align_of::<T>()` (checked above); every bit pattern is a valid `T` (`Plain`); the
    // new slice borrows `head` mutably for its lifetime, so nothing else aliases it.
    let values = unsafe { core::slice::from_raw_parts_mut(head.as_mut_ptr().cast::<T>(), n) };
    (values, rest)
}

/// Splits off `n` masks of `P` positions each (Keras masks, `true` = kept) from the workspace,
/// all `false`. (`bool` is not [`Plain`]: not every byte is a valid `bool`, so the bytes are
/// zeroed, which is `false`, before they are seen as `bool`s.)
///
/// # Panics
/// When the workspace is too short (see [`mask_words`]).
pub fn carve_masks<const P: usize>(
    workspace: &mut [f32],
    n: usize,
) -> (&mut [[bool; P]], &mut [f32]) {
    let (head, rest) = workspace.split_at_mut(mask_words::<P>(n));
    zero(head);
    // SAFETY: `head` holds at least `P·n` bytes, all zero (a valid `false`); `bool` has
    // alignment 1 and no padding in arrays; the new slice borrows `head` mutably for its lifetime.
    let masks =
        unsafe { core::slice::from_raw_parts_mut(head.as_mut_ptr().cast::<[bool; P]>(), n) };
    (masks, rest)
}

/// How many `f32` words [`carve_masks`] takes for `n` masks of `P` positions.
pub const fn mask_words<const P: usize>(n: usize) -> usize {
    (P * n).div_ceil(4)
}

/// Plain values as the `f32` words they are made of (the layers' caches are arrays of
/// `f32`-sized values; views of them feed the matrix products).
pub fn floats<T: Plain>(values: &[T]) -> &[f32] {
    const { assert!(size_of::<T>().is_multiple_of(4) && align_of::<T>() <= 4) };
    let len = core::mem::size_of_val(values) / 4;
    if len == 0 {
        return &[];
    }
    // SAFETY: `T` is made of 4-byte plain values without padding (`Plain`, size a multiple of
    // 4), so its bytes are `len` words, each a valid `f32` (every bit pattern is), and a
    // non-zero-sized `T` made of them is 4-aligned.
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast::<f32>(), len) }
}

/// [`floats`], mutably: writing any `f32` bits leaves a valid `T` (`Plain`).
pub fn floats_mut<T: Plain>(values: &mut [T]) -> &mut [f32] {
    const { assert!(size_of::<T>().is_multiple_of(4) && align_of::<T>() <= 4) };
    let len = core::mem::size_of_val(values) / 4;
    if len == 0 {
        return &mut [];
    }
    // SAFETY: as in `floats`; every bit pattern is a valid `T`, so any write keeps it valid.
    unsafe { core::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<f32>(), len) }
}

/// Zeroes a slice of plain values (gradient accumulators).
pub fn zero<T: Plain>(values: &mut [T]) {
    // SAFETY: all-zero bytes are a valid `T` (`Plain`: every bit pattern is), and the slice is
    // borrowed mutably.
    unsafe { core::ptr::write_bytes(values.as_mut_ptr(), 0, values.len()) }
}

/// A model the macro made trainable: its training step over a batch, its gradients, and how its
/// trainable variables are visited. Generated by `keras_model!`; users call it through
/// [`Trainer`].
pub trait Trainable: crate::Model + Sized {
    /// The gradients: one value of each trainable layer's own type, holding its gradients.
    type Grads;

    /// Number of trainable parameters (Keras's `trainable_weights`).
    const TRAINABLE_PARAMS: usize;

    /// Zeroed gradients.
    fn zero_grads() -> Self::Grads;

    /// Zeroes `grads` in place.
    fn clear_grads(grads: &mut Self::Grads);

    /// Workspace words one training step over `n` samples needs.
    fn workspace_words(n: usize) -> usize;

    /// The step's forward pass in training mode, the loss, and the backward pass: returns the
    /// loss (Keras's, before the update) and leaves `∂loss/∂w` of every trainable variable in
    /// `grads` (which it first zeroes). `targets` holds the batch's targets one sample after
    /// another (`L::Target` values, the output's layout); `workspace` has at least
    /// [`Trainable::workspace_words`] words. Updates BatchNormalization's moving statistics.
    ///
    /// # Errors
    /// The loss's [`BatchError`] when the targets do not fit (a class id out of range, a wrong
    /// length); nothing is updated then.
    fn train_batch<L: losses::Loss>(
        &mut self,
        inputs: &[Self::Input],
        targets: &[L::Target],
        loss: &L,
        grads: &mut Self::Grads,
        workspace: &mut [f32],
        ctx: &mut TrainCtx,
    ) -> Result<f32, BatchError> {
        self.train_batch_parts(inputs, targets, loss, grads, &mut [], workspace, ctx)
    }

    /// [`Trainable::train_batch`], the batch cut into `parts.len()` chunks whose calls run on
    /// rayon's pool with the `parallel` feature ([`par`]): each chunk adds its parameter
    /// gradients into its own `parts[i]` (zeroed first), and the parts are added into `grads`
    /// in chunk order at the end, so the result depends on `parts.len()` but not on the number
    /// of threads. Calls whose samples interact (batch statistics, random draws) run over the
    /// whole batch on this thread. Without `parallel`, or with fewer than two parts, this is
    /// [`Trainable::train_batch`].
    #[allow(clippy::too_many_arguments)]
    fn train_batch_parts<L: losses::Loss>(
        &mut self,
        inputs: &[Self::Input],
        targets: &[L::Target],
        loss: &L,
        grads: &mut Self::Grads,
        parts: &mut [Self::Grads],
        workspace: &mut [f32],
        ctx: &mut TrainCtx,
    ) -> Result<f32, BatchError>;

    /// Adds every trainable variable's gradient in `part` into `grads` (the chunks of
    /// [`Trainable::train_batch_parts`]).
    fn add_grads(grads: &mut Self::Grads, part: &mut Self::Grads);

    /// One optimizer step: calls [`trainer::apply_vars`] with the model's number of trainable
    /// variables.
    fn apply_optimizer<O: optimizers::Optimizer>(
        &mut self,
        grads: &mut Self::Grads,
        slots: &mut [f32],
        optimizer: &O,
        state: &mut optimizers::OptimizerState,
    );

    /// Writes the gradient of every trainable variable in Keras's `trainable_variables` order
    /// and each variable's Keras layout (what `jax.grad` over the model's trainable variables
    /// gives), one value after another.
    fn grads_in_keras_order(grads: &Self::Grads, out: &mut dyn FnMut(f32));

    /// Calls `f` with each trainable variable of the model and its gradient, in Keras's
    /// `trainable_variables` order.
    fn trainable_vars<'a>(
        &'a mut self,
        grads: &'a mut Self::Grads,
        f: &mut dyn FnMut(&'a mut [f32], &'a mut [f32]),
    );
}

/// Finite-difference checks of a layer's backward pass, for the layers' unit tests (the parity
/// suite checks the same gradients against Keras's `jax.grad`).
#[cfg(test)]
pub(crate) mod check {
    use super::{Plain, Train, TrainCtx};
    use crate::{Tensor, Weights};

    /// Sets every variable of `layer` to seeded values in [-0.5, 0.5).
    pub fn fill<W: Weights>(layer: &mut W, seed: u64) {
        let mut rng = super::Rng::new(seed);
        for (i, var) in layer.variables().iter().enumerate() {
            let mut values = (0..var.len()).map(|_| rng.uniform() - 0.5);
            layer.load_variable(i, &mut values);
        }
    }

    /// The loss `Σ w·y` with fixed weights `w`, so `∂loss/∂y = w`.
    fn loss<L: Train<In>, In>(layer: &L, x: &In, w: &[f32]) -> f32
    where
        L::Output: Plain + AsValues,
    {
        let mut y: L::Output = zeroed();
        let mut cache: L::Cache = zeroed();
        layer.forward_train(x, &mut y, &mut cache, &mut TrainCtx::new(0));
        y.values().iter().zip(w).map(|(a, b)| a * b).sum()
    }

    fn zeroed<T: Plain>() -> T {
        // SAFETY: every bit pattern of a `Plain` type is valid, all-zero included.
        unsafe { core::mem::zeroed() }
    }

    /// Values of a tensor, for the checks.
    pub trait AsValues {
        fn values(&self) -> &[f32];
        fn values_mut(&mut self) -> &mut [f32];
    }

    impl<const F: usize, const P: usize> AsValues for Tensor<F, P> {
        fn values(&self) -> &[f32] {
            self.as_slice()
        }
        fn values_mut(&mut self) -> &mut [f32] {
            self.as_mut_slice()
        }
    }

    /// Checks `backward` against central differences of `Σ w·y` for the input and every
    /// variable (f32 with a step of 1e-2: agreement to about 1e-3 is what smooth functions
    /// give; the bound is 2e-2 relative).
    pub fn gradients<L, In>(layer: &L, seed: u64)
    where
        L: Train<In> + Weights + Clone,
        In: Plain + AsValues,
        L::Output: Plain + AsValues,
    {
        let mut rng = super::Rng::new(seed);
        let mut x: In = zeroed();
        x.values_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform() * 2.0 - 1.0);
        let mut y: L::Output = zeroed();
        let mut cache: L::Cache = zeroed();
        layer.forward_train(&x, &mut y, &mut cache, &mut TrainCtx::new(0));
        let w: [f32; 4096] = core::array::from_fn(|_| rng.uniform() - 0.5);
        let w = &w[..y.values().len()];
        let mut dy: L::Output = zeroed();
        dy.values_mut().copy_from_slice(w);
        let mut dx: In = zeroed();
        let mut grads = layer.clone();
        for i in 0..grads.variables().len() {
            let n = grads.variables()[i].len();
            grads.load_variable(i, &mut core::iter::repeat_n(0.0, n));
        }
        layer.backward(&x, &y, &mut cache, &dy, Some(&mut dx), Some(&mut grads));
        let close = |analytic: f32, numeric: f32, what: &str| {
            let err = (analytic - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 2e-2,
                "{what}: backward {analytic}, finite differences {numeric}"
            );
        };
        let h = 1e-2f32;
        for i in 0..x.values().len() {
            let (mut plus, mut minus) = (x, x);
            plus.values_mut()[i] += h;
            minus.values_mut()[i] -= h;
            let numeric = (loss(layer, &plus, w) - loss(layer, &minus, w)) / (2.0 * h);
            close(dx.values()[i], numeric, "input");
        }
        for v in 0..layer.variables().len() {
            let len = layer.variables()[v].len();
            let mut analytic = [0.0f32; 4096];
            let mut k = 0;
            grads.store_variable(v, &mut |g| {
                analytic[k] = g;
                k += 1;
            });
            for i in 0..len {
                let mut values = [0.0f32; 4096];
                let mut k = 0;
                layer.store_variable(v, &mut |g| {
                    values[k] = g;
                    k += 1;
                });
                let at = |delta: f32| {
                    let mut l = layer.clone();
                    let mut vals = values;
                    vals[i] += delta;
                    l.load_variable(v, &mut vals[..len].iter().copied());
                    loss(&l, &x, w)
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                close(analytic[i], numeric, layer.variables()[v].name);
            }
        }
    }
}
