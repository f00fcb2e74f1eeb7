//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod advanced_activation;
mod axes;
mod conv;
mod conv_transpose;
mod dense;
mod depthwise;
mod dropout;
mod embedding;
mod global_pool;
mod identity;
mod masking;
mod merge;
mod noise;
pub mod norm;
mod padding;
mod pool;
pub mod recurrent;
mod reshape;
mod upsampling;
pub mod wrappers;

pub use activation::{ActivationLayer, Glu};
pub use advanced_activation::{Elu, LeakyRelu, PRelu, Relu, Softmax};
pub use axes::{Permute, RepeatVector, MAX_RANK};
pub use conv::{Conv, Conv1d, Conv2d, Conv3d};
pub use conv_transpose::{Conv1dTranspose, Conv2dTranspose, Conv3dTranspose, ConvTranspose};
pub use dense::Dense;
pub use depthwise::{
    DepthwiseConv, DepthwiseConv1d, DepthwiseConv2d, SeparableCache, SeparableConv,
    SeparableConv1d, SeparableConv2d,
};
pub use dropout::{Dropout, NoiseShape};
pub use embedding::{Embedding, TokenIds};
pub use global_pool::{GlobalAvgPool, GlobalMaxPool};
pub use identity::Identity;
pub use masking::Masking;
pub use merge::{Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract};
pub use noise::{AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout};
pub use norm::{
    BatchNorm, Dims0, Dims1, Dims2, Dims3, Dims4, GroupNorm, LayerNorm, Normalization, Rescaling,
    VarShape,
};
pub use padding::{
    Crop, Crop1d, Crop2d, Crop3d, EdgeAxis, Edges, ZeroPad, ZeroPad1d, ZeroPad2d, ZeroPad3d,
};
pub use pool::{
    AvgPool, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool, MaxPool1d, MaxPool2d, MaxPool3d,
};
pub use recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnMode, ReturnSequences, SimpleRnn};
pub use reshape::{Flatten, Reshape};
pub use upsampling::{
    Factor, FactorAxis, UpSample, UpSample1d, UpSample2d, UpSample3d, UpSampleBilinear2d,
};
pub use wrappers::{Bidirectional, TimeDistributed};
