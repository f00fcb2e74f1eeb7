//! Keras parity of the core layers: every activation, Dense on rank 1–3, Dropout, Flatten, Reshape.
#[macro_use]
mod parity;

include!("generated/core.rs");
