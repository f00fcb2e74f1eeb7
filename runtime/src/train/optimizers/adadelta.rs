use super::base::{one_minus, sqrt, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Adadelta: Keras's `Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)`.
///
/// * `E[g²] = ρ·E[g²] + (1 − ρ)·g²`
/// * `Δ = −√(E[Δ²] + ε)·g / √(E[g²] + ε)` (with the **old** `E[Δ²]`)
/// * `E[Δ²] = ρ·E[Δ²] + (1 − ρ)·Δ²`
/// * `w += lr·Δ`
///
/// Keras's default learning rate is 0.001 (PyTorch's is 1.0).
///
/// ```
/// use static_keras_runtime::train::optimizers::{Adadelta, Optimizer, Var};
///
/// let adadelta = Adadelta { learning_rate: 1.0, ..Default::default() };
/// assert_eq!(adadelta.slot_names(), ["accumulated_grad", "accumulated_delta_var"]);
/// let mut state = adadelta.new_state();
/// let (mut w, mut g, mut slots) = ([0.0f32], [1.0f32], [0.0f32; 2]);
/// adadelta.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert!(w[0] < 0.0 && w[0] > -0.01); // the first steps are tiny: E[Δ²] starts at 0
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adadelta {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decay of the moving averages.
    pub rho: f64,
    /// Added under both square roots.
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

impl Default for Adadelta {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            rho: 0.95,
            epsilon: 1e-7,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Adadelta {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Adadelta",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

fn update(var: &mut Var<'_>, lr: f32, rho: f32, one_minus_rho: f32, epsilon: f32) {
    let n = var.value.len();
    let (grads, deltas) = var.slots.split_at_mut(n);
    for i in 0..n {
        let g = var.grad[i];
        grads[i] = rho * grads[i] + one_minus_rho * (g * g);
        let delta = -(sqrt(deltas[i] + epsilon) * g / sqrt(grads[i] + epsilon));
        deltas[i] = rho * deltas[i] + one_minus_rho * (delta * delta);
        var.value[i] += lr * delta;
    }
}

impl Optimizer for Adadelta {
    fn class_name(&self) -> &'static str {
        "Adadelta"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulated_grad", "accumulated_delta_var"]
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
        let epsilon = self.epsilon as f32;
        self.base()
            .step(self.slots_per_param(), state, vars, |_, lr, vars| {
                for var in vars {
                    update(var, lr, rho, one_minus_rho, epsilon);
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
    fn first_step_by_hand() {
        let adadelta = Adadelta {
            learning_rate: 1.0,
            rho: 0.5,
            epsilon: 0.25,
            ..Default::default()
        };
        let (mut w, mut g, mut s) = ([0.0f32], [1.0f32], [0.0f32; 2]);
        adadelta
            .apply(
                &mut adadelta.new_state(),
                &mut [Var::new(&mut w, &mut g, &mut s)],
            )
            .unwrap();
        // E[g²] = 0.5; Δ = −√0.25·1/√0.75; E[Δ²] = 0.5·Δ²
        let delta = -0.5 / libm::sqrtf(0.75);
        assert_eq!(s[0], 0.5);
        assert!((w[0] - delta).abs() < 1e-7);
        assert!((s[1] - 0.5 * delta * delta).abs() < 1e-7);
    }
}
