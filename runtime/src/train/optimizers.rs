//! Keras's optimizers (stand-in until the full set lands): the trait the trainer drives and SGD.

/// One trainable variable during an update: its values and gradient in the layer's own layout,
/// and its optimizer slots (`slots_per_param × len`, slot-major).
pub struct Var<'a> {
    /// The variable's values.
    pub value: &'a mut [f32],
    /// Its gradient.
    pub grad: &'a mut [f32],
    /// Its optimizer slots.
    pub slots: &'a mut [f32],
}

/// The optimizer's own state: the step counter (and scalars some optimizers keep).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OptimizerState {
    /// Keras's `iterations`: steps taken.
    pub iterations: u64,
}

/// A Keras optimizer.
pub trait Optimizer {
    /// f32 slot values per parameter.
    fn slots_per_param(&self) -> usize;
    /// The initial value of slot `slot`.
    fn slot_initial(&self, _slot: usize) -> f32 {
        0.0
    }
    /// A fresh state.
    fn new_state(&self) -> OptimizerState {
        OptimizerState::default()
    }
    /// One `apply_gradients` step over every trainable variable.
    fn apply(&self, state: &mut OptimizerState, vars: &mut [Var<'_>]);
}

/// Keras `SGD(learning_rate=0.01)` without momentum (stand-in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    /// The learning rate.
    pub learning_rate: f32,
}

impl Default for Sgd {
    fn default() -> Self {
        Self {
            learning_rate: 0.01,
        }
    }
}

impl Optimizer for Sgd {
    fn slots_per_param(&self) -> usize {
        0
    }

    fn apply(&self, state: &mut OptimizerState, vars: &mut [Var<'_>]) {
        for var in vars.iter_mut() {
            for (w, g) in var.value.iter_mut().zip(var.grad.iter()) {
                *w -= self.learning_rate * g;
            }
        }
        state.iterations += 1;
    }
}
