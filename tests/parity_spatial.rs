//! Keras parity of global pooling, zero padding, cropping and up-sampling: every rank, every
//! argument form Keras accepts, Keras 3's per-rank defaults, `keepdims`, nearest and bilinear
//! up-sampling, `GlobalAveragePooling1D` over masked sequences (Embedding with `mask_zero`, and
//! masks passed on by Dense, Dropout and LSTM), and stacks with convolutions.
#[macro_use]
mod parity;

include!("generated/spatial.rs");
