use super::adam;
use super::base::Base;
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Adam with decoupled weight decay: Keras's `AdamW(learning_rate=0.001, weight_decay=0.004,
/// beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`.
///
/// Each step first decays every variable, `w −= w·wd·lr`, then applies [`Adam`](super::Adam)'s
/// rule. `weight_decay: None` is an error, as in Keras.
///
/// ```
/// use static_keras_runtime::train::optimizers::{AdamW, Optimizer, Var};
///
/// let adamw = AdamW { learning_rate: 0.1, weight_decay: Some(0.5), ..Default::default() };
/// let mut state = adamw.new_state();
/// let (mut w, mut g, mut slots) = ([2.0f32], [0.0f32], [0.0f32; 2]);
/// adamw.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert_eq!(w, [1.9]); // 2 − 2·0.5·0.1; a zero gradient moves nothing
///
/// let none = AdamW { weight_decay: None, ..Default::default() };
/// assert!(none.validate().is_err());
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decoupled weight decay, applied before the update; required.
    pub weight_decay: Option<f64>,
    /// Decay of the first moment.
    pub beta_1: f64,
    /// Decay of the second moment.
    pub beta_2: f64,
    /// Added to `√v` in the denominator.
    pub epsilon: f64,
    /// Keep the maximum of the second moments (AMSGrad).
    pub amsgrad: bool,
    /// Clip each variable's gradient to this L2 norm.
    pub clipnorm: Option<f64>,
    /// Clip each gradient element to `[-clipvalue, clipvalue]`.
    pub clipvalue: Option<f64>,
    /// Clip all gradients together to this global L2 norm.
    pub global_clipnorm: Option<f64>,
    /// A learning-rate schedule that replaces `learning_rate`.
    pub schedule: Option<Schedule>,
}

impl Default for AdamW {
    fn default() -> Self {
        Self {
            learning_rate: 0.001,
            weight_decay: Some(0.004),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl AdamW {
    fn base(&self) -> Base<'_> {
        Base {
            class: "AdamW",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

impl Optimizer for AdamW {
    fn class_name(&self) -> &'static str {
        "AdamW"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        if self.weight_decay.is_none() {
            return Err(OptimizerError::MissingWeightDecay { optimizer: "AdamW" });
        }
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        adam::slot_names(self.amsgrad)
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
                adam::update(vars, state.iterations, lr, args)
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        self.base().saved_variables(
            variables,
            self.slot_names(),
            adam::groups(self.amsgrad),
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::optimizers::Adam;

    #[test]
    fn equals_adam_with_the_same_weight_decay() {
        let adamw = AdamW {
            learning_rate: 0.1,
            weight_decay: Some(0.3),
            ..Default::default()
        };
        let adam = Adam {
            learning_rate: 0.1,
            weight_decay: Some(0.3),
            ..Default::default()
        };
        let (mut a, mut b) = ([1.0f32, -2.0], [1.0f32, -2.0]);
        let (mut sa, mut sb) = ([0.0f32; 4], [0.0f32; 4]);
        let (mut ta, mut tb) = (adamw.new_state(), adam.new_state());
        for step in 0..3 {
            let g = [0.5 - step as f32, 0.25 * step as f32];
            let (mut ga, mut gb) = (g, g);
            adamw
                .apply(&mut ta, &mut [Var::new(&mut a, &mut ga, &mut sa)])
                .unwrap();
            adam.apply(&mut tb, &mut [Var::new(&mut b, &mut gb, &mut sb)])
                .unwrap();
        }
        assert_eq!((a, sa), (b, sb));
    }

    #[test]
    fn missing_weight_decay_is_an_error() {
        let adamw = AdamW {
            weight_decay: None,
            ..Default::default()
        };
        let (mut w, mut g, mut s) = ([1.0f32], [1.0f32], [0.0f32; 2]);
        let err = adamw
            .apply(
                &mut adamw.new_state(),
                &mut [Var::new(&mut w, &mut g, &mut s)],
            )
            .unwrap_err();
        assert_eq!(
            err,
            OptimizerError::MissingWeightDecay { optimizer: "AdamW" }
        );
        assert_eq!(w, [1.0]);
    }
}
