//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod conv;
mod dense;
mod dropout;
mod embedding;
pub mod norm;
mod pool;
pub mod recurrent;
mod reshape;

pub use activation::{ActivationLayer, Glu};
pub use conv::{Conv, Conv1d, Conv2d, Conv3d};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::{Embedding, TokenIds};
pub use norm::{
    BatchNorm, Dims0, Dims1, Dims2, Dims3, Dims4, GroupNorm, LayerNorm, Normalization, Rescaling,
    VarShape,
};
pub use pool::{
    AvgPool, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool, MaxPool1d, MaxPool2d, MaxPool3d,
};
pub use recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnMode, ReturnSequences, SimpleRnn};
pub use reshape::{Flatten, Reshape};
