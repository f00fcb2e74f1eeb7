//! The trainer: a model with an optimizer and a loss (`net.compile(optimizer, loss)`), its
//! gradients, optimizer slots and workspace.

use super::losses::Loss;
use super::optimizers::{Optimizer, OptimizerState, Var};
use super::{carve, Batch, BatchError, Plain, TrainCtx, Trainable};

/// Storage the trainer either owns (on a host) or borrows (on a microcontroller, from `static`
/// buffers).
pub enum Workspace<'m, T: ?Sized + 'm> {
    /// Buffers the caller provides.
    Borrowed(&'m mut T),
    /// Buffers the trainer allocated.
    #[cfg(feature = "std")]
    Owned(std::boxed::Box<T>),
}

impl<T: ?Sized> core::ops::Deref for Workspace<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Workspace::Borrowed(t) => t,
            #[cfg(feature = "std")]
            Workspace::Owned(t) => t,
        }
    }
}

impl<T: ?Sized> core::ops::DerefMut for Workspace<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self {
            Workspace::Borrowed(t) => t,
            #[cfg(feature = "std")]
            Workspace::Owned(t) => t,
        }
    }
}

/// Targets a loss reads, laid out flat: a model's output tensors for the dense losses, class
/// ids (`u32`, or `[u32; N]` for sequence outputs) for the sparse ones.
pub trait Targets<T> {
    /// The targets of a batch, one sample after another.
    fn flat(items: &[Self]) -> &[T]
    where
        Self: Sized;
}

impl<const F: usize, const P: usize> Targets<f32> for crate::Tensor<F, P> {
    fn flat(items: &[Self]) -> &[f32] {
        crate::flat(items)
    }
}

impl Targets<u32> for u32 {
    fn flat(items: &[Self]) -> &[u32] {
        items
    }
}

impl<const N: usize> Targets<u32> for [u32; N] {
    fn flat(items: &[Self]) -> &[u32] {
        items.as_flattened()
    }
}

/// A model compiled with an optimizer and a loss, as Keras's `model.compile(optimizer, loss)`.
///
/// Owns (on a host) or borrows (anywhere, [`Trainer::with_buffers`]) everything a step needs —
/// gradients, optimizer slots, the workspace of activations and caches — so
/// [`Trainer::train_on_batch`] never allocates.
pub struct Trainer<'m, M: Trainable, O: Optimizer, L: Loss> {
    model: &'m mut M,
    optimizer: O,
    loss: L,
    state: OptimizerState,
    grads: Workspace<'m, M::Grads>,
    slots: Workspace<'m, [f32]>,
    workspace: Workspace<'m, [f32]>,
    ctx: TrainCtx,
}

/// The batch size a host trainer's workspace is first sized for (it grows to the largest batch
/// seen, before the step that needs it).
#[cfg(feature = "std")]
pub const DEFAULT_BATCH: usize = 32;

impl<'m, M: Trainable, O: Optimizer, L: Loss> Trainer<'m, M, O, L> {
    /// A trainer owning its buffers, sized for batches of up to [`DEFAULT_BATCH`] samples (a
    /// larger batch grows the workspace once).
    ///
    /// # Panics
    /// When the optimizer's arguments are invalid (Keras's constructor raises then: two clip
    /// options, AdamW without weight decay, …), with Keras's reason.
    #[cfg(feature = "std")]
    pub fn new(model: &'m mut M, optimizer: O, loss: L) -> Self {
        if let Err(e) = optimizer.validate() {
            panic!("invalid optimizer: {e}");
        }
        let slots = Self::initial_slots(&optimizer);
        Self::assemble(
            model,
            optimizer,
            loss,
            Workspace::Owned(std::boxed::Box::new(M::zero_grads())),
            Workspace::Owned(slots),
            Workspace::Owned(std::vec![0.0; M::workspace_words(DEFAULT_BATCH)].into_boxed_slice()),
        )
    }

    #[cfg(feature = "std")]
    fn initial_slots(optimizer: &O) -> std::boxed::Box<[f32]> {
        let k = optimizer.slots_per_param();
        let mut slots = std::vec![0.0; k * M::TRAINABLE_PARAMS].into_boxed_slice();
        Self::fill_slots(optimizer, &mut slots);
        slots
    }

