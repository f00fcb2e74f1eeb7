//! The trainer: a model with an optimizer, a loss and metrics (`net.compile(optimizer, loss)`),
//! its gradients, optimizer slots and workspace.

use core::cell::RefCell;

use super::losses::Loss;
use super::metrics::{MetricError, MetricList, MetricTarget};
use super::optimizers::{Optimizer, OptimizerState, Var};
use super::{carve, Batch, BatchError, FitError, Logs, Plain, TrainCtx, Trainable};

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

/// A model compiled with an optimizer and a loss, as Keras's `model.compile(optimizer, loss)`,
/// and optionally metrics ([`Trainer::with_metrics`], Keras's `metrics=[…]`).
///
/// Owns (on a host) or borrows (anywhere, [`Trainer::with_buffers`]) everything a step needs —
/// gradients, optimizer slots, the workspace of activations and caches — so
/// [`Trainer::train_on_batch`] and every step of [`Trainer::fit`] never allocate.
pub struct Trainer<'m, M: Trainable, O: Optimizer, L: Loss> {
    model: &'m mut M,
    pub(crate) optimizer: O,
    loss: L,
    pub(crate) state: OptimizerState,
    grads: Workspace<'m, M::Grads>,
    /// One gradient buffer per chunk of a batch split across threads (`parallel`; empty
    /// otherwise): see [`Trainer::split_into`].
    parts: Workspace<'m, [M::Grads]>,
    /// Whether `parts` are the default ones, used only for steps worth splitting
    /// ([`super::par::worth_splitting`]); parts given explicitly are always used.
    auto_parts: bool,
    slots: Workspace<'m, [f32]>,
    workspace: Workspace<'m, [f32]>,
    ctx: TrainCtx,
    pub(crate) metrics: MetricList,
    /// Where callbacks keep a copy of the weights (`EarlyStopping(restore_best_weights)`).
    pub(crate) checkpoint: Option<Workspace<'m, [f32]>>,
    checkpoint_saved: bool,
    /// Keras's `model.stop_training`, set by a callback during `fit`.
    pub(crate) stop_training: bool,
}

/// The batch size a host trainer's workspace is first sized for (it grows to the largest batch
/// seen, before the step that needs it).
#[cfg(feature = "std")]
pub const DEFAULT_BATCH: usize = 32;

