//! Gradient parity of TimeDistributed with Keras (`jax.grad` over
//! `stateless_call(training=True)`): the wrapped layer's gradients summed over the steps, nested,
//! shared, frozen, before a merge and under a sequence loss.
#[macro_use]
mod grads;

include!("generated/grads_wrappers.rs");
