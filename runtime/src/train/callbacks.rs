//! Keras's training callbacks: hooks `fit` calls at the start and end of training and of each
//! epoch ([`Callback`]), with [`EarlyStopping`], [`LearningRateScheduler`] and
//! [`ReduceLROnPlateau`] as Keras defines them.
//!
//! ```
//! use static_keras_runtime::train::callbacks::{EarlyStopping, LearningRateScheduler, Mode};
//!
//! let stop = EarlyStopping { monitor: "val_loss", patience: 3, restore_best_weights: true, ..Default::default() };
//! let halve = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * 0.5 });
//! assert_eq!(stop.mode, Mode::Auto);
//! # let _ = halve;
//! ```
//!
//! A callback sees the training through [`FitControl`]: the learning rate (Keras's
//! `model.optimizer.learning_rate`), `stop_training`, and one checkpoint of the weights (what
//! `EarlyStopping(restore_best_weights=True)` keeps).

use super::metrics::{direction, Direction};
use super::{FitError, Logs};

/// What a callback can read and change while `fit` runs (Keras's `self.model` in a callback).
pub trait FitControl {
    /// The learning rate of the next step: Keras's `float(model.optimizer.learning_rate)`
    /// (a schedule's value when the optimizer has one).
    fn learning_rate(&self) -> f32;

    /// Sets the optimizer's learning-rate variable (Keras's `optimizer.learning_rate = lr`),
    /// for the next step on.
    ///
    /// # Errors
    /// When the optimizer has a schedule, which has no variable to set (Keras raises then).
    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), ScheduleSet>;

    /// The optimizer's step counter (`optimizer.iterations`).
    fn iterations(&self) -> u64;

    /// Ends training after this epoch (Keras's `model.stop_training = True`).
    fn stop_training(&mut self);

    /// Whether `fit` runs validation (it has `validation_data` or a `validation_split`).
    fn has_validation(&self) -> bool;

    /// Whether [`FitControl::save_weights`] has somewhere to save to.
    fn can_save_weights(&self) -> bool;

    /// Copies every weight of the model (trainable or not; Keras's `get_weights()`) into the
    /// trainer's one checkpoint.
    ///
    /// # Errors
    /// [`FitError::Checkpoint`] when the trainer has no checkpoint buffer (only without `std`:
    /// see `Trainer::with_checkpoint`).
    fn save_weights(&mut self) -> Result<(), FitError>;

    /// Puts the weights of the checkpoint back (Keras's `set_weights(best_weights)`); nothing
    /// happens if none was saved.
    fn restore_weights(&mut self);
}

/// [`FitControl::set_learning_rate`] on an optimizer with a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleSet;

/// Hooks `fit` calls, in the order of `FitOptions::callbacks` (Keras's `keras.callbacks.Callback`
/// at epoch granularity). Every hook may fail, which ends `fit` with that error.
pub trait Callback {
    /// Before the first epoch.
    fn on_train_begin(&mut self, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        let _ = ctl;
        Ok(())
    }

    /// Before epoch `epoch` (counted from 0).
    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        let _ = (epoch, ctl);
        Ok(())
    }

    /// After epoch `epoch`, with its logs (training figures, then validation figures); a
    /// callback may add to them (`learning_rate`), and the history records them after every
    /// callback ran.
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn FitControl,
    ) -> Result<(), FitError> {
        let _ = (epoch, logs, ctl);
        Ok(())
    }

    /// After the last epoch, with its logs.
    fn on_train_end(&mut self, logs: &Logs, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        let _ = (logs, ctl);
        Ok(())
    }
}

/// Which way a monitored quantity should go: Keras's `mode` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// From the name: `loss` and error metrics down, accuracies up (Keras raises for a name it
    /// cannot place, and so does `fit`).
    #[default]
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

/// Keras's `MonitorCallback`: the comparison `_is_improvement` makes, with `min_delta` signed
/// as Keras signs it.
#[derive(Debug, Clone, Copy)]
struct Monitor {
    less: bool,
    min_delta: f64,
}

