use super::base::{maximum, one_minus, pow, sqrt, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Adam: Keras's
/// `Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`.
///
/// With `t` the iteration count before the step:
///
/// * `α = lr·√(1 − β₂^(t+1)) / (1 − β₁^(t+1))`
/// * `m += (g − m)·(1 − β₁)`, `v += (g² − v)·(1 − β₂)`
/// * with `amsgrad`: `v̂ = max(v̂, v)`, used in place of `v`
/// * `w −= m·α / (√v + ε)`
/// * `m` and `v` below f32's normal range are stored as 0, as XLA's CPU code (which flushes
///   subnormals) leaves them
///
/// ε is added after the bias correction, not to `√v̂` as in PyTorch.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Adam, Optimizer, Var};
///
/// let adam = Adam { learning_rate: 0.1, amsgrad: true, ..Default::default() };
/// assert_eq!(adam.slot_names(), ["momentum", "velocity", "velocity_hat"]);
/// let mut state = adam.new_state();
/// let (mut w, mut g, mut slots) = ([1.0f32], [-3.0f32], [0.0f32; 3]);
/// adam.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert!((w[0] - 1.1).abs() < 1e-5);
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta_1: f64,
    /// Decay of the second moment.
    pub beta_2: f64,
    /// Added to `√v` in the denominator.
    pub epsilon: f64,
    /// Keep the maximum of the second moments (AMSGrad).
    pub amsgrad: bool,
    /// Decoupled weight decay, applied before the update (this makes it [`AdamW`](super::AdamW)).
    pub weight_decay: Option<f64>,
    /// Clip each variable's gradient to this L2 norm.
    pub clipnorm: Option<f64>,
    /// Clip each gradient element to `[-clipvalue, clipvalue]`.
    pub clipvalue: Option<f64>,
    /// Clip all gradients together to this global L2 norm.
    pub global_clipnorm: Option<f64>,
    /// A learning-rate schedule that replaces `learning_rate`.
    pub schedule: Option<Schedule>,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Adam {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Adam",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

pub(crate) const SLOTS: [&str; 3] = ["momentum", "velocity", "velocity_hat"];

pub(crate) fn slot_names(amsgrad: bool) -> &'static [&'static str] {
    if amsgrad {
        &SLOTS
    } else {
        &SLOTS[..2]
    }
}

pub(crate) fn groups(amsgrad: bool) -> &'static [&'static [usize]] {
    if amsgrad {
        &[&[0, 1], &[2]]
    } else {
        &[&[0, 1]]
    }
}

/// A subnormal moment as zero, as XLA's CPU code leaves it (it runs with subnormals flushed).
///
/// Without this, the momentum of a weight whose gradient has become exactly zero decays into
/// the subnormals and stays there (`m − 0.1·m` rounds back to `m` once `m` is a few times the
/// smallest subnormal), and every later step computes on subnormals, which x86 does in
/// microcode, ~100× slower (M1 trained on one batch: 0.24 ms a step at first, 1.0 ms after a
/// few thousand steps). The weight's update from such a moment is below 1e-40 either way.
#[inline]
fn flush(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// Adam's rule over every variable (shared with AdamW).
pub(crate) fn update(
    vars: &mut [Var<'_>],
    t: u64,
    lr: f32,
    (beta_1, beta_2, epsilon, amsgrad): (f64, f64, f64, bool),
) {
    let step = (t + 1) as f32;
    let beta_1_power = pow(beta_1 as f32, step);
    let beta_2_power = pow(beta_2 as f32, step);
    let alpha = lr * sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power);
    let (one_minus_beta_1, one_minus_beta_2) = (one_minus(beta_1), one_minus(beta_2));
    let epsilon = epsilon as f32;
    for var in vars {
        let n = var.value.len();
        let (m, rest) = var.slots.split_at_mut(n);
        let (v, v_hat) = rest.split_at_mut(n);
        let (w, grad) = (&mut *var.value, &*var.grad);
        // Two loops without a branch or an index inside, which the compiler vectorizes (every
        // operation is IEEE's, so the bits are those of one element at a time).
        if amsgrad {
            for ((((w, &g), m), v), v_hat) in w.iter_mut().zip(grad).zip(m).zip(v).zip(v_hat) {
                *m = flush(*m + (g - *m) * one_minus_beta_1);
                *v = flush(*v + (g * g - *v) * one_minus_beta_2);
                *v_hat = maximum(*v_hat, *v);
                *w -= *m * alpha / (sqrt(*v_hat) + epsilon);
            }
        } else {
            for (((w, &g), m), v) in w.iter_mut().zip(grad).zip(m).zip(v) {
                *m = flush(*m + (g - *m) * one_minus_beta_1);
                *v = flush(*v + (g * g - *v) * one_minus_beta_2);
                *w -= *m * alpha / (sqrt(*v) + epsilon);
            }
        }
    }
}

impl Optimizer for Adam {
    fn class_name(&self) -> &'static str {
        "Adam"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        slot_names(self.amsgrad)
    }

    fn new_state(&self) -> OptimizerState {
        self.base().new_state()
    }

    fn current_learning_rate(&self, state: &OptimizerState) -> f32 {
        self.base().learning_rate(state)
    }

    fn apply(
        &self,
        state: &mut OptimizerState,
        vars: &mut [Var<'_>],
    ) -> Result<(), OptimizerError> {
        self.validate()?;
        let args = (self.beta_1, self.beta_2, self.epsilon, self.amsgrad);
        self.base()
            .step(self.slots_per_param(), state, vars, |state, lr, vars| {
                update(vars, state.iterations, lr, args)
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        self.base()
            .saved_variables(variables, self.slot_names(), groups(self.amsgrad), false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_the_learning_rate() {
        // m = 0.1g, v = 0.001g², α = lr·√0.001/0.1: the step is lr·g/|g| up to ε.
        let adam = Adam::default();
        let mut state = adam.new_state();
        let (mut w, mut g, mut s) = ([0.0f32, 0.0], [2.0f32, -0.5], [0.0f32; 4]);
        adam.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut s)])
            .unwrap();
        assert!((w[0] + 0.001).abs() < 1e-7 && (w[1] - 0.001).abs() < 1e-7);
        assert_eq!(&s[..2], [0.2, -0.05]);
        assert!((s[2] - 0.004).abs() < 1e-9);
    }

    #[test]
    fn amsgrad_keeps_the_largest_velocity() {
        let adam = Adam {
            amsgrad: true,
            ..Default::default()
        };
        let mut state = adam.new_state();
        let mut w = [0.0f32];
        let mut s = [0.0f32; 3];
        for g in [10.0f32, 0.0] {
            let mut g = [g];
            adam.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut s)])
                .unwrap();
        }
        assert!(s[1] < s[2]); // v decayed, v̂ kept its peak
        assert_eq!(state.iterations, 2);
    }
}
