use super::base::{sign, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Lion (evoLved sIgn mOmeNtum): Keras's `Lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99)`.
///
/// `w −= lr·sign(β₁·m + (1 − β₁)·g)` (sign(0) = 0), then `m = β₂·m + (1 − β₂)·g`.
/// `beta_1` must be in (0, 1], as Keras requires.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Lion, Optimizer, Var};
///
/// let lion = Lion { learning_rate: 0.25, ..Default::default() };
/// let (mut w, mut g, mut m) = ([1.0f32, 1.0, 1.0], [3.0f32, -0.001, 0.0], [0.0f32; 3]);
/// lion.apply(&mut lion.new_state(), &mut [Var::new(&mut w, &mut g, &mut m)])?;
/// assert_eq!(w, [0.75, 1.25, 1.0]); // every step has the same size
/// assert!(Lion { beta_1: 0.0, ..Default::default() }.validate().is_err());
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lion {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Interpolation between momentum and gradient for the step's sign; in (0, 1].
    pub beta_1: f64,
    /// Decay of the momentum.
    pub beta_2: f64,
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

impl Default for Lion {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            beta_1: 0.9,
            beta_2: 0.99,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Lion {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Lion",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

impl Optimizer for Lion {
    fn class_name(&self) -> &'static str {
        "Lion"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        if !(self.beta_1 > 0.0 && self.beta_1 <= 1.0) {
            return Err(OptimizerError::OutOfRange {
                optimizer: "Lion",
                argument: "beta_1",
                value: self.beta_1,
                range: "in (0, 1]",
            });
        }
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum"]
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
        let (beta_1, beta_2) = (self.beta_1 as f32, self.beta_2 as f32);
        self.base()
            .step(self.slots_per_param(), state, vars, |_, lr, vars| {
                for var in vars {
                    let slots = var.slots.iter_mut();
                    for ((w, &g), m) in var.value.iter_mut().zip(var.grad.iter()).zip(slots) {
                        *w -= lr * sign(*m * beta_1 + g * (1.0 - beta_1));
                        *m = *m * beta_2 + g * (1.0 - beta_2);
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
    fn momentum_can_outvote_the_gradient() {
        let lion = Lion {
            learning_rate: 1.0,
            beta_1: 0.9,
            beta_2: 0.5,
            ..Default::default()
        };
        let (mut w, mut g, mut m) = ([0.0f32], [-1.0f32], [2.0f32]);
        lion.apply(
            &mut lion.new_state(),
            &mut [Var::new(&mut w, &mut g, &mut m)],
        )
        .unwrap();
        assert_eq!(w, [-1.0]); // sign(0.9·2 − 0.1) = 1
        assert_eq!(m, [0.5]); // 0.5·2 − 0.5
    }
}
