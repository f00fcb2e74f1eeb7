//! Training parity with Keras at the model level: `train_on_batch` with every optimizer
//! configuration (losses and every weight after each of 5 steps) on an MLP and on a small CNN,
//! and whole `fit` runs (`shuffle=False`: history, final weights and learning rate) followed by
//! `evaluate`.
#[macro_use]
mod train;

mod mlp {
    use super::train;
    include!("generated/train_steps.rs");
}

// A small CNN (Conv2D, MaxPooling2D) under every optimizer configuration.
mod cnn {
    use super::train;
    include!("generated/train_steps_cnn.rs");
}

include!("generated/train_fit.rs");
