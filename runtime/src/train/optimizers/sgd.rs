use super::base::Base;
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Gradient descent with optional momentum: Keras's
/// `SGD(learning_rate=0.01, momentum=0.0, nesterov=False)`.
///
/// | `momentum` | update |
/// |---|---|
/// | 0 | `w −= lr·g` |
/// | μ | `m = μ·m − lr·g`, then `w += m`; with `nesterov`, `w += μ·m − lr·g` (the new `m`) |
///
/// The learning rate sits inside the momentum buffer (PyTorch keeps it outside), so the two agree
/// only while the rate is constant. `weight_decay` is decoupled (`w −= w·wd·lr` before the
/// update), not an L2 term in the gradient.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Optimizer, Sgd, Var};
///
/// let sgd = Sgd { learning_rate: 0.1, momentum: 0.9, ..Default::default() };
/// let mut state = sgd.new_state();
/// let (mut w, mut m) = ([1.0f32], [0.0f32]);
/// for _ in 0..2 {
///     let mut g = [1.0f32];
///     sgd.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut m)])?;
/// }
/// assert_eq!(m, [-0.19]); // 0.9·(−0.1) − 0.1
/// assert!((w[0] - 0.71).abs() < 1e-6);
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Momentum factor in [0, 1]; 0 keeps no momentum buffer.
    pub momentum: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
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

impl Default for Sgd {
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
            momentum: 0.0,
            nesterov: false,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            schedule: None,
        }
    }
}

impl Sgd {
    fn base(&self) -> Base<'_> {
        Base {
            class: "SGD",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

/// `m = μ·m − lr·g`, then `w += m` (or `w += μ·m − lr·g` with Nesterov).
fn update_momentum(w: &mut [f32], g: &[f32], m: &mut [f32], mu: f32, lr: f32, nesterov: bool) {
    for ((w, &g), m) in w.iter_mut().zip(g).zip(m) {
        *m = *m * mu - g * lr;
        *w = if nesterov {
            *w + (*m * mu - g * lr)
        } else {
            *w + *m
        };
    }
}

impl Optimizer for Sgd {
    fn class_name(&self) -> &'static str {
        "SGD"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(OptimizerError::OutOfRange {
                optimizer: "SGD",
                argument: "momentum",
                value: self.momentum,
                range: "in [0, 1]",
            });
        }
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum"]
        } else {
            &[]
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
        let momentum = self.momentum != 0.0;
        let mu = self.momentum as f32;
        let nesterov = self.nesterov;
        self.base()
            .step(self.slots_per_param(), state, vars, |_, lr, vars| {
                for var in vars {
                    if momentum {
                        update_momentum(var.value, var.grad, var.slots, mu, lr, nesterov);
                    } else {
                        for (w, &g) in var.value.iter_mut().zip(var.grad.iter()) {
                            *w -= g * lr;
                        }
                    }
                }
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        let groups: &'static [&'static [usize]] = if self.momentum != 0.0 { &[&[0]] } else { &[] };
        self.base()
            .saved_variables(variables, self.slot_names(), groups, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn plain_step_and_nesterov() {
        let sgd = Sgd {
            learning_rate: 0.5,
            ..Default::default()
        };
        let mut state = sgd.new_state();
        let (mut w, mut g) = ([1.0f32, 2.0], [1.0f32, -2.0]);
        sgd.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut [])])
            .unwrap();
        assert_eq!(w, [0.5, 3.0]);
        assert_eq!(sgd.slots_per_param(), 0);

        let nesterov = Sgd {
            learning_rate: 0.5,
            momentum: 0.5,
            nesterov: true,
            ..Default::default()
        };
        let (mut w, mut g, mut m) = ([1.0f32], [1.0f32], [0.0f32]);
        let mut state = nesterov.new_state();
        nesterov
            .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut m)])
            .unwrap();
        assert_eq!(m, [-0.5]);
        assert_eq!(w, [0.25]); // 1 + (0.5·(−0.5) − 0.5)
    }

    #[test]
    fn weight_decay_comes_first() {
        let sgd = Sgd {
            learning_rate: 0.5,
            weight_decay: Some(0.5),
            ..Default::default()
        };
        let (mut w, mut g) = ([2.0f32], [1.0f32]);
        sgd.apply(
            &mut sgd.new_state(),
            &mut [Var::new(&mut w, &mut g, &mut [])],
        )
        .unwrap();
        assert_eq!(w, [1.0]); // 2 − 2·0.5·0.5 = 1.5, then − 0.5·1
    }

    #[test]
    fn bad_momentum_and_bad_buffers_are_errors() {
        let err = Sgd {
            momentum: 1.5,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD: `momentum` must be in [0, 1], got 1.5"
        );

        let sgd = Sgd {
            momentum: 0.9,
            ..Default::default()
        };
        let mut state = sgd.new_state();
        let (mut w, mut g, mut m) = ([1.0f32, 2.0], [1.0f32, 1.0], [0.0f32]);
        let err = sgd
            .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut m)])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD: variable 0: the slots buffer has 1 values but needs 2"
        );
        assert_eq!((w, state.iterations), ([1.0, 2.0], 0)); // nothing touched
    }
}
