//! Keras's learning-rate schedules (`keras.optimizers.schedules`).

use super::base::{cos, minimum, pow};
use super::OptimizerError;

/// A learning-rate schedule, set on an optimizer through its `schedule` field. It replaces the
/// optimizer's `learning_rate` and is evaluated at `iterations` before each step, so the first
/// step uses `schedule(0)`. As in Keras, an optimizer with a schedule saves no `learning_rate`
/// variable.
///
/// ```
/// use static_keras_runtime::train::optimizers::{ExponentialDecay, Optimizer, Schedule, Sgd};
///
/// let sgd = Sgd {
///     momentum: 0.9,
///     schedule: Some(Schedule::ExponentialDecay(ExponentialDecay::new(0.1, 100, 0.5))),
///     ..Default::default()
/// };
/// let mut state = sgd.new_state();
/// assert_eq!(sgd.current_learning_rate(&state), 0.1);
/// state.iterations = 100;
/// assert_eq!(sgd.current_learning_rate(&state), 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Keras's `ExponentialDecay`.
    ExponentialDecay(ExponentialDecay),
    /// Keras's `CosineDecay`.
    CosineDecay(CosineDecay),
}

impl Schedule {
    /// The learning rate at step `step` (Keras's `schedule(step)`).
    pub fn learning_rate(&self, step: u64) -> f32 {
        match self {
            Schedule::ExponentialDecay(s) => s.learning_rate(step),
            Schedule::CosineDecay(s) => s.learning_rate(step),
        }
    }

    /// Checks the arguments as Keras's constructor does (`decay_steps > 0`).
    pub fn validate(&self) -> Result<(), OptimizerError> {
        let (schedule, decay_steps) = match self {
            Schedule::ExponentialDecay(s) => ("ExponentialDecay", s.decay_steps),
            Schedule::CosineDecay(s) => ("CosineDecay", s.decay_steps),
        };
        if decay_steps == 0 {
            return Err(OptimizerError::OutOfRange {
                optimizer: schedule,
                argument: "decay_steps",
                value: 0.0,
                range: "> 0",
            });
        }
        Ok(())
    }
}

impl From<ExponentialDecay> for Schedule {
    fn from(s: ExponentialDecay) -> Self {
        Schedule::ExponentialDecay(s)
    }
}

impl From<CosineDecay> for Schedule {
    fn from(s: CosineDecay) -> Self {
        Schedule::CosineDecay(s)
    }
}

/// `lr(t) = initial_learning_rate · decay_rate^(t / decay_steps)`; with `staircase` the exponent
/// is `floor(t / decay_steps)`. Keras's
/// `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)`.
///
/// ```
/// use static_keras_runtime::train::optimizers::ExponentialDecay;
///
/// let s = ExponentialDecay { staircase: true, ..ExponentialDecay::new(0.1, 2, 0.5) };
/// assert_eq!(s.learning_rate(3), 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// Steps over which the rate is multiplied by `decay_rate`; must be > 0.
    pub decay_steps: u64,
    /// The factor per `decay_steps` steps.
    pub decay_rate: f64,
    /// Decay in whole periods of `decay_steps` steps.
    pub staircase: bool,
}

impl ExponentialDecay {
    /// The schedule with Keras's default `staircase=False`.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Self {
        Self {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
        }
    }

    /// The learning rate at step `step`.
    pub fn learning_rate(&self, step: u64) -> f32 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = libm::floorf(p);
        }
        self.initial_learning_rate as f32 * pow(self.decay_rate as f32, p)
    }
}

/// Cosine decay from `initial_learning_rate` to `alpha · initial_learning_rate` over
/// `decay_steps`, optionally after a linear warmup to `warmup_target` over `warmup_steps`.
/// Keras's `CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None,
/// warmup_steps=0)`:
///
/// * without `warmup_target`: `s = min(t, decay_steps)`,
///   `lr = initial · ((1 − α)·½(1 + cos(π·s/decay_steps)) + α)`;
/// * with it: `s = min(t, decay_steps + warmup_steps)`; while `s < warmup_steps`,
///   `lr = initial + (warmup_target − initial)·s/warmup_steps`; afterwards the cosine decay from
///   `warmup_target` at `s − warmup_steps`.
///
/// ```
/// use static_keras_runtime::train::optimizers::CosineDecay;
///
/// let s = CosineDecay { alpha: 0.1, ..CosineDecay::new(1.0, 10) };
/// assert_eq!(s.learning_rate(0), 1.0);
/// assert_eq!(s.learning_rate(10), 0.1);
/// assert_eq!(s.learning_rate(50), 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineDecay {
    /// The rate at step 0.
    pub initial_learning_rate: f64,
    /// Length of the decay (after the warmup); must be > 0.
    pub decay_steps: u64,
    /// The final rate as a fraction of the rate the decay starts from.
    pub alpha: f64,
    /// The rate the warmup reaches and the decay starts from; `None`: no warmup.
    pub warmup_target: Option<f64>,
    /// Length of the warmup.
    pub warmup_steps: u64,
}

