//! `fit`: Keras's training loop over epochs of mini-batches, with validation, metrics and
//! callbacks (TRAINING_SEMANTICS §5), and `evaluate`.
//!
//! One epoch, as Keras's JAX trainer runs it:
//! 1. the metrics and the loss tracker start over; the callbacks' `on_epoch_begin` runs;
//! 2. with `shuffle`, the training samples are permuted; they are cut into
//!    `ceil(N / batch_size)` batches, the last one partial;
//! 3. each batch: the training forward pass (Dropout on, BatchNormalization on batch
//!    statistics), the loss and gradients, one optimizer step; the batch's loss (from the
//!    weights before the step) goes into the tracker weighted by the batch's size, and its
//!    predictions into the metrics;
//! 4. the logs: the loss `Σ loss_b·n_b / Σ n_b` and each metric, then (every
//!    `validation_freq` epochs) `evaluate` on the validation data with the final weights in
//!    inference mode, logged with a `val_` prefix; the callbacks' `on_epoch_end` runs (and may
//!    add to the logs), the history records the logs, the progress line shows them;
//! 5. a callback may have stopped training.

use core::fmt;

use super::callbacks::{Callback, FitControl, ScheduleSet};
use super::losses::Loss;
use super::metrics::{Mean, MetricError, MetricTarget};
use super::optimizers::{Optimizer, SavedVariable};
use super::{BatchError, Logs, LogsFull, Plain, Rng, Targets, Trainable, Trainer};

/// The arguments of `fit`, named and defaulted as Keras's `model.fit`.
///
/// ```
/// use static_keras_runtime::train::FitOptions;
/// use static_keras_runtime::Tensor;
///
/// let options: FitOptions<'_, Tensor<4, 1>, u32> = FitOptions {
///     batch_size: 3,
///     epochs: 10,
///     validation_split: 0.2,
///     ..Default::default()
/// };
/// assert!(options.shuffle);
/// ```
pub struct FitOptions<'a, I, Y> {
    /// Samples per step (Keras's default 32). The last batch of an epoch keeps what is left.
    pub batch_size: usize,
    /// Epochs to train (default 1), counted from 0, up to `epochs − 1`.
    pub epochs: usize,
    /// 0: silent; 1: a progress bar per epoch (`Epoch 3/10`, then
    /// `12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9100 - loss: 0.2300`); 2: one line
    /// per epoch (`12/12 - 0s - 2ms/step - …`). Printed on stderr, with `std` only.
    pub verbose: u8,
    /// Hooks called around every epoch, in order ([`EarlyStopping`], …).
    ///
    /// [`EarlyStopping`]: super::callbacks::EarlyStopping
    pub callbacks: &'a mut [&'a mut dyn Callback],
    /// The share of the samples held out for validation: the LAST
    /// `N − floor(N·(1 − validation_split))`, cut before any shuffling. Ignored when
    /// `validation_data` is given.
    pub validation_split: f64,
    /// Validation samples and their targets.
    pub validation_data: Option<(&'a [I], &'a [Y])>,
    /// Permute the training samples at every epoch (default true). Keras's permutations cannot
    /// be reproduced; these come from `seed` (and the optimizer's step count when `fit` starts,
    /// so a second `fit` draws new ones while a rerun from the same state repeats them).
    pub shuffle: bool,
    /// The epoch to start from (a resumed run): epochs `initial_epoch..epochs` run.
    pub initial_epoch: usize,
    /// Samples per validation step; `None`: `batch_size`.
    pub validation_batch_size: Option<usize>,
    /// Validate after every `validation_freq`-th epoch (default 1: every epoch).
    pub validation_freq: usize,
    /// Seed of the shuffling.
    pub seed: u64,
}

impl<I, Y> Default for FitOptions<'_, I, Y> {
    fn default() -> Self {
        Self {
            batch_size: 32,
            epochs: 1,
            verbose: 1,
            callbacks: &mut [],
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            initial_epoch: 0,
            validation_batch_size: None,
            validation_freq: 1,
            seed: 0,
        }
    }
}

