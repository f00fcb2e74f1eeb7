use super::base::{one_minus, sqrt, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// RMSprop: Keras's
/// `RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)`.
///
/// * `v = ρ·v + (1 − ρ)·g²`
/// * `centered`: `ḡ = ρ·ḡ + (1 − ρ)·g`, `d = v − ḡ² + ε`; otherwise `d = v + ε`
/// * `inc = lr·g / √d` (ε inside the root)
/// * `momentum > 0`: `b = μ·b + inc`, `w −= b`; otherwise `w −= inc`
///
/// Slots: `velocity`, then `momentum` if `momentum > 0`, then `average_gradient` if `centered`.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Optimizer, RmsProp, Var};
///
/// let rmsprop = RmsProp { momentum: 0.9, centered: true, ..Default::default() };
/// assert_eq!(rmsprop.slot_names(), ["velocity", "momentum", "average_gradient"]);
/// let mut state = rmsprop.new_state();
/// let (mut w, mut g, mut slots) = ([1.0f32], [2.0f32], [0.0f32; 3]);
/// rmsprop.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert_eq!(slots[0], 0.4); // 0.1·2²
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsProp {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decay of the moving averages.
    pub rho: f64,
    /// Momentum factor; only a positive value keeps a momentum buffer.
    pub momentum: f64,
    /// Added to the denominator under the square root.
    pub epsilon: f64,
    /// Divide by the variance (centred second moment) instead of the second moment.
    pub centered: bool,
    /// Decoupled weight decay, applied before the update.
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

impl Default for RmsProp {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl RmsProp {
    fn base(&self) -> Base<'_> {
        Base {
            class: "RMSprop",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

fn update(var: &mut Var<'_>, lr: f32, rho: f32, one_minus_rho: f32, r: &RmsProp) {
    let n = var.value.len();
    let (velocity, rest) = var.slots.split_at_mut(n);
    let (momentum, average) = if r.momentum > 0.0 {
        rest.split_at_mut(n)
    } else {
        rest.split_at_mut(0)
    };
    let (mu, epsilon) = (r.momentum as f32, r.epsilon as f32);
    for i in 0..n {
        let g = var.grad[i];
        velocity[i] = rho * velocity[i] + one_minus_rho * (g * g);
        let denominator = if r.centered {
            average[i] = rho * average[i] + one_minus_rho * g;
            velocity[i] - average[i] * average[i] + epsilon
        } else {
            velocity[i] + epsilon
        };
        let increment = lr * g / sqrt(denominator);
        var.value[i] = if r.momentum > 0.0 {
            momentum[i] = mu * momentum[i] + increment;
            var.value[i] - momentum[i]
        } else {
            var.value[i] - increment
        };
    }
}

impl Optimizer for RmsProp {
    fn class_name(&self) -> &'static str {
        "RMSprop"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["velocity"],
            (true, false) => &["velocity", "momentum"],
            (false, true) => &["velocity", "average_gradient"],
            (true, true) => &["velocity", "momentum", "average_gradient"],
        }
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
        let (rho, one_minus_rho) = (self.rho as f32, one_minus(self.rho));
        self.base()
            .step(self.slots_per_param(), state, vars, |_, lr, vars| {
                for var in vars {
                    update(var, lr, rho, one_minus_rho, self);
                }
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        // Keras adds each kind of slot for every variable before the next kind.
        const GROUPS: [&[usize]; 3] = [&[0], &[1], &[2]];
        let groups = &GROUPS[..self.slots_per_param()];
        self.base()
            .saved_variables(variables, self.slot_names(), groups, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_step_divides_by_the_root_mean_square() {
        let rmsprop = RmsProp {
            learning_rate: 0.1,
            epsilon: 0.0,
            ..Default::default()
        };
        let (mut w, mut g, mut v) = ([1.0f32], [2.0f32], [0.0f32]);
        rmsprop
            .apply(
                &mut rmsprop.new_state(),
                &mut [Var::new(&mut w, &mut g, &mut v)],
            )
            .unwrap();
        // v = 0.4, inc = 0.1·2/√0.4
        assert!((w[0] - (1.0 - 0.2 / libm::sqrtf(0.4))).abs() < 1e-7);
    }

    #[test]
    fn centered_variance_of_a_constant_gradient_is_small() {
        let rmsprop = RmsProp {
            learning_rate: 0.01,
            centered: true,
            ..Default::default()
        };
        let mut state = rmsprop.new_state();
        let (mut w, mut s) = ([0.0f32], [0.0f32; 2]);
        for _ in 0..3 {
            let mut g = [1.0f32];
            rmsprop
                .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut s)])
                .unwrap();
        }
        let (v, avg) = (s[0], s[1]);
        assert!((v - 0.271).abs() < 1e-6 && (avg - 0.271).abs() < 1e-6);
        assert!(v - avg * avg > 0.0);
    }

    #[test]
    fn the_most_slots_fit_the_bound() {
        let all = RmsProp {
            momentum: 0.5,
            centered: true,
            ..Default::default()
        };
        assert_eq!(
            all.slots_per_param(),
            crate::train::optimizers::MAX_SLOTS_PER_PARAM
        );
    }

    #[test]
    fn negative_momentum_keeps_no_buffer_as_in_keras() {
        let rmsprop = RmsProp {
            momentum: -0.5,
            ..Default::default()
        };
        assert_eq!(rmsprop.slot_names(), ["velocity"]);
    }
}
