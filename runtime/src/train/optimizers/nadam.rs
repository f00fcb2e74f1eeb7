use super::base::{pow, sqrt, Base};
use super::{Optimizer, OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// Nadam, Adam with Nesterov momentum: Keras's
/// `Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)`.
///
/// With `μ(k) = β₁·(1 − ½·0.96^k)` and `t` the iteration count before the step:
///
/// * once per step, before the variables: `P ← P·μ(t+1)` ([`OptimizerState::u_product`],
///   starting at 1)
/// * `m += (g − m)·(1 − β₁)`, `v += (g² − v)·(1 − β₂)`
/// * `m̂ = μ(t+2)·m / (1 − P·μ(t+2)) + (1 − μ(t+1))·g / (1 − P)`, `v̂ = v / (1 − β₂^(t+1))`
/// * `w −= m̂·lr / (√v̂ + ε)`
///
/// PyTorch's NAdam uses `0.96^(0.004·k)` instead of `0.96^k`. Here `1 − β₁` is `1 − f32(β₁)`
/// (0.100000024 for 0.9), as Keras computes it.
///
/// ```
/// use static_keras_runtime::train::optimizers::{Nadam, Optimizer, SavedVariable, Var};
///
/// let nadam = Nadam { learning_rate: 0.01, ..Default::default() };
/// let mut state = nadam.new_state();
/// let (mut w, mut g, mut slots) = ([1.0f32], [0.5f32], [0.0f32; 2]);
/// nadam.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
/// assert!((state.u_product - 0.9 * (1.0 - 0.5 * 0.96)).abs() < 1e-7);
/// assert_eq!(nadam.saved_variables(1).last(), Some(SavedVariable::UProduct));
/// # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
/// ```
///
/// [`OptimizerState::u_product`]: super::OptimizerState::u_product
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nadam {
    /// The step size (Keras's f32 `learning_rate` variable). Ignored when `schedule` is set.
    pub learning_rate: f32,
    /// Decay of the first moment.
    pub beta_1: f64,
    /// Decay of the second moment.
    pub beta_2: f64,
    /// Added to `√v̂` in the denominator.
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

impl Default for Nadam {
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

impl Nadam {
    fn base(&self) -> Base<'_> {
        Base {
            class: "Nadam",
            learning_rate: self.learning_rate,
            schedule: &self.schedule,
            weight_decay: self.weight_decay,
            clipnorm: self.clipnorm,
            clipvalue: self.clipvalue,
            global_clipnorm: self.global_clipnorm,
        }
    }
}

/// `μ(k) = β₁·(1 − ½·0.96^k)`.
fn mu(beta_1: f32, k: u64) -> f32 {
    beta_1 * (1.0 - 0.5 * pow(0.96, k as f32))
}

impl Optimizer for Nadam {
    fn class_name(&self) -> &'static str {
        "Nadam"
    }

    fn validate(&self) -> Result<(), OptimizerError> {
        self.base().validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "velocity"]
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
        let (beta_1, beta_2, epsilon) =
            (self.beta_1 as f32, self.beta_2 as f32, self.epsilon as f32);
        self.base()
            .step(self.slots_per_param(), state, vars, |state, lr, vars| {
                let t = state.iterations;
                // Keras updates the product once per step, before any variable:
                // `u_product * beta_1 * (1 - 0.5 * 0.96^(t+1))`, multiplied left to right.
                state.u_product =
                    state.u_product * beta_1 * (1.0 - 0.5 * pow(0.96, (t + 1) as f32));
                let u_t = mu(beta_1, t + 1);
                let u_t_1 = mu(beta_1, t + 2);
                let u_product_t = state.u_product;
                let u_product_t_1 = u_product_t * u_t_1;
                let beta_2_power = pow(beta_2, (t + 1) as f32);
                // XLA turns a tensor divided by a scalar into a product with its reciprocal.
                let over_1_minus_u_product_t_1 = 1.0 / (1.0 - u_product_t_1);
                let over_1_minus_u_product_t = 1.0 / (1.0 - u_product_t);
                let over_1_minus_beta_2_power = 1.0 / (1.0 - beta_2_power);
                for var in vars {
                    let n = var.value.len();
                    let (m, v) = var.slots.split_at_mut(n);
                    for i in 0..n {
                        let g = var.grad[i];
                        m[i] = m[i] + (g - m[i]) * (1.0 - beta_1);
                        v[i] = v[i] + (g * g - v[i]) * (1.0 - beta_2);
                        let m_hat = u_t_1 * m[i] * over_1_minus_u_product_t_1
                            + (1.0 - u_t) * g * over_1_minus_u_product_t;
                        let v_hat = v[i] * over_1_minus_beta_2_power;
                        var.value[i] -= m_hat * lr / (sqrt(v_hat) + epsilon);
                    }
                }
            })
    }

    fn saved_variables(&self, variables: usize) -> SavedVariables {
        self.base()
            .saved_variables(variables, self.slot_names(), &[&[0, 1]], true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_product_is_the_product_of_the_momentum_factors() {
        let nadam = Nadam::default();
        let mut state = nadam.new_state();
        assert_eq!(state.u_product, 1.0);
        let (mut w, mut s) = ([0.0f32], [0.0f32; 2]);
        let mut expected = 1.0f32;
        for k in 1..=3 {
            let mut g = [1.0f32];
            nadam
                .apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut s)])
                .unwrap();
            expected *= mu(0.9, k);
            assert!((state.u_product - expected).abs() < 1e-7);
        }
        assert!(w[0] < 0.0);
    }
}