/// How many of the logged names [`FitError::Monitor`] keeps.
pub const MONITOR_KEYS: usize = 5;

/// Where in `fit` or `evaluate` a batch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A training step of this epoch.
    Train {
        /// The epoch, counted from 0.
        epoch: usize,
    },
    /// The validation after this epoch.
    Validation {
        /// The epoch, counted from 0.
        epoch: usize,
    },
    /// `evaluate` (or `test_on_batch`).
    Evaluate,
}

/// Why `fit` or `evaluate` cannot run or stopped: each names the argument, batch or callback.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FitError {
    /// A batch whose targets do not fit the loss or a metric (a class id out of range, …);
    /// nothing was updated by that batch.
    Batch {
        /// Where.
        phase: Phase,
        /// The batch, counted from 0.
        batch: usize,
        /// The first sample of the batch, in the order it was fed.
        first_sample: usize,
        /// Whether that order is a shuffled one (then `first_sample` is not the sample's index
        /// in the data).
        shuffled: bool,
        /// What is wrong.
        error: BatchError,
    },
    /// Samples and targets of different counts.
    Lengths {
        /// `"x and y"` or `"validation_data"`.
        what: &'static str,
        /// Number of samples.
        inputs: usize,
        /// Number of targets.
        targets: usize,
    },
    /// No samples to train or evaluate on.
    Empty {
        /// `"x"`, `"the training part of x"`, or `"validation_data"`.
        what: &'static str,
    },
    /// An argument out of its range.
    Argument {
        /// Its name in `FitOptions` (`"batch_size"`, `"validation_split"`, …).
        argument: &'static str,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// `validation_split` leaves no training or no validation sample.
    ValidationSplit {
        /// The split.
        split: f64,
        /// Number of samples.
        samples: usize,
    },
    /// A trainer over a borrowed workspace too small for the batch.
    Workspace {
        /// The batch size.
        batch: usize,
        /// Words the batch needs (`M::workspace_words(batch)`).
        need: usize,
        /// Words the workspace has.
        have: usize,
    },
    /// A callback cannot work as configured.
    Callback {
        /// The callback's Keras class name.
        callback: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A callback monitors a quantity the logs do not have.
    Monitor {
        /// The callback's Keras class name.
        callback: &'static str,
        /// The monitored name.
        monitor: &'static str,
        /// The first names the logs had (unused ones `""`): kept short so the error stays
        /// small without an allocator.
        logged: [&'static str; MONITOR_KEYS],
        /// Whether the logs had more names than `logged` shows.
        more: bool,
    },
    /// A callback saves weights but the trainer has nowhere to keep them (without `std`:
    /// give it a buffer with `Trainer::with_checkpoint`).
    Checkpoint,
    /// More logged values than [`Logs`] holds.
    Logs(LogsFull),
    /// A metric that cannot be tracked.
    Metric(MetricError),
}

impl From<LogsFull> for FitError {
    fn from(e: LogsFull) -> Self {
        FitError::Logs(e)
    }
}

impl From<MetricError> for FitError {
    fn from(e: MetricError) -> Self {
        FitError::Metric(e)
    }
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::Batch {
                phase,
                batch,
                first_sample,
                shuffled,
                error,
            } => {
                match phase {
                    Phase::Train { epoch } => write!(f, "epoch {}, training", epoch + 1)?,
                    Phase::Validation { epoch } => write!(f, "epoch {}, validation", epoch + 1)?,
                    Phase::Evaluate => write!(f, "evaluate")?,
                }
                let order = if *shuffled {
                    " of the shuffled order"
                } else {
                    ""
                };
                write!(
                    f,
                    ", batch {batch} (from sample {first_sample}{order}): {error}"
                )
            }
            FitError::Lengths {
                what,
                inputs,
                targets,
            } => write!(
                f,
                "{what}: {inputs} samples but {targets} targets; give one target per sample"
            ),
            FitError::Empty { what } => write!(f, "{what} has no samples"),
            FitError::Argument { argument, reason } => write!(f, "`{argument}` {reason}"),
            FitError::ValidationSplit { split, samples } => write!(
                f,
                "validation_split={split} leaves no {} sample out of {samples}",
                if libm::floor(*samples as f64 * (1.0 - split)) as usize == 0 {
                    "training"
                } else {
                    "validation"
                }
            ),
            FitError::Workspace { batch, need, have } => write!(
                f,
                "the trainer's workspace has {have} words but a batch of {batch} needs {need} \
                 (M::workspace_words({batch}))"
            ),
            FitError::Callback { callback, reason } => write!(f, "{callback}: {reason}"),
            FitError::Monitor {
                callback,
                monitor,
                logged,
                more,
            } => {
                write!(f, "{callback}: `{monitor}` is not in the logs (they have")?;
                for (i, k) in logged.iter().filter(|k| !k.is_empty()).enumerate() {
                    write!(f, "{}{k}", if i == 0 { " " } else { ", " })?;
                }
                write!(f, "{})", if *more { ", …" } else { "" })?;
                if monitor.starts_with("val_") {
                    write!(f, "; give validation_data or a validation_split")?;
                }
                Ok(())
            }
            FitError::Checkpoint => write!(
                f,
                "restoring the best weights needs a checkpoint buffer of PARAMS values \
                 (Trainer::with_checkpoint)"
            ),
            FitError::Logs(e) => write!(f, "{e}"),
            FitError::Metric(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for FitError {}

/// The training samples of `fit`, cut into batches.
pub(crate) trait Samples<I, Y> {
    /// A fresh permutation (Fisher–Yates, the same draws whatever holds the samples).
    fn shuffle(&mut self, rng: &mut Rng);
    /// Samples `start..end` of the current order, contiguous.
    fn batch(&mut self, start: usize, end: usize) -> (&[I], &[Y]);
}

/// Samples the caller lends mutably: shuffled in place.
struct InPlace<'a, I, Y> {
    x: &'a mut [I],
    y: &'a mut [Y],
}

impl<I, Y> Samples<I, Y> for InPlace<'_, I, Y> {
    fn shuffle(&mut self, rng: &mut Rng) {
        for i in (1..self.x.len()).rev() {
            let j = rng.below(i + 1);
            self.x.swap(i, j);
            self.y.swap(i, j);
        }
    }

    fn batch(&mut self, start: usize, end: usize) -> (&[I], &[Y]) {
        (&self.x[start..end], &self.y[start..end])
    }
}

/// Shared samples: in order, or through a permutation into batch buffers (`std`).
#[cfg(feature = "std")]
struct Gathered<'a, I, Y> {
    x: &'a [I],
    y: &'a [Y],
    order: std::vec::Vec<usize>,
    xb: std::vec::Vec<I>,
    yb: std::vec::Vec<Y>,
}

#[cfg(feature = "std")]
impl<'a, I: Clone, Y: Clone> Gathered<'a, I, Y> {
    fn new(x: &'a [I], y: &'a [Y], shuffle: bool, batch_size: usize) -> Self {
        let (order, xb, yb) = if shuffle {
            let b = batch_size.min(x.len());
            (
                (0..x.len()).collect(),
                std::vec::Vec::with_capacity(b),
                std::vec::Vec::with_capacity(b),
            )
        } else {
            Default::default()
        };
        Self {
            x,
            y,
            order,
            xb,
            yb,
        }
    }
}

#[cfg(feature = "std")]
impl<I: Clone, Y: Clone> Samples<I, Y> for Gathered<'_, I, Y> {
    fn shuffle(&mut self, rng: &mut Rng) {
        rng.shuffle(&mut self.order);
    }

    fn batch(&mut self, start: usize, end: usize) -> (&[I], &[Y]) {
        if self.order.is_empty() {
            return (&self.x[start..end], &self.y[start..end]);
        }
        self.xb.clear();
        self.yb.clear();
        for &i in &self.order[start..end] {
            self.xb.push(self.x[i].clone());
            self.yb.push(self.y[i].clone());
        }
        (&self.xb, &self.yb)
    }
}