impl Monitor {
    fn new(
        callback: &'static str,
        monitor: &'static str,
        mode: Mode,
        min_delta: f64,
    ) -> Result<Self, FitError> {
        let less = match mode {
            Mode::Min => true,
            Mode::Max => false,
            Mode::Auto => match direction(monitor) {
                Some(Direction::Down) => true,
                Some(Direction::Up) => false,
                None => {
                    return Err(FitError::Callback {
                        callback,
                        reason: "cannot tell whether the monitored quantity should be maximized or minimized; set mode to Min or Max",
                    })
                }
            },
        };
        let min_delta = libm::fabs(min_delta);
        Ok(Self {
            less,
            min_delta: if less { -min_delta } else { min_delta },
        })
    }

    /// `monitor_op(current - min_delta, reference)`: the difference in Python's double
    /// precision, the comparison (`ops.less`/`ops.greater`) in f32.
    fn is_improvement(&self, current: f64, reference: Option<f64>) -> bool {
        let Some(reference) = reference else {
            return true;
        };
        let (a, b) = ((current - self.min_delta) as f32, reference as f32);
        if self.less {
            a < b
        } else {
            a > b
        }
    }
}

/// The monitored value of an epoch, `None` to skip an epoch without validation when a `val_`
/// figure is monitored (as Keras skips it, with a warning); a quantity that is never logged is
/// an error, where Keras would only warn.
fn monitored(
    callback: &'static str,
    monitor: &'static str,
    logs: &Logs,
    ctl: &dyn FitControl,
) -> Result<Option<f64>, FitError> {
    if let Some(v) = logs.get(monitor) {
        return Ok(Some(v as f64));
    }
    let validation_epoch = logs.keys().any(|k| k.starts_with("val_"));
    if monitor.starts_with("val_") && ctl.has_validation() && !validation_epoch {
        return Ok(None);
    }
    Err(FitError::monitor(callback, monitor, logs))
}

/// Sets the learning rate, or says which callback tried to set it on a schedule.
fn set_learning_rate(
    callback: &'static str,
    ctl: &mut dyn FitControl,
    learning_rate: f32,
) -> Result<(), FitError> {
    ctl.set_learning_rate(learning_rate)
        .map_err(|ScheduleSet| FitError::Callback {
            callback,
            reason: "the optimizer has a learning-rate schedule, whose rate cannot be set",
        })
}

/// Stops training when a monitored quantity has stopped improving: Keras's
/// `EarlyStopping(monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
/// baseline=None, restore_best_weights=False, start_from_epoch=0)`.
///
/// After each epoch (from `start_from_epoch` on): an improvement (by more than `min_delta`)
/// records the value as the best and, if it also beats `baseline`, resets the wait; otherwise,
/// once `patience` epochs have gone by without one (and past the first epoch), training stops.
/// With `restore_best_weights`, the weights of the best epoch are saved in the trainer's
/// checkpoint and put back when training ends.
///
/// The fields after `start_from_epoch` are the callback's state, which `on_train_begin` resets.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    /// The quantity to watch: `"val_loss"`, `"loss"`, `"accuracy"`, `"val_accuracy"`, ….
    pub monitor: &'static str,
    /// A change smaller than this (in absolute value) is no improvement.
    pub min_delta: f64,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// 1: say when training stops and weights are restored (with `std`, on stderr).
    pub verbose: u8,
    /// Which way is better.
    pub mode: Mode,
    /// A value the quantity must beat for the wait to reset.
    pub baseline: Option<f64>,
    /// Put back the weights of the best epoch when training ends.
    pub restore_best_weights: bool,
    /// Epochs to run before watching.
    pub start_from_epoch: usize,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The epoch training stopped after (0 if it did not stop early).
    pub stopped_epoch: usize,
    /// The best value so far.
    pub best: Option<f64>,
    /// The epoch of the best value.
    pub best_epoch: usize,
    /// Whether the best weights are in the checkpoint.
    pub has_best_weights: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            monitor: "val_loss",
            min_delta: 0.0,
            patience: 0,
            verbose: 0,
            mode: Mode::Auto,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            stopped_epoch: 0,
            best: None,
            best_epoch: 0,
            has_best_weights: false,
        }
    }
}

