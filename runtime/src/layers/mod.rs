//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod conv;
mod conv_transpose;
mod dense;
mod depthwise;
mod dropout;
mod embedding;
mod pool;
pub mod recurrent;
mod reshape;

pub use activation::{ActivationLayer, Glu};
pub use conv::{Conv, Conv1d, Conv2d, Conv3d};
pub use conv_transpose::{Conv1dTranspose, Conv2dTranspose, Conv3dTranspose, ConvTranspose};
pub use dense::Dense;
pub use depthwise::{
    DepthwiseConv, DepthwiseConv1d, DepthwiseConv2d, SeparableConv, SeparableConv1d,
    SeparableConv2d,
};
pub use dropout::Dropout;
pub use embedding::{Embedding, TokenIds};
pub use pool::{
    AvgPool, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool, MaxPool1d, MaxPool2d, MaxPool3d,
};
pub use recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnMode, ReturnSequences, SimpleRnn};
pub use reshape::{Flatten, Reshape};