/// `split_at` of Keras's `train_validation_split`: `floor(N·(1 − split))` in double precision.
fn split_point(samples: usize, split: f64) -> Result<usize, FitError> {
    if !(0.0..1.0).contains(&split) {
        return Err(FitError::Argument {
            argument: "validation_split",
            reason: "must be in [0, 1)",
        });
    }
    let at = libm::floor(samples as f64 * (1.0 - split)) as usize;
    if at == 0 || at == samples {
        return Err(FitError::ValidationSplit { split, samples });
    }
    Ok(at)
}

/// The callbacks' view of a trainer during `fit`.
struct Control<'t, 'm, M: Trainable, O: Optimizer, L: Loss> {
    trainer: &'t mut Trainer<'m, M, O, L>,
    validation: bool,
}

impl<M: Trainable, O: Optimizer, L: Loss> FitControl for Control<'_, '_, M, O, L> {
    fn learning_rate(&self) -> f32 {
        self.trainer.learning_rate()
    }

    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), ScheduleSet> {
        let t = &mut *self.trainer;
        let variable = t
            .optimizer
            .saved_variables(0)
            .any(|v| v == SavedVariable::LearningRate);
        if !variable {
            return Err(ScheduleSet);
        }
        t.state.learning_rate = learning_rate;
        Ok(())
    }

    fn iterations(&self) -> u64 {
        self.trainer.iterations()
    }

    fn stop_training(&mut self) {
        self.trainer.stop_training = true;
    }

    fn has_validation(&self) -> bool {
        self.validation
    }

    fn can_save_weights(&self) -> bool {
        cfg!(feature = "std") || self.trainer.checkpoint.is_some()
    }

    fn save_weights(&mut self) -> Result<(), FitError> {
        self.trainer.save_checkpoint()
    }

    fn restore_weights(&mut self) {
        self.trainer.restore_checkpoint();
    }
}