    /// Every slot starts at the optimizer's initial value. Keras's optimizers start all their
    /// slots of one optimizer at one value (0, or Adagrad's accumulator, its only slot), which
    /// is checked here, so the variables' lengths are not needed.
    fn fill_slots(optimizer: &O, slots: &mut [f32]) {
        let init = optimizer.slot_initial(0);
        debug_assert!((0..optimizer.slots_per_param()).all(|k| optimizer.slot_initial(k) == init));
        slots.iter_mut().for_each(|s| *s = init);
    }

    /// A trainer over buffers the caller provides (for `no_std`): `grads` (zeroed, e.g.
    /// `M::zero_grads()` in a `static`), `slots` of `slots_per_param() × TRAINABLE_PARAMS`
    /// values, and a `workspace` of at least `M::workspace_words(batch)` words for the largest
    /// batch it will see.
    ///
    /// # Panics
    /// When `slots` has the wrong length, or the optimizer's arguments are invalid.
    pub fn with_buffers(
        model: &'m mut M,
        optimizer: O,
        loss: L,
        grads: &'m mut M::Grads,
        slots: &'m mut [f32],
        workspace: &'m mut [f32],
    ) -> Self {
        assert_eq!(
            slots.len(),
            optimizer.slots_per_param() * M::TRAINABLE_PARAMS,
            "slots must hold slots_per_param() × TRAINABLE_PARAMS values"
        );
        if let Err(e) = optimizer.validate() {
            panic!("invalid optimizer: {e}");
        }
        Self::fill_slots(&optimizer, slots);
        Self::assemble(
            model,
            optimizer,
            loss,
            Workspace::Borrowed(grads),
            Workspace::Borrowed(slots),
            Workspace::Borrowed(workspace),
        )
    }

    fn assemble(
        model: &'m mut M,
        optimizer: O,
        loss: L,
        grads: Workspace<'m, M::Grads>,
        slots: Workspace<'m, [f32]>,
        workspace: Workspace<'m, [f32]>,
    ) -> Self {
        let state = optimizer.new_state();
        Self {
            model,
            optimizer,
            loss,
            state,
            grads,
            slots,
            workspace,
            ctx: TrainCtx::new(0),
        }
    }

    /// Seeds the generator of Dropout masks and noise (Keras draws from its global seed; its
    /// bits cannot be reproduced, only the distribution).
    pub fn seed(&mut self, seed: u64) {
        self.ctx = TrainCtx::new(seed);
    }

    /// The model being trained.
    pub fn model(&mut self) -> &mut M {
        self.model
    }

    /// The optimizer's step counter (Keras `optimizer.iterations`).
    pub fn iterations(&self) -> u64 {
        self.state.iterations
    }

    /// The gradients of the last step, in each layer's layout (for inspection and tests).
    pub fn grads(&self) -> &M::Grads {
        &self.grads
    }

    /// Grows an owned workspace to fit a batch of `n`; a borrowed one must already fit.
    fn reserve(&mut self, n: usize) {
        let need = M::workspace_words(n);
        if self.workspace.len() >= need {
            return;
        }
        match &mut self.workspace {
            #[cfg(feature = "std")]
            Workspace::Owned(w) => *w = std::vec![0.0; need].into_boxed_slice(),
            Workspace::Borrowed(w) => panic!(
                "the trainer's workspace has {} words but a batch of {n} needs {need} (M::workspace_words({n}))",
                w.len()
            ),
        }
    }

    /// The loss of the batch (before the update) and the gradients, without updating anything
    /// but BatchNormalization's moving statistics (as Keras's forward pass does).
    ///
    /// # Errors
    /// When the targets do not fit the loss (a class id out of range); nothing changes then.
    ///
    /// # Panics
    /// When `inputs` and `targets` differ in length, or a borrowed workspace is too small.
    pub fn compute_gradients<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError> {
        assert_eq!(
            inputs.len(),
            targets.len(),
            "train_on_batch: as many targets as inputs"
        );
        self.reserve(inputs.len());
        self.model.train_batch(
            inputs,
            Y::flat(targets),
            &self.loss,
            &mut self.grads,
            &mut self.workspace,
            &mut self.ctx,
        )
    }

