//! Runtime of [static-keras](https://docs.rs/static-keras): the tensors, layers and activations that
//! `keras_model!` generates code against.
//!
//! Everything here is `#![no_std]` and allocation-free: every shape is a const generic, every buffer
//! has its size fixed at compile time, and transcendental functions come from `libm` on every target
//! so that a host and a microcontroller compute the same bits.
//!
//! Every activation is a [`Tensor<F, P>`](Tensor): a Keras tensor `(d0, …, F)` with its last axis
//! `F` and the product `P` of the others, its values in Keras's row-major order. It is indexed in
//! Keras's order, `t[[position, feature]]`, or flat, `t[i]`; nalgebra, the engine the kernels run
//! on, shows only in its [`as_matrix`](Tensor::as_matrix) view.
//!
//! Big models keep nothing multi-megabyte on the stack ([`memory`]): every layer is
//! [`Zeroable`], so a model is allocated as zero bytes on the heap and set up in place, and the
//! activations run in a [`Workspace`] whose layout `keras_model!` planned at compile time
//! ([`Planned`]), boxed on a host or in a `static` on a microcontroller.
//!
//! Layers compose through the [`Layer`] trait, whose input type decides which layers may follow which:
//!
//! ```
//! use static_keras_runtime::{Activation, Dense, Layer, Tensor};
//!
//! let hidden: Dense<4, 8> = Dense::new(Activation::Relu);
//! let out: Dense<8, 2> = Dense::new(Activation::Softmax);
//! let x = Tensor::<4, 1>::from_slice(&[1.0, 2.0, 3.0, 4.0]);
//! let y = (hidden, out).forward(&x); // a chain of two layers is a layer
//! assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! ```
#![no_std]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

pub mod activation;
mod batch;
mod epilogue;
mod error;
#[doc(hidden)]
pub mod kernels;
mod layer;
pub mod layers;
pub mod memory;
pub mod shape;
mod tensor;
pub mod train;

pub use activation::Activation;
pub use batch::{split_batch, split_batch_in, SPLIT_MIN_MACS};
pub use epilogue::{Epilogue, FuseEpilogue};
pub use error::Error;
pub use layer::{
    load_le_bytes, load_le_bytes_checked, ConfigValue, GraphInput, Layer, LayerInfo, Model,
    ModelGraph, Planned, Source, StatefulModel, Variable, Weights,
};
pub use layers::*;
#[cfg(feature = "std")]
pub use memory::zeroed_box;
pub use memory::{assert_zeroable, zeroed, InPlace, MergeInPlace, Workspace, Zeroable};
pub use tensor::{
    fill_from_le_bytes, flat, flat_mut, tensor_from_le_bytes, zeros, Aligned, Tensor,
};

/// Everything generated code and integrations need, re-exported in one place.
pub mod prelude {
    pub use crate::{Activation, Error, Layer, Model, Tensor, Variable, Weights};
}
