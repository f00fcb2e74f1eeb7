//! Keras parity of the convolution and pooling layers: Conv1D/2D/3D over every padding, stride,
//! dilation and group setting, MaxPooling/AveragePooling1D/2D/3D with windows over the edge.
#[macro_use]
mod parity;

include!("generated/conv.rs");