    /// One training step on a batch, as Keras's `train_on_batch`: the loss before the update
    /// (Keras returns that one), then one optimizer step. Never allocates once the workspace
    /// fits the batch (a host trainer grows it the first time a larger batch comes).
    ///
    /// # Panics
    /// When the targets do not fit the loss (see [`Trainer::try_train_on_batch`], which
    /// returns the error instead), when `inputs` and `targets` differ in length, or a borrowed
    /// workspace is too small.
    pub fn train_on_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> f32 {
        match self.try_train_on_batch(inputs, targets) {
            Ok(loss) => loss,
            Err(e) => panic!("train_on_batch: {e}"),
        }
    }

    /// [`Trainer::train_on_batch`], returning the loss's error (a class id out of range, …)
    /// instead of panicking; the model is unchanged then.
    pub fn try_train_on_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError> {
        let loss = self.compute_gradients(inputs, targets)?;
        self.apply_gradients();
        Ok(loss)
    }

    /// One optimizer step with the gradients of [`Trainer::compute_gradients`].
    pub fn apply_gradients(&mut self) {
        self.model.apply_optimizer(
            &mut self.grads,
            &mut self.slots,
            &self.optimizer,
            &mut self.state,
        );
    }

    /// The loss of a batch in inference mode (Keras `test_on_batch`), without changing
    /// anything.
    ///
    /// # Errors
    /// When the targets do not fit the loss.
    pub fn test_on_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError>
    where
        M::Output: Plain,
    {
        assert_eq!(inputs.len(), targets.len(), "as many targets as inputs");
        let n = inputs.len();
        let need = super::words::<M::Output>(n);
        if self.workspace.len() < need {
            self.reserve(n);
        }
        let (outputs, _) = carve::<M::Output>(&mut self.workspace, n);
        self.model.predict_batch(inputs, outputs);
        let flat = flat_outputs::<M>(outputs);
        let last = M::OUTPUT_SHAPE.last().copied().unwrap_or(1);
        self.loss
            .compute(&Batch::new(Y::flat(targets), flat, last), None)
    }
}

/// The values of a batch of outputs, one sample after another.
fn flat_outputs<M: Trainable>(outputs: &[M::Output]) -> &[f32]
where
    M::Output: Plain,
{
    let words = super::words::<M::Output>(outputs.len());
    // SAFETY: `M::Output` is `Plain` (f32-sized plain values with no padding), so a slice of
    // them is `words` consecutive f32 values, borrowed for as long as `outputs`.
    unsafe { core::slice::from_raw_parts(outputs.as_ptr().cast::<f32>(), words) }
}

/// One optimizer step over the trainable variables of `model` (at most `N`: generated
/// `apply_optimizer` calls this with a bound from the model's layers): the variables are visited
/// one at a time, and gathered into an array because the optimizer wants them all at once (a
/// global clip norm spans every gradient).
pub fn apply_vars<M: Trainable, O: Optimizer, const N: usize>(
    model: &mut M,
    grads: &mut M::Grads,
    slots: &mut [f32],
    optimizer: &O,
    state: &mut OptimizerState,
) {
    let k = optimizer.slots_per_param();
    let mut rest: &mut [f32] = slots;
    let mut vars: [Var<'_>; N] = core::array::from_fn(|_| Var {
        value: Default::default(),
        grad: Default::default(),
        slots: Default::default(),
    });
    let mut count = 0usize;
    model.trainable_vars(grads, &mut |value, grad| {
        let (mine, tail) = core::mem::take(&mut rest).split_at_mut(k * value.len());
        rest = tail;
        assert!(count < N, "more trainable variables than the model's bound");
        vars[count] = Var {
            value,
            grad,
            slots: mine,
        };
        count += 1;
    });
    if let Err(e) = optimizer.apply(state, &mut vars[..count]) {
        // The trainer validated the optimizer and sized every buffer from the model.
        panic!("optimizer step failed: {e}");
    }
}
