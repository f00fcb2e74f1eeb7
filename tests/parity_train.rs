//! Training parity with Keras at the model level: `train_on_batch` with every optimizer
//! configuration (losses and every weight after each of 5 steps), and whole `fit` runs
//! (`shuffle=False`: history, final weights and learning rate) followed by `evaluate`.
#[macro_use]
mod train;

include!("generated/train_steps.rs");
include!("generated/train_fit.rs");
