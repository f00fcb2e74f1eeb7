use super::base::{maximum, one_minus, pow, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Adamax, Adam with the infinity norm: Keras's
/// `Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)`.
///
/// * `m += (g − m)·(1 − β₁)`
/// * `u = max(β₂·u, |g|)`
/// * `w −= lr·m / ((1 − β₁^(t+1))·(u + ε))` (PyTorch puts ε inside the max)
///
/// ```
/// use static_keras_runtime::train::optimizers::{Adamax, Optimizer, Var};
///
/// let adamax = Adamax { learning_rate: 0.1, ..Default::default() };
/// assert_eq!(adamax.slot_names(), ["momentum", "norm"]);
/// let (mut w, mut g, mut slots) = ([1.0f32], [-4.0f32], [0.0f32; 2]);
/// adamax.apply(&mut adamax.new_state(), &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert_eq!(slots[1], 4.0);
/// assert!((w[0] - 1.1).abs() < 1e-5);
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adamax {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta_1: f64,
    /// Decay of the infinity norm.
    pub beta_2: f64,
    /// Added to the norm in the denominator.
    pub epsilon: f64,
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

impl Default for Adamax {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Adamax {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Adamax",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

impl Optimizer for Adamax {
    fn class_name(&self) -> &'static str {
        "Adamax"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "norm"]
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
        let one_minus_beta_1 = one_minus(self.beta_1);
        let (beta_1, beta_2, epsilon) =
            (self.beta_1 as f32, self.beta_2 as f32, self.epsilon as f32);
        self.base()
            .step(self.slots_per_param(), state, vars, |state, lr, vars| {
                let beta_1_power = pow(beta_1, (state.iterations + 1) as f32);
                for var in vars {
                    let n = var.value.len();
                    let (m, u) = var.slots.split_at_mut(n);
                    for i in 0..n {
                        let g = var.grad[i];
                        m[i] = m[i] + (g - m[i]) * one_minus_beta_1;
                        u[i] = maximum(beta_2 * u[i], libm::fabsf(g));
                        var.value[i] -= lr * m[i] / ((1.0 - beta_1_power) * (u[i] + epsilon));
                    }
                }
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        self.base()
            .saved_variables(variables, self.slot_names(), &[&[0, 1]], false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_decays_until_a_larger_gradient() {
        let adamax = Adamax {
            beta_2: 0.5,
            ..Default::default()
        };
        let mut state = adamax.new_state();
        let (mut w, mut s) = ([0.0f32], [0.0f32; 2]);
        for (g, norm) in [(4.0f32, 4.0f32), (1.0, 2.0), (-3.0, 3.0)] {
            let mut g = [g];
            adamax
                .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut s)])
                .unwrap();
            assert_eq!(s[1], norm);
        }
    }
}
