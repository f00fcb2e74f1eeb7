//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for the
//! recurrent layers (every option, `return_state`), Embedding, Masking and masks through the
//! graph to the loss.
#[macro_use]
mod grads;

include!("generated/grads_rnn.rs");
