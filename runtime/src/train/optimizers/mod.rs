//! Keras's optimizers and learning-rate schedules, step for step equal to Keras 3.
//!
//! Each optimizer is a small struct named after its Keras class whose public fields carry Keras's
//! argument names and whose `Default` is Keras's defaults:
//!
//! | Rust | Keras | slots per variable (Keras's names) |
//! |---|---|---|
//! | [`Sgd`] | `SGD` | `momentum` if `momentum != 0` |
//! | [`Adam`] | `Adam` | `momentum`, `velocity`, + `velocity_hat` with `amsgrad` |
//! | [`AdamW`] | `AdamW` | as `Adam` |
//! | [`RmsProp`] | `RMSprop` | `velocity`, + `momentum` if `momentum > 0`, + `average_gradient` if `centered` |
//! | [`Adagrad`] | `Adagrad` | `accumulator` (starts at `initial_accumulator_value`) |
//! | [`Adadelta`] | `Adadelta` | `accumulated_grad`, `accumulated_delta_var` |
//! | [`Adamax`] | `Adamax` | `momentum`, `norm` |
//! | [`Nadam`] | `Nadam` | `momentum`, `velocity` (and the scalar `u_product` in the state) |
//! | [`Lion`] | `Lion` | `momentum` |
//!
//! ```
//! use static_keras_runtime::train::optimizers::{Adam, Optimizer, Var};
//!
//! let adam = Adam { learning_rate: 0.01, ..Default::default() };
//! let mut state = adam.new_state();
//! let (mut w, mut g) = ([1.0f32, -2.0], [0.5f32, 0.25]);
//! let mut slots = [0.0f32; 4]; // slots_per_param() × len, slot-major
//! adam.apply(&mut state, &mut [Var::new(&mut w, &mut g, &mut slots)])?;
//! assert_eq!(state.iterations, 1);
//! assert!((w[0] - 0.99).abs() < 1e-6); // Adam's first step moves by lr·sign(g)
//! # Ok::<(), static_keras_runtime::train::optimizers::OptimizerError>(())
//! ```
//!
//! # One step
//!
//! [`Optimizer::apply`] is one Keras `apply_gradients` call over every trainable variable, in
//! `model.trainable_variables` order:
//!
//! 1. the learning rate `lr` is [`OptimizerState::learning_rate`] (Keras's `learning_rate`
//!    variable), or the optimizer's [`Schedule`] evaluated at `iterations` before the increment;
//! 2. the gradients are clipped **in place** by `clipnorm` (per variable), `global_clipnorm` (over
//!    all of them) or `clipvalue`; a value that is `None` or `<= 0` does not clip;
//! 3. with `weight_decay: Some(wd)`, every variable is decayed: `w ← w − w·wd·lr`;
//! 4. each variable is updated by its optimizer's rule (the table in each type's docs);
//! 5. `iterations += 1`.
//!
//! The update rules are element-wise, so a variable may be stored in any permutation of Keras's
//! order as long as its gradient and slots use the same one; clip norms do not depend on the order
//! either (up to the rounding of the sum).
//!
//! # Faithful to the bit
//!
//! Keras computes in f32 but keeps its arguments as Python floats and combines some of them in
//! double precision before rounding to f32 (Adam's `1 − beta_1` is `f32(0.1)`, while Nadam's is
//! `1 − f32(0.9)` = 0.100000024). So the arguments are `f64` here, exactly what the Python code
//! holds, and each is rounded to f32 where Keras rounds it; only `learning_rate`, which Keras keeps
//! in an f32 variable, is an `f32`. Every element-wise expression is evaluated in f32 in Keras's
//! order of operations, including what XLA makes of it: a tensor divided by a scalar is multiplied
//! by the scalar's reciprocal (`clipnorm`, Nadam), and [`CosineDecay`] with a warmup, which Keras
//! runs compiled, rounds each `a·b + c` once. Powers (`β^t`), `cos` and `sqrt` come from `libm` on
//! every target, so a host and a microcontroller compute the same bits.
//!
//! Against Keras's eager `optimizer.apply_gradients` this gives the same bits: every value of the
//! parity suite (52 configurations, up to 40 steps) is bit-equal. Keras's `fit` runs the same step
//! compiled by XLA, which also fuses the update's `a·b ± c` into fused multiply-adds and so differs
//! from the eager step (and from this code) in the last bits, by less than 3e-7 in that suite.
//!
//! # Saving
//!
//! Keras saves an optimizer's state as `optimizer/vars/<i>` in the order
//! [`Optimizer::saved_variables`] lists: `iteration`, `learning_rate` (absent with a schedule),
//! then the slots of every variable in Keras's interleaving, then Nadam's `u_product`.
//!
//! Not covered: `use_ema`, `loss_scale_factor`, `gradient_accumulation_steps` and
//! `exclude_from_weight_decay` (weight decay, when on, applies to every variable).

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod base;
mod error;
mod lion;
mod nadam;
mod rmsprop;
mod saved;
mod schedules;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use error::OptimizerError;
pub use lion::Lion;
pub use nadam::Nadam;
pub use rmsprop::RmsProp;
pub use saved::{SavedVariable, SavedVariables};
pub use schedules::{CosineDecay, ExponentialDecay, Schedule};
pub use sgd::Sgd;

