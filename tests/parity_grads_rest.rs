//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for the training
//! paths added last: the fused `glu` activation of Dense and the convolutions,
//! `TimeDistributed(BatchNormalization())` (each step's own batch statistics; the moving
//! statistics after the step are compared too), `Bidirectional(merge_mode = None)` (under a mask
//! too) and a fused `glu` inside `TimeDistributed`.
#[macro_use]
mod grads;

include!("generated/grads_rest.rs");
