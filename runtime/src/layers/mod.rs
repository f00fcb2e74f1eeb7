//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod dense;
mod dropout;
mod embedding;
pub mod recurrent;
mod reshape;

pub use activation::{ActivationLayer, Glu};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::{Embedding, TokenIds};
pub use recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnMode, ReturnSequences, SimpleRnn};
pub use reshape::{Flatten, Reshape};