impl CosineDecay {
    /// The schedule with Keras's defaults `alpha=0.0`, no warmup.
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Self {
        Self {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0,
        }
    }

    /// The learning rate at step `step`.
    pub fn learning_rate(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some(target) = self.warmup_target else {
            return self.decay(minimum(step, decay_steps), decay_steps, initial, false);
        };
        // With a warmup Keras picks the branch with `ops.cond`, which JAX compiles: XLA then fuses
        // each `a·b + c` into one fused multiply-add (on hardware that has it), so this path
        // rounds once where the path without warmup, run op by op, rounds twice.
        let target = target as f32;
        let warmup_steps = self.warmup_steps as f32;
        let step = minimum(step, decay_steps + warmup_steps);
        if step < warmup_steps {
            libm::fmaf(target - initial, step / warmup_steps, initial)
        } else {
            self.decay(step - warmup_steps, decay_steps, target, true)
        }
    }

    fn decay(&self, step: f32, decay_steps: f32, from: f32, fused: bool) -> f32 {
        let fraction = step / decay_steps;
        let cosine = 0.5 * (1.0 + cos(core::f32::consts::PI * fraction));
        // `(1 - alpha)` is a Python float: computed in double precision, then rounded.
        let (scale, alpha) = ((1.0 - self.alpha) as f32, self.alpha as f32);
        let decayed = if fused {
            libm::fmaf(scale, cosine, alpha)
        } else {
            scale * cosine + alpha
        };
        from * decayed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn exponential_decay_matches_the_formula() {
        let s = ExponentialDecay::new(0.1, 2, 0.5);
        assert_eq!(s.learning_rate(0), 0.1);
        assert_eq!(s.learning_rate(2), 0.05);
        assert_eq!(s.learning_rate(4), 0.025);
        assert!((s.learning_rate(1) - 0.070_710_68).abs() < 1e-8);
        let stairs = ExponentialDecay {
            staircase: true,
            ..s
        };
        assert_eq!(stairs.learning_rate(1), 0.1);
        assert_eq!(stairs.learning_rate(3), 0.05);
    }

    #[test]
    fn cosine_decay_reaches_alpha_and_stays() {
        let s = CosineDecay {
            alpha: 0.25,
            ..CosineDecay::new(0.2, 4)
        };
        assert_eq!(s.learning_rate(0), 0.2);
        assert!((s.learning_rate(2) - 0.2 * (0.75 * 0.5 + 0.25)).abs() < 1e-8);
        assert_eq!(s.learning_rate(4), 0.05);
        assert_eq!(s.learning_rate(1000), 0.05);
    }

    #[test]
    fn cosine_warmup_is_linear_then_decays_from_the_target() {
        let s = CosineDecay {
            warmup_target: Some(1.0),
            warmup_steps: 4,
            ..CosineDecay::new(0.0, 2)
        };
        assert_eq!(s.learning_rate(0), 0.0);
        assert_eq!(s.learning_rate(1), 0.25);
        assert_eq!(s.learning_rate(3), 0.75);
        assert_eq!(s.learning_rate(4), 1.0);
        assert!((s.learning_rate(5) - 0.5).abs() < 1e-7);
        assert_eq!(s.learning_rate(6), 0.0);
        assert_eq!(s.learning_rate(60), 0.0);
    }

    #[test]
    fn zero_decay_steps_is_an_error() {
        let s = Schedule::from(CosineDecay::new(0.1, 0));
        let err = s.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "CosineDecay: `decay_steps` must be > 0, got 0"
        );
        assert!(Schedule::from(ExponentialDecay::new(0.1, 1, 0.5))
            .validate()
            .is_ok());
    }
}