/// The number of chunks a host trainer cuts each batch into with the `parallel` feature
/// ([`Trainer::split_into`]): fixed, so that the results do not depend on the number of threads;
/// up to this many threads share a step.
pub const DEFAULT_PARTS: usize = 4;

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
        #[cfg(feature = "parallel")]
        let parts = Workspace::Owned((0..DEFAULT_PARTS).map(|_| M::zero_grads()).collect());
        #[cfg(not(feature = "parallel"))]
        let parts: Workspace<'m, [M::Grads]> = Workspace::Borrowed(&mut []);
        Self {
            model,
            optimizer,
            loss,
            state,
            grads,
            parts,
            auto_parts: true,
            slots,
            workspace,
            ctx: TrainCtx::new(0),
            metrics: MetricList::new(),
            checkpoint: None,
            checkpoint_saved: false,
            stop_training: false,
        }
    }

    /// The trainer cutting each batch into `parts.len()` chunks whose forward and backward
    /// passes run on rayon's pool (feature `parallel`), each adding its gradients into its own
    /// buffer of `parts` (zeroed values, e.g. `M::zero_grads()`), which are added up in chunk
    /// order. The results depend on the number of chunks, never on the number of threads; no
    /// buffers (or one) is one serial pass over the batch. Without the `parallel` feature the
    /// buffers are not used.
    pub fn with_parts(mut self, parts: &'m mut [M::Grads]) -> Self {
        self.parts = Workspace::Borrowed(parts);
        self.auto_parts = false;
        self
    }

    /// [`Trainer::with_parts`] with `count` buffers the trainer allocates (a host trainer with
    /// the `parallel` feature starts with [`DEFAULT_PARTS`]); `0` or `1` trains serially.
    #[cfg(feature = "std")]
    pub fn split_into(mut self, count: usize) -> Self {
        self.parts = Workspace::Owned((0..count).map(|_| M::zero_grads()).collect());
        self.auto_parts = false;
        self
    }

    /// The number of chunks a batch is cut into ([`Trainer::with_parts`]; 0 without the
    /// `parallel` feature). A trainer left at its default parts uses them only for steps large
    /// enough to gain from them ([`super::par::worth_splitting`]) and trains smaller ones
    /// serially.
    pub fn parts(&self) -> usize {
        if super::par::PARALLEL {
            self.parts.len()
        } else {
            0
        }
    }

    /// The trainer tracking `metrics` too, as Keras's `model.compile(…, metrics=[…])`:
    ///
    /// ```ignore
    /// let mut trainer = net.compile(Adam::default(), CategoricalCrossentropy::default())
    ///     .with_metrics(&["accuracy"])?;
    /// ```
    ///
    /// `"accuracy"` (or `"acc"`) is resolved from the shapes as Keras resolves it: a one-unit
    /// output gets `BinaryAccuracy`, class-id targets (the sparse losses) get
    /// `SparseCategoricalAccuracy`, other targets `CategoricalAccuracy`. The names
    /// [`MetricList`] understands: the accuracies, `"mse"` and `"mae"` (and their long names).
    /// `fit`, `evaluate`, `train_on_batch` and `test_on_batch` update them; each value is
    /// logged under the name given.
    ///
    /// # Errors
    /// An unknown name, a name given twice, more than four, or a metric these targets cannot
    /// feed (see [`MetricList::compile`]).
    pub fn with_metrics(mut self, metrics: &[&'static str]) -> Result<Self, MetricError>
    where
        L::Target: MetricTarget,
    {
        self.metrics = MetricList::compile(
            metrics,
            M::OUTPUT_SHAPE,
            <L::Target as MetricTarget>::CLASS_IDS,
        )?;
        Ok(self)
    }

    /// The trainer with a buffer for one copy of the model's weights, which
    /// `EarlyStopping { restore_best_weights: true, .. }` needs (with `std` the trainer
    /// allocates one when first asked instead).
    ///
    /// # Panics
    /// When `buffer` holds fewer than `M::PARAMS` values.
    pub fn with_checkpoint(mut self, buffer: &'m mut [f32]) -> Self {
        assert!(
            buffer.len() >= M::PARAMS,
            "the checkpoint buffer has {} values but the model has PARAMS = {}",
            buffer.len(),
            M::PARAMS
        );
        self.checkpoint = Some(Workspace::Borrowed(buffer));
        self
    }

    /// The metrics' values so far, in the order they were named (after `fit`: the last
    /// validation's, or the last epoch's without validation; after `train_on_batch`: that
    /// batch's, from the predictions before the update).
    ///
    /// # Errors
    /// Never with the at most four metrics a trainer tracks.
    pub fn metric_results(&self) -> Result<Logs, FitError> {
        let mut logs = Logs::new();
        for m in self.metrics.iter() {
            logs.set(m.name, m.result())?;
        }
        Ok(logs)
    }

    /// The learning rate of the next step (Keras's `optimizer.learning_rate`: the variable,
    /// or the schedule's value).
    pub fn learning_rate(&self) -> f32 {
        self.optimizer.current_learning_rate(&self.state)
    }

    /// The optimizer's scalar state: the step count and the learning-rate variable (assigning
    /// it is Keras's `optimizer.learning_rate = …`; without effect under a schedule).
    pub fn optimizer_state(&mut self) -> &mut OptimizerState {
        &mut self.state
    }

    /// Copies every weight of the model into the checkpoint (allocated the first time with
    /// `std`).
    pub(crate) fn save_checkpoint(&mut self) -> Result<(), FitError> {
        #[cfg(feature = "std")]
        if self.checkpoint.is_none() {
            self.checkpoint = Some(Workspace::Owned(
                std::vec![0.0; M::PARAMS].into_boxed_slice(),
            ));
        }
        let Some(buffer) = self.checkpoint.as_deref_mut() else {
            return Err(FitError::Checkpoint);
        };
        let mut k = 0;
        self.model.visit_layers(&mut |_, layer| {
            for i in 0..layer.variables().len() {
                layer.store_variable(i, &mut |v| {
                    buffer[k] = v;
                    k += 1;
                });
            }
        });
        self.checkpoint_saved = true;
        Ok(())
    }

    /// Puts the checkpoint's weights back, if one was saved.
    pub(crate) fn restore_checkpoint(&mut self) {
        let Some(buffer) = self.checkpoint.as_deref().filter(|_| self.checkpoint_saved) else {
            return;
        };
        let mut at = 0;
        let restored = self.model.visit_layers_mut(&mut |_, layer| {
            for i in 0..layer.variables().len() {
                let n = layer.variables()[i].len();
                layer.load_variable(i, &mut buffer[at..at + n].iter().copied());
                at += n;
            }
            Ok(())
        });
        debug_assert!(restored.is_ok(), "loading a layer's own values cannot fail");
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

    /// Grows an owned workspace to fit a training step over `n` samples; a borrowed one must
    /// already fit.
    ///
    /// # Panics
    /// When a borrowed workspace is too small.
    fn reserve(&mut self, n: usize) {
        if let Err(e) = self.try_reserve(n) {
            panic!("{e}");
        }
    }

    /// [`Self::reserve`], returning the error.
    pub(crate) fn try_reserve(&mut self, n: usize) -> Result<(), FitError> {
        self.try_reserve_words(n, M::workspace_words(n))
    }

    /// Makes room for the outputs of `n` samples (inference), like [`Self::try_reserve`].
    pub(crate) fn try_reserve_outputs(&mut self, n: usize) -> Result<(), FitError>
    where
        M::Output: Plain,
    {
        self.try_reserve_words(n, super::words::<M::Output>(n))
    }

    fn try_reserve_words(&mut self, n: usize, need: usize) -> Result<(), FitError> {
        if self.workspace.len() >= need {
            return Ok(());
        }
        match &mut self.workspace {
            #[cfg(feature = "std")]
            Workspace::Owned(w) => {
                // The training step's size covers the outputs too.
                *w = std::vec![0.0; need.max(M::workspace_words(n))].into_boxed_slice();
                Ok(())
            }
            Workspace::Borrowed(w) => Err(FitError::Workspace {
                batch: n,
                need,
                have: w.len(),
            }),
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
        self.model.train_batch_parts(
            inputs,
            Y::flat(targets),
            &self.loss,
            &mut self.grads,
            used_parts::<M>(&mut self.parts, self.auto_parts, inputs.len()),
            &mut self.workspace,
            &mut self.ctx,
        )
    }

    /// One training step on a batch, as Keras's `train_on_batch`: the loss before the update
    /// (Keras returns that one), then one optimizer step; the metrics start over and take the
    /// batch's predictions from before the update ([`Trainer::metric_results`]). Never
    /// allocates once the workspace fits the batch (a host trainer grows it the first time a
    /// larger batch comes).
    ///
    /// # Panics
    /// When the targets do not fit the loss (see [`Trainer::try_train_on_batch`], which
    /// returns the error instead), when `inputs` and `targets` differ in length, or a borrowed
    /// workspace is too small.
    pub fn train_on_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> f32
    where
        L::Target: MetricTarget,
    {
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
    ) -> Result<f32, BatchError>
    where
        L::Target: MetricTarget,
    {
        assert_eq!(
            inputs.len(),
            targets.len(),
            "train_on_batch: as many targets as inputs"
        );
        self.reserve(inputs.len());
        self.metrics.reset();
        self.step(inputs, targets)
    }

    /// One step of `fit`: the loss and gradients (the metrics take the predictions), then the
    /// optimizer. The workspace fits the batch.
    pub(crate) fn step<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError>
    where
        L::Target: MetricTarget,
    {
        let tracked = Tracked {
            loss: &self.loss,
            metrics: RefCell::new(&mut self.metrics),
        };
        let loss = self.model.train_batch_parts(
            inputs,
            Y::flat(targets),
            &tracked,
            &mut self.grads,
            used_parts::<M>(&mut self.parts, self.auto_parts, inputs.len()),
            &mut self.workspace,
            &mut self.ctx,
        )?;
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

    /// The loss of a batch in inference mode (Keras `test_on_batch`), changing nothing but
    /// the metrics, which start over and take this batch ([`Trainer::metric_results`]).
    ///
    /// # Errors
    /// When the targets do not fit the loss.
    ///
    /// # Panics
    /// When `inputs` and `targets` differ in length, or a borrowed workspace is too small.
    pub fn test_on_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError>
    where
        M::Output: Plain,
        L::Target: MetricTarget,
    {
        assert_eq!(inputs.len(), targets.len(), "as many targets as inputs");
        if let Err(e) = self.try_reserve_outputs(inputs.len()) {
            panic!("test_on_batch: {e}");
        }
        self.metrics.reset();
        self.test_batch(inputs, targets)
    }

    /// The loss of a batch in inference mode; the metrics take the batch. The workspace fits
    /// the batch's outputs.
    pub(crate) fn test_batch<Y: Targets<L::Target>>(
        &mut self,
        inputs: &[M::Input],
        targets: &[Y],
    ) -> Result<f32, BatchError>
    where
        M::Output: Plain,
        L::Target: MetricTarget,
    {
        let n = inputs.len();
        let (outputs, _) = carve::<M::Output>(&mut self.workspace, n);
        self.model.predict_batch(inputs, outputs);
        let flat = flat_outputs::<M>(outputs);
        let last = M::OUTPUT_SHAPE.last().copied().unwrap_or(1);
        let batch = Batch::new(Y::flat(targets), flat, last);
        let loss = self.loss.compute(&batch, None)?;
        self.metrics.update(&batch)?;
        Ok(loss)
    }
}

/// The loss as the generated training step sees it during `fit`: Keras's loss, and the
/// metrics updated from the same predictions (those of the training forward pass, before the
/// update), so the step needs no second look at its outputs.
struct Tracked<'a, L: Loss> {
    loss: &'a L,
    metrics: RefCell<&'a mut MetricList>,
}

impl<L: Loss> Loss for Tracked<'_, L>
where
    L::Target: MetricTarget,
{
    type Target = L::Target;
    const NAME: &'static str = L::NAME;

    fn targets_per_position(last: usize) -> usize {
        L::targets_per_position(last)
    }

    fn compute(
        &self,
        batch: &Batch<'_, Self::Target>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32, BatchError> {
        let loss = self.loss.compute(batch, grad)?;
        self.metrics.borrow_mut().update(batch)?;
        Ok(loss)
    }
}

/// How many of the trainer's chunk buffers a step over `n` samples uses: all with the
/// `parallel` feature, unless they are the default ones and the step is too small to gain
/// ([`super::par::worth_splitting`]); none without the feature (the serial step then adds into
/// the gradients directly).
fn used_parts<M: Trainable>(parts: &mut [M::Grads], auto: bool, n: usize) -> &mut [M::Grads] {
    if super::par::PARALLEL && (!auto || super::par::worth_splitting(M::workspace_words(n))) {
        parts
    } else {
        &mut []
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