impl EarlyStopping {
    const NAME: &'static str = "EarlyStopping";

    fn monitor_op(&self) -> Result<Monitor, FitError> {
        Monitor::new(Self::NAME, self.monitor, self.mode, self.min_delta)
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        self.monitor_op()?;
        if self.restore_best_weights && !ctl.can_save_weights() {
            return Err(FitError::Checkpoint);
        }
        self.wait = 0;
        self.stopped_epoch = 0;
        self.best = None;
        self.best_epoch = 0;
        self.has_best_weights = false;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn FitControl,
    ) -> Result<(), FitError> {
        let op = self.monitor_op()?;
        let Some(current) = monitored(Self::NAME, self.monitor, logs, ctl)? else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && !self.has_best_weights {
            ctl.save_weights()?;
            self.has_best_weights = true;
            self.best_epoch = epoch;
        }
        self.wait += 1;
        if op.is_improvement(current, self.best) {
            self.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                ctl.save_weights()?;
            }
            if self.baseline.is_none() || op.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = epoch;
            ctl.stop_training();
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &Logs, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        #[cfg(feature = "std")]
        if self.verbose > 0 && self.stopped_epoch > 0 {
            std::eprintln!("Epoch {}: early stopping", self.stopped_epoch + 1);
        }
        if self.restore_best_weights && self.has_best_weights {
            #[cfg(feature = "std")]
            if self.verbose > 0 {
                std::eprintln!(
                    "Restoring model weights from the end of the best epoch: {}.",
                    self.best_epoch + 1
                );
            }
            ctl.restore_weights();
        }
        Ok(())
    }
}

/// Sets the learning rate at the start of every epoch from `schedule(epoch, lr)`: Keras's
/// `LearningRateScheduler(schedule, verbose=0)`. The rate comes and goes as Python floats do
/// (`f64`, rounded to the optimizer's f32 variable), and the epoch's rate is logged as
/// `learning_rate`.
///
/// ```
/// use static_keras_runtime::train::callbacks::LearningRateScheduler;
/// // Keras's docstring example: constant for ten epochs, then exponential decay.
/// let s = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * libm::exp(-0.1) });
/// # let _ = s;
/// ```
pub struct LearningRateScheduler<F: FnMut(usize, f64) -> f64> {
    /// `(epoch, current learning rate) → learning rate for this epoch`.
    pub schedule: F,
    /// 1: print each new rate (with `std`, on stderr).
    pub verbose: u8,
}

impl<F: FnMut(usize, f64) -> f64> LearningRateScheduler<F> {
    const NAME: &'static str = "LearningRateScheduler";

    /// The scheduler with Keras's `verbose=0`.
    pub fn new(schedule: F) -> Self {
        Self {
            schedule,
            verbose: 0,
        }
    }
}

impl<F: FnMut(usize, f64) -> f64> Callback for LearningRateScheduler<F> {
    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn FitControl) -> Result<(), FitError> {
        let lr = (self.schedule)(epoch, ctl.learning_rate() as f64);
        if !lr.is_finite() {
            return Err(FitError::Callback {
                callback: Self::NAME,
                reason: "the schedule returned a learning rate that is not a finite number",
            });
        }
        set_learning_rate(Self::NAME, ctl, lr as f32)?;
        #[cfg(feature = "std")]
        if self.verbose > 0 {
            std::eprintln!(
                "\nEpoch {}: LearningRateScheduler setting learning rate to {lr}.",
                epoch + 1
            );
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn FitControl,
    ) -> Result<(), FitError> {
        logs.set("learning_rate", ctl.learning_rate())?;
        Ok(())
    }
}