impl<'m, M, O, L> Trainer<'m, M, O, L>
where
    M: Trainable,
    M::Output: Plain,
    O: Optimizer,
    L: Loss,
    L::Target: MetricTarget,
{
    /// Keras's `model.fit` over samples the caller lends mutably, without `std`: with
    /// `shuffle`, the training samples (and their targets, in step) are permuted in place at
    /// every epoch. Returns the last epoch's logs; callbacks see every epoch's. Allocates
    /// nothing; a trainer over borrowed buffers needs a workspace for `batch_size` samples.
    ///
    /// # Errors
    /// See [`FitError`]: bad options or data before anything runs, a batch whose targets do
    /// not fit the loss (training stops there), a callback's error.
    pub fn fit_in_place<Y: Targets<L::Target>>(
        &mut self,
        x: &mut [M::Input],
        y: &mut [Y],
        options: FitOptions<'_, M::Input, Y>,
    ) -> Result<Logs, FitError> {
        check_lengths("x and y", x.len(), y.len())?;
        let split = match (&options.validation_data, options.validation_split) {
            (None, s) if s != 0.0 => split_point(x.len(), s)?,
            _ => x.len(),
        };
        let (x, x_val) = x.split_at_mut(split);
        let (y, y_val) = y.split_at_mut(split);
        let (x_val, y_val) = (&*x_val, &*y_val);
        let val = options
            .validation_data
            .or((!x_val.is_empty()).then_some((x_val, y_val)));
        let n = x.len();
        self.run(&mut InPlace { x, y }, n, val, options, &mut |_, _| {})
    }

    /// Keras's `model.fit(x, y, …)`: trains for `options.epochs` epochs and returns the history
    /// (loss, metrics and `val_` figures per epoch). Allocates once per call (the history per
    /// epoch; with `shuffle`, a permutation and one batch of samples to gather it into), never
    /// per step.
    ///
    /// # Panics
    /// On any [`FitError`] (as Keras raises); [`Trainer::try_fit`] returns it instead.
    #[cfg(feature = "std")]
    pub fn fit<Y: Targets<L::Target> + Clone>(
        &mut self,
        x: &[M::Input],
        y: &[Y],
        options: FitOptions<'_, M::Input, Y>,
    ) -> super::History
    where
        M::Input: Clone,
    {
        match self.try_fit(x, y, options) {
            Ok(h) => h,
            Err(e) => panic!("fit: {e}"),
        }
    }

    /// [`Trainer::fit`], returning its error instead of panicking. The history holds the
    /// epochs that completed before an error.
    ///
    /// # Errors
    /// See [`FitError`].
    #[cfg(feature = "std")]
    pub fn try_fit<Y: Targets<L::Target> + Clone>(
        &mut self,
        x: &[M::Input],
        y: &[Y],
        options: FitOptions<'_, M::Input, Y>,
    ) -> Result<super::History, FitError>
    where
        M::Input: Clone,
    {
        check_lengths("x and y", x.len(), y.len())?;
        let split = match (&options.validation_data, options.validation_split) {
            (None, s) if s != 0.0 => split_point(x.len(), s)?,
            _ => x.len(),
        };
        let val = options
            .validation_data
            .or((split < x.len()).then(|| (&x[split..], &y[split..])));
        let (x, y) = (&x[..split], &y[..split]);
        let mut samples = Gathered::new(x, y, options.shuffle, options.batch_size.max(1));
        let mut history = super::History::default();
        self.run(&mut samples, x.len(), val, options, &mut |epoch, logs| {
            history.record(epoch, logs)
        })?;
        Ok(history)
    }

    /// The loop shared by every `fit`.
    fn run<Y: Targets<L::Target>>(
        &mut self,
        train: &mut dyn Samples<M::Input, Y>,
        n: usize,
        val: Option<(&[M::Input], &[Y])>,
        options: FitOptions<'_, M::Input, Y>,
        record: &mut dyn FnMut(usize, &Logs),
    ) -> Result<Logs, FitError> {
        let FitOptions {
            batch_size,
            epochs,
            verbose,
            callbacks,
            validation_batch_size,
            validation_freq,
            shuffle,
            initial_epoch,
            seed,
            ..
        } = options;
        if batch_size == 0 {
            return Err(FitError::Argument {
                argument: "batch_size",
                reason: "must be at least 1",
            });
        }
        if validation_freq == 0 {
            return Err(FitError::Argument {
                argument: "validation_freq",
                reason: "must be at least 1",
            });
        }
        let val_batch = validation_batch_size.unwrap_or(batch_size);
        if val_batch == 0 {
            return Err(FitError::Argument {
                argument: "validation_batch_size",
                reason: "must be at least 1",
            });
        }
        if n == 0 {
            return Err(FitError::Empty { what: "x" });
        }
        if let Some((vx, vy)) = val {
            check_lengths("validation_data", vx.len(), vy.len())?;
            if vx.is_empty() {
                return Err(FitError::Empty {
                    what: "validation_data",
                });
            }
            self.try_reserve_outputs(val_batch.min(vx.len()))?;
        }
        self.try_reserve(batch_size.min(n))?;

        let steps = n.div_ceil(batch_size);
        let mut rng =
            Rng::new(seed.wrapping_add(self.state.iterations.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        #[cfg(feature = "std")]
        let mut progress = super::progress::Progress::new(verbose, epochs, steps);
        #[cfg(not(feature = "std"))]
        let _ = verbose;
        self.stop_training = false;
        let validation = val.is_some();
        for cb in callbacks.iter_mut() {
            cb.on_train_begin(&mut Control {
                trainer: self,
                validation,
            })?;
        }
        let mut logs = Logs::new();
        for epoch in initial_epoch..epochs {
            self.metrics.reset();
            let mut tracker = Mean::default();
            for cb in callbacks.iter_mut() {
                cb.on_epoch_begin(
                    epoch,
                    &mut Control {
                        trainer: self,
                        validation,
                    },
                )?;
            }
            #[cfg(feature = "std")]
            progress.epoch_begin(epoch);
            if shuffle {
                train.shuffle(&mut rng);
            }
            for step in 0..steps {
                let (start, end) = (step * batch_size, ((step + 1) * batch_size).min(n));
                let (xb, yb) = train.batch(start, end);
                let loss = self.step(xb, yb).map_err(|error| FitError::Batch {
                    phase: Phase::Train { epoch },
                    batch: step,
                    first_sample: start,
                    shuffled: shuffle,
                    error,
                })?;
                tracker.update_state(loss, (end - start) as f32);
                #[cfg(feature = "std")]
                progress.step(step + 1, &self.training_logs(&tracker)?);
            }
            logs = self.training_logs(&tracker)?;
            if let Some((vx, vy)) = val.filter(|_| (epoch + 1) % validation_freq == 0) {
                let (loss, metrics) = self
                    .evaluate_batches(vx, vy, val_batch)
                    .map_err(|e| e.during(Phase::Validation { epoch }))?;
                let from = logs.len();
                logs.set("val_loss", loss)?;
                for m in self.metrics.iter() {
                    logs.set(m.val_name, metrics.get(m.name).unwrap_or(0.0))?;
                }
                logs.sort_from(from);
            }
            for cb in callbacks.iter_mut() {
                cb.on_epoch_end(
                    epoch,
                    &mut logs,
                    &mut Control {
                        trainer: self,
                        validation,
                    },
                )?;
            }
            record(epoch, &logs);
            #[cfg(feature = "std")]
            progress.epoch_end(&logs);
            if self.stop_training {
                break;
            }
        }
        for cb in callbacks.iter_mut() {
            cb.on_train_end(
                &logs,
                &mut Control {
                    trainer: self,
                    validation,
                },
            )?;
        }
        Ok(logs)
    }

    /// The loss so far and each metric, sorted by name (as Keras's JAX backend logs them).
    fn training_logs(&self, tracker: &Mean) -> Result<Logs, FitError> {
        let mut logs = Logs::new();
        logs.set("loss", tracker.result())?;
        for m in self.metrics.iter() {
            logs.set(m.name, m.result())?;
        }
        logs.sort_from(0);
        Ok(logs)
    }

    /// Keras's `model.evaluate(x, y)` (batches of 32, inference mode): the loss, the mean of
    /// the batch losses weighted by the batch sizes, and each metric (in the order they were
    /// named). Changes nothing but the metrics' state.
    ///
    /// # Panics
    /// On any [`FitError`]; [`Trainer::try_evaluate`] returns it instead.
    pub fn evaluate<Y: Targets<L::Target>>(&mut self, x: &[M::Input], y: &[Y]) -> (f32, Logs) {
        match self.try_evaluate(x, y, 32) {
            Ok(r) => r,
            Err(e) => panic!("evaluate: {e}"),
        }
    }

    /// [`Trainer::evaluate`] with batches of `batch_size` samples, returning its error instead
    /// of panicking.
    ///
    /// # Errors
    /// Samples and targets of different counts, no samples, a zero batch size, a borrowed
    /// workspace too small for the batch, or a batch whose targets do not fit the loss.
    pub fn try_evaluate<Y: Targets<L::Target>>(
        &mut self,
        x: &[M::Input],
        y: &[Y],
        batch_size: usize,
    ) -> Result<(f32, Logs), FitError> {
        check_lengths("x and y", x.len(), y.len())?;
        if batch_size == 0 {
            return Err(FitError::Argument {
                argument: "batch_size",
                reason: "must be at least 1",
            });
        }
        if x.is_empty() {
            return Err(FitError::Empty { what: "x" });
        }
        self.try_reserve_outputs(batch_size.min(x.len()))?;
        self.evaluate_batches(x, y, batch_size)
    }

    fn evaluate_batches<Y: Targets<L::Target>>(
        &mut self,
        x: &[M::Input],
        y: &[Y],
        batch_size: usize,
    ) -> Result<(f32, Logs), FitError> {
        self.metrics.reset();
        let mut tracker = Mean::default();
        for (b, (xb, yb)) in x.chunks(batch_size).zip(y.chunks(batch_size)).enumerate() {
            let loss = self.test_batch(xb, yb).map_err(|error| FitError::Batch {
                phase: Phase::Evaluate,
                batch: b,
                first_sample: b * batch_size,
                shuffled: false,
                error,
            })?;
            tracker.update_state(loss, xb.len() as f32);
        }
        Ok((tracker.result(), self.metric_results()?))
    }
}

impl FitError {
    /// A callback's `monitor` that `logs` lack.
    pub(crate) fn monitor(callback: &'static str, monitor: &'static str, logs: &Logs) -> Self {
        let mut logged = [""; MONITOR_KEYS];
        for (slot, key) in logged.iter_mut().zip(logs.keys()) {
            *slot = key;
        }
        FitError::Monitor {
            callback,
            monitor,
            logged,
            more: logs.len() > MONITOR_KEYS,
        }
    }

    /// The same error, placed in `phase` if it is a batch's.
    fn during(self, phase: Phase) -> Self {
        match self {
            FitError::Batch {
                batch,
                first_sample,
                shuffled,
                error,
                ..
            } => FitError::Batch {
                phase,
                batch,
                first_sample,
                shuffled,
                error,
            },
            e => e,
        }
    }
}

fn check_lengths(what: &'static str, inputs: usize, targets: usize) -> Result<(), FitError> {
    if inputs == targets {
        Ok(())
    } else {
        Err(FitError::Lengths {
            what,
            inputs,
            targets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_split_cuts_like_keras() {
        assert_eq!(split_point(10, 0.3), Ok(7)); // 10·0.7 = 7.000000000000001
        assert_eq!(split_point(10, 0.25), Ok(7));
        assert_eq!(split_point(4, 0.5), Ok(2));
        assert_eq!(split_point(3, 0.1), Ok(2));
        let e = split_point(3, 1e-17).unwrap_err();
        assert_eq!(
            std::format!("{e}"),
            "validation_split=0.00000000000000001 leaves no validation sample out of 3"
        );
        assert!(split_point(10, 1.0).is_err());
        assert!(split_point(10, -0.1).is_err());
        let e = split_point(1, 0.5).unwrap_err();
        assert_eq!(
            std::format!("{e}"),
            "validation_split=0.5 leaves no training sample out of 1"
        );
    }

    #[test]
    fn both_sample_holders_draw_the_same_batches() {
        let (mut x, mut y) = ([0, 1, 2, 3, 4, 5, 6], [10, 11, 12, 13, 14, 15, 16]);
        let (gx, gy) = (x, y);
        let mut a = InPlace {
            x: &mut x,
            y: &mut y,
        };
        let mut b = Gathered::new(&gx, &gy, true, 3);
        let (mut ra, mut rb) = (Rng::new(5), Rng::new(5));
        for _ in 0..3 {
            a.shuffle(&mut ra);
            b.shuffle(&mut rb);
            for s in [0, 3, 6] {
                let e = (s + 3).min(7);
                let (ax, ay) = a.batch(s, e);
                let (ax, ay) = (ax.to_vec(), ay.to_vec());
                let (bx, by) = b.batch(s, e);
                assert_eq!((&ax[..], &ay[..]), (bx, by));
                assert!(ax.iter().zip(&ay).all(|(x, y)| y - x == 10));
            }
        }
    }
}
