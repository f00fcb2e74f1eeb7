//! Keras parity of the wrappers in functional models: the two outputs of
//! `Bidirectional(…, merge_mode=None)` and their masks, the states of `return_state` used
//! downstream, a shared TimeDistributed, and the automatic names Keras gives the wrapped layers
//! (the summaries are compared with Keras's).
#[macro_use]
mod parity;

include!("generated/wrappers_graph.rs");