/// Reduces the learning rate when a monitored quantity has stopped improving: Keras's
/// `ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
/// min_delta=1e-4, cooldown=0, min_lr=0.0)`.
///
/// After each epoch it logs the rate the epoch used (`learning_rate`); then, outside a cooldown,
/// `patience` epochs without an improvement by more than `min_delta` multiply the rate by
/// `factor` (not below `min_lr`) and start a cooldown of `cooldown` epochs.
///
/// The fields after `min_lr` are the callback's state, which `on_train_begin` resets.
#[derive(Debug, Clone, PartialEq)]
pub struct ReduceLROnPlateau {
    /// The quantity to watch.
    pub monitor: &'static str,
    /// The factor applied to the rate; must be below 1.
    pub factor: f64,
    /// Epochs without improvement before reducing.
    pub patience: usize,
    /// 1: say when the rate is reduced (with `std`, on stderr).
    pub verbose: u8,
    /// Which way is better.
    pub mode: Mode,
    /// A change smaller than this (in absolute value) is no improvement.
    pub min_delta: f64,
    /// Epochs after a reduction before watching again.
    pub cooldown: usize,
    /// The lowest rate.
    pub min_lr: f64,
    /// Epochs of cooldown left.
    pub cooldown_counter: usize,
    /// Epochs since the last improvement.
    pub wait: usize,
    /// The best value so far.
    pub best: Option<f64>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self {
            monitor: "val_loss",
            factor: 0.1,
            patience: 10,
            verbose: 0,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            cooldown_counter: 0,
            wait: 0,
            best: None,
        }
    }
}

impl ReduceLROnPlateau {
    const NAME: &'static str = "ReduceLROnPlateau";