/// The most slots any optimizer here keeps per value (Adam with `amsgrad`, RMSprop with momentum
/// and `centered`): enough for a slot buffer sized before the optimizer is chosen.
pub const MAX_SLOTS_PER_PARAM: usize = 3;

/// One trainable variable as an optimizer sees it: its values, its gradient and its slots.
///
/// `slots` holds [`Optimizer::slots_per_param`] buffers of `value.len()` values each, one after
/// the other (slot-major): slot `k` of element `i` is `slots[k * value.len() + i]`.
/// [`Optimizer::init_slots`] gives them their starting values.
#[derive(Debug)]
pub struct Var<'a> {
    /// The variable's values, updated in place.
    pub value: &'a mut [f32],
    /// The gradient of the loss with respect to `value`, element for element. Clipping overwrites
    /// it with the clipped gradient.
    pub grad: &'a mut [f32],
    /// The optimizer's per-element state for this variable (momentum, velocity, …).
    pub slots: &'a mut [f32],
}

impl<'a> Var<'a> {
    /// Bundles a variable's values, gradient and slots.
    pub fn new(value: &'a mut [f32], grad: &'a mut [f32], slots: &'a mut [f32]) -> Self {
        Self { value, grad, slots }
    }
}

/// An optimizer's scalar state: what Keras keeps in scalar variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerState {
    /// Keras's `optimizer.iterations`: the number of completed steps.
    pub iterations: u64,
    /// Keras's `learning_rate` variable, set from the optimizer's `learning_rate` by
    /// [`Optimizer::new_state`]. Assigning it changes the rate from the next step on (Keras's
    /// `optimizer.learning_rate = …`), and loading a saved state restores it. Unused with a
    /// schedule.
    pub learning_rate: f32,
    /// Nadam's running product of its momentum factors (Keras's `u_product`, starting at 1).
    /// Unused by the other optimizers.
    pub u_product: f32,
}

/// What a trainer needs from an optimizer. Every method is allocation-free.
pub trait Optimizer {
    /// The Keras class name (`"Adam"`, `"RMSprop"`, …).
    fn class_name(&self) -> &'static str;

    /// Checks the arguments as Keras's constructor does: at most one of `clipnorm`, `clipvalue`
    /// and `global_clipnorm`, AdamW's `weight_decay`, SGD's `momentum` in [0, 1], Lion's `beta_1`
    /// in (0, 1], a schedule's `decay_steps > 0`. [`apply`](Self::apply) checks it too.
    fn validate(&self) -> Result<(), OptimizerError>;

    /// Keras's names of the per-element slots, in slot order (`["momentum", "velocity"]` for Adam).
    fn slot_names(&self) -> &'static [&'static str];

    /// How many values of slot state each value of a variable needs.
    fn slots_per_param(&self) -> usize {
        self.slot_names().len()
    }

    /// The value slot `slot` starts at: Adagrad's `initial_accumulator_value`, otherwise 0.
    fn slot_initial(&self, slot: usize) -> f32 {
        let _ = slot;
        0.0
    }

    /// Fills a variable's slot buffer (`slots_per_param() × len` values, slot-major) with the
    /// starting values.
    fn init_slots(&self, slots: &mut [f32]) {
        let per = self.slots_per_param();
        let len = slots.len().checked_div(per).unwrap_or(0);
        for slot in 0..per {
            slots[slot * len..(slot + 1) * len].fill(self.slot_initial(slot));
        }
    }

    /// The state before the first step: 0 iterations, the configured learning rate.
    fn new_state(&self) -> OptimizerState;

    /// The learning rate the next step will use (Keras's `optimizer.learning_rate`).
    fn current_learning_rate(&self, state: &OptimizerState) -> f32;

    /// One Keras `apply_gradients` step over every trainable variable, in
    /// `model.trainable_variables` order (see the module docs for the order of operations).
    ///
    /// Fails, before touching anything, if the arguments are invalid ([`validate`](Self::validate))
    /// or a variable's gradient or slots have the wrong length.
    fn apply(&self, state: &mut OptimizerState, vars: &mut [Var<'_>])
        -> Result<(), OptimizerError>;

    /// The optimizer's variables in the order Keras saves them (`optimizer/vars/<i>`), for a model
    /// with `variables` trainable variables.
    fn saved_variables(&self, variables: usize) -> SavedVariables;
}
