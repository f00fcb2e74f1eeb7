//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod advanced_activation;
mod axes;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod identity;
mod masking;
mod pool;
pub mod recurrent;
mod reshape;

pub use activation::{ActivationLayer, Glu};
pub use advanced_activation::{Elu, LeakyRelu, PRelu, Relu, Softmax};
pub use axes::{Permute, RepeatVector, MAX_RANK};
pub use conv::{Conv, Conv1d, Conv2d, Conv3d};
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::{Embedding, TokenIds};
pub use identity::{AlphaDropout, GaussianDropout, GaussianNoise, Identity, SpatialDropout};
pub use masking::Masking;
pub use pool::{
    AvgPool, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool, MaxPool1d, MaxPool2d, MaxPool3d,
};
pub use recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnMode, ReturnSequences, SimpleRnn};
pub use reshape::{Flatten, Reshape};
