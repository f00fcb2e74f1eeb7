//! Keras parity of the normalization layers: BatchNormalization on every axis and center/scale
//! combination (after Dense and Conv2D too), LayerNormalization over one axis, blocks of axes,
//! middle axes and with rms_scaling, GroupNormalization (default 32 groups, instance
//! normalization, middle axes), Normalization with adapted variables or config statistics and
//! invert, and Rescaling.
#[macro_use]
mod parity;

include!("generated/norm.rs");
