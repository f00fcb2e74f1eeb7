//! Keras parity of the depthwise, separable and transposed convolutions: DepthwiseConv1D/2D and
//! SeparableConv1D/2D over every padding, stride, dilation (strides and dilation together too,
//! as Keras allows for them) and depth multiplier, channel counts over every block width of the
//! kernel; Conv1D/2D/3DTranspose on the twelve Conv1DTranspose lengths measured in Keras and
//! every output_padding form; MobileNet, DS-CNN and autoencoder stacks.
#[macro_use]
mod parity;

include!("generated/convx.rs");
