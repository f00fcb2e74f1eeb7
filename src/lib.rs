#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub use static_keras_macros::keras_model;
pub use static_keras_runtime::{
    activation, layers, load_le_bytes, shape, Activation, ConfigValue, Error, Layer, LayerInfo,
    Model, StatefulModel, Tensor, TokenIds, Variable, Weights,
};

/// What generated code reaches the runtime through. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use static_keras_runtime::*;
}
