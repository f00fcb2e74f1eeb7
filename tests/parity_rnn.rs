//! Keras parity of the recurrent layers and Embedding: SimpleRNN, LSTM and GRU (both
//! `reset_after`) with every option, stacked, after Embedding with and without masks on pre-,
//! post- and randomly padded batches (all-padding rows included), and `return_state` outputs.
#[macro_use]
mod parity;

include!("generated/rnn.rs");