    fn monitor_op(&self) -> Result<Monitor, FitError> {
        Monitor::new(Self::NAME, self.monitor, self.mode, self.min_delta)
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _ctl: &mut dyn FitControl) -> Result<(), FitError> {
        if self.factor >= 1.0 || self.factor.is_nan() {
            return Err(FitError::Callback {
                callback: Self::NAME,
                reason: "factor must be below 1.0",
            });
        }
        self.monitor_op()?;
        self.best = None;
        self.cooldown_counter = 0;
        self.wait = 0;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn FitControl,
    ) -> Result<(), FitError> {
        let op = self.monitor_op()?;
        logs.set("learning_rate", ctl.learning_rate())?;
        let Some(current) = monitored(Self::NAME, self.monitor, logs, ctl)? else {
            return Ok(());
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if op.is_improvement(current, self.best) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                // Keras: `float(lr) > np.float32(min_lr)`, then the product in double
                // precision, assigned to the f32 variable.
                let old = ctl.learning_rate() as f64;
                if old > self.min_lr as f32 as f64 {
                    let new = (old * self.factor).max(self.min_lr);
                    set_learning_rate(Self::NAME, ctl, new as f32)?;
                    #[cfg(feature = "std")]
                    if self.verbose > 0 {
                        std::eprintln!(
                            "\nEpoch {}: ReduceLROnPlateau reducing learning rate to {new}.",
                            epoch + 1
                        );
                    }
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        let _ = epoch;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A control without a model: the learning rate and the flags.
    struct Fake {
        lr: f32,
        stop: bool,
        saved: usize,
        restored: usize,
        schedule: bool,
    }

    impl Fake {
        fn new(lr: f32) -> Self {
            Self {
                lr,
                stop: false,
                saved: 0,
                restored: 0,
                schedule: false,
            }
        }
    }

    impl FitControl for Fake {
        fn learning_rate(&self) -> f32 {
            self.lr
        }
        fn set_learning_rate(&mut self, lr: f32) -> Result<(), ScheduleSet> {
            if self.schedule {
                return Err(ScheduleSet);
            }
            self.lr = lr;
            Ok(())
        }
        fn iterations(&self) -> u64 {
            0
        }
        fn stop_training(&mut self) {
            self.stop = true;
        }
        fn has_validation(&self) -> bool {
            false
        }
        fn can_save_weights(&self) -> bool {
            true
        }
        fn save_weights(&mut self) -> Result<(), FitError> {
            self.saved += 1;
            Ok(())
        }
        fn restore_weights(&mut self) {
            self.restored += 1;
        }
    }

    fn logs(loss: f32) -> Logs {
        let mut l = Logs::new();
        l.set("loss", loss).unwrap();
        l
    }

    #[test]
    fn early_stopping_waits_patience_epochs_and_restores() {
        let mut cb = EarlyStopping {
            monitor: "loss",
            patience: 2,
            restore_best_weights: true,
            ..Default::default()
        };
        let mut ctl = Fake::new(0.1);
        cb.on_train_begin(&mut ctl).unwrap();
        for (epoch, loss) in [1.0, 0.5, 0.6, 0.7].into_iter().enumerate() {
            assert!(!ctl.stop, "stopped before epoch {epoch}");
            cb.on_epoch_end(epoch, &mut logs(loss), &mut ctl).unwrap();
        }
        assert!(ctl.stop);
        assert_eq!(
            (cb.stopped_epoch, cb.best_epoch, cb.best),
            (3, 1, Some(0.5))
        );
        cb.on_train_end(&logs(0.7), &mut ctl).unwrap();
        // Saved on the first epoch (no best yet), on its improvement, and on epoch 1's.
        assert_eq!((ctl.saved, ctl.restored), (3, 1));
    }

    #[test]
    fn min_delta_and_mode() {
        let op = Monitor::new("T", "accuracy", Mode::Auto, 0.1).unwrap();
        assert!(op.is_improvement(0.75, Some(0.6)));
        assert!(!op.is_improvement(0.65, Some(0.6)));
        let op = Monitor::new("T", "val_loss", Mode::Auto, -0.1).unwrap();
        assert!(op.is_improvement(0.45, Some(0.6)));
        assert!(!op.is_improvement(0.55, Some(0.6)));
        assert!(Monitor::new("T", "learning_rate", Mode::Auto, 0.0).is_err());
        assert!(Monitor::new("T", "learning_rate", Mode::Max, 0.0).is_ok());
    }

    #[test]
    fn a_missing_monitor_is_an_error() {
        let mut cb = EarlyStopping::default(); // val_loss, and no validation
        let mut ctl = Fake::new(0.1);
        cb.on_train_begin(&mut ctl).unwrap();
        let err = cb.on_epoch_end(0, &mut logs(1.0), &mut ctl).unwrap_err();
        assert!(matches!(
            err,
            FitError::Monitor {
                monitor: "val_loss",
                ..
            }
        ));
    }

    #[test]
    fn reduce_lr_on_plateau_with_cooldown() {
        let mut cb = ReduceLROnPlateau {
            monitor: "loss",
            factor: 0.5,
            patience: 1,
            cooldown: 1,
            min_lr: 0.02,
            ..Default::default()
        };
        let mut ctl = Fake::new(0.1);
        cb.on_train_begin(&mut ctl).unwrap();
        let mut rates = std::vec::Vec::new();
        for (epoch, loss) in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0].into_iter().enumerate() {
            let mut l = logs(loss);
            cb.on_epoch_end(epoch, &mut l, &mut ctl).unwrap();
            rates.push((l["learning_rate"], ctl.lr));
        }
        // As in Keras, a cooldown of 1 ends on the epoch after the reduction, which then
        // counts towards the patience again: every epoch from 1 on reduces, down to min_lr.
        assert_eq!(
            rates,
            [
                (0.1, 0.1),
                (0.1, 0.05),
                (0.05, 0.025),
                (0.025, 0.02),
                (0.02, 0.02),
                (0.02, 0.02)
            ]
        );
        assert!(ReduceLROnPlateau {
            factor: 1.0,
            ..Default::default()
        }
        .on_train_begin(&mut ctl)
        .is_err());
    }

    #[test]
    fn scheduler_sets_and_logs_the_rate() {
        let mut cb = LearningRateScheduler::new(|epoch, lr| lr * 0.5 + epoch as f64);
        let mut ctl = Fake::new(0.5);
        cb.on_epoch_begin(0, &mut ctl).unwrap();
        assert_eq!(ctl.lr, 0.25);
        let mut l = logs(1.0);
        cb.on_epoch_end(0, &mut l, &mut ctl).unwrap();
        assert_eq!(l["learning_rate"], 0.25);
        ctl.schedule = true;
        let err = cb.on_epoch_begin(1, &mut ctl).unwrap_err();
        assert!(
            std::format!("{err}").contains("LearningRateScheduler"),
            "{err}"
        );
    }
}
