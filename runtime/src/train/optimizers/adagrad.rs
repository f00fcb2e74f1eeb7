use super::base::{sqrt, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Adagrad: Keras's
/// `Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)`.
///
/// `a += g²` (the accumulator starts at `initial_accumulator_value`), then
/// `w −= lr·g / √(a + ε)`.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Adagrad, Optimizer, Var};
///
/// let adagrad = Adagrad { learning_rate: 0.5, epsilon: 0.0, ..Default::default() };
/// let mut accumulator = [0.0f32; 1];
/// adagrad.init_slots(&mut accumulator);
/// assert_eq!(accumulator, [0.1]);
/// let (mut w, mut g) = ([1.0f32], [0.3f32]);
/// adagrad.apply(&mut adagrad.new_state(), &mut [Var::new(&mut w, &mut g, &mut accumulator)])?;
/// assert!((accumulator[0] - 0.19).abs() < 1e-7);
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adagrad {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// The accumulator's starting value.
    pub initial_accumulator_value: f64,
    /// Added to the accumulator under the square root.
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

impl Default for Adagrad {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Adagrad {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Adagrad",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

impl Optimizer for Adagrad {
    fn class_name(&self) -> &'static str {
        "Adagrad"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulator"]
    }

    fn slot_initial(&self, _slot: usize) -> f32 {
        self.initial_accumulator_value as f32
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
        let epsilon = self.epsilon as f32;
        self.base()
            .step(self.slots_per_param(), state, vars, |_, lr, vars| {
                for var in vars {
                    let slots = var.slots.iter_mut();
                    for ((w, &g), a) in var.value.iter_mut().zip(var.grad.iter()).zip(slots) {
                        *a += g * g;
                        *w -= lr * g / sqrt(*a + epsilon);
                    }
                }
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        self.base()
            .saved_variables(variables, self.slot_names(), &[&[0]], false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_shrink_as_the_accumulator_grows() {
        let adagrad = Adagrad {
            learning_rate: 0.1,
            initial_accumulator_value: 0.0,
            epsilon: 0.0,
            ..Default::default()
        };
        let mut state = adagrad.new_state();
        let (mut w, mut a) = ([0.0f32], [0.0f32]);
        let mut steps = [0.0f32; 2];
        for step in &mut steps {
            let before = w[0];
            let mut g = [2.0f32];
            adagrad
                .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut a)])
                .unwrap();
            *step = before - w[0];
        }
        assert_eq!(steps[0], 0.1); // 0.1·2/√4
        assert!((steps[1] - 0.1 / libm::sqrtf(2.0)).abs() < 1e-8);
        assert_eq!(a, [8.0]);
    }
}
