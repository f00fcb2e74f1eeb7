//! Keras parity of functional models: branches, merges, shared layers, several inputs and
//! outputs, states used downstream. Each case's body is the very text Keras ran.
#[macro_use]
mod parity;

include!("generated/graph.rs");
