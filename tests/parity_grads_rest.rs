//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for the training
//! paths added last: the fused `glu` activation of Dense and the convolutions,
//! `TimeDistributed(BatchNormalization())` (each step's own batch statistics; the moving
//! statistics after the step are compared too) and `Bidirectional(merge_mode = None)`.
#[macro_use]
mod grads;

include!("generated/grads_rest.rs");
