//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for the
//! normalization, activation, shape and noise layers: BatchNormalization with the batch's
//! statistics (and its moving statistics after the step, against the non-trainable variables
//! `stateless_call` returns), frozen BatchNormalization, Layer/Group/Normalization, Rescaling,
//! ReLU and friends at their kinks, PReLU's shared slopes, Softmax along any axes,
//! RepeatVector, Permute, Identity, and the noise layers at rate 0.
#[macro_use]
mod grads;

include!("generated/grads_misc.rs");
