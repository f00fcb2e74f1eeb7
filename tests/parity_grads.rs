//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for every
//! layer with a training path, every activation, merges, shared and frozen layers.
#[macro_use]
mod grads;

include!("generated/grads.rs");
