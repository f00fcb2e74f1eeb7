#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "std")]
extern crate std;

pub use static_keras_macros::keras_model;
/// Which kernels a computation runs, chosen per call on the calling thread.
///
/// By default the SIMD kernels of the best instruction set the CPU has run (AVX-512 or AVX2 +
/// FMA on x86_64, NEON on aarch64, with `std`); [`kernels::with`]`(`[`Kernels::Portable`]`, || …)` runs one
/// computation on the portable kernels, which compute the same bits on every target, a
/// microcontroller included. A choice never reaches other threads, except the workers of a
/// `parallel` `predict_batch`, which run on their caller's choice. The feature `portable-kernels`
/// makes every choice the portable kernels.
///
/// ```
/// use static_keras::kernels::{self, Kernels};
///
/// static_keras::keras_model! {
///     struct Tiny { input_shape: (3,), layers: [Dense(2)] }
/// }
/// let weights: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -0.5]
///     .iter()
///     .flat_map(|w| w.to_le_bytes())
///     .collect();
/// let net = Tiny::from_le_bytes(&weights).unwrap();
/// let x = Tiny::input_from_slice(&[1.0, 2.0, 3.0]).unwrap();
/// let y = kernels::with(Kernels::Portable, || net.predict(&x));
/// assert_eq!(y.as_slice(), &[1.0 + 6.0 + 15.0 + 0.5, 2.0 + 8.0 + 18.0 - 0.5]);
/// ```
pub mod kernels {
    #[cfg(feature = "std")]
    pub use static_keras_runtime::kernels::current;
    pub use static_keras_runtime::kernels::{with, Kernels};
}
pub use kernels::Kernels;
/// Training in Rust: `net.compile(optimizer, loss)` gives a [`train::Trainer`]
/// (`train_on_batch`, `fit`, `evaluate`).
pub use static_keras_runtime::train;
/// Keras's training callbacks (`callbacks::EarlyStopping`, `LearningRateScheduler`,
/// `ReduceLROnPlateau`).
pub use static_keras_runtime::train::callbacks;
/// Keras's losses (`losses::CategoricalCrossentropy`, …).
pub use static_keras_runtime::train::losses;
/// Keras's training metrics (`"accuracy"` and its resolution, the accuracies, `Mean`).
pub use static_keras_runtime::train::metrics;
/// Keras's optimizers (`optimizers::Adam`, …).
pub use static_keras_runtime::train::optimizers;
/// What `fit` returns: every epoch's loss, metrics and `val_` figures (Keras's
/// `history.history`).
#[cfg(feature = "std")]
pub use static_keras_runtime::train::History;
/// The arguments of `fit` and its errors, and one epoch's logs.
pub use static_keras_runtime::train::{FitError, FitOptions, Logs};
pub use static_keras_runtime::{
    activation, layers, load_le_bytes, load_le_bytes_checked, memory, shape, Activation,
    ConfigValue, Error, GraphInput, Layer, LayerInfo, Model, ModelGraph, Planned, Source,
    StatefulModel, Tensor, TokenIds, Variable, Weights, Workspace, Zeroable,
};

/// Reading what Keras saves: `.keras` archives, `.weights.h5` and legacy `.h5` (feature
/// `keras-file`, on by default).
///
/// Models declared with `keras_model!` get `Net::from_keras_file(path)`, which calls
/// [`keras_file::load`], and `net.save_weights(path)` / `net.save(path)`, which write what Keras
/// loads ([`keras_file::save_weights`], [`keras_file::save`]); [`KerasFile`](keras_file::KerasFile) gives access to a file's saved
/// architecture and weights.
#[cfg(feature = "keras-file")]
#[cfg_attr(docsrs, doc(cfg(feature = "keras-file")))]
pub mod keras_file {
    pub use static_keras_file::{
        keras_bytes, load, load_bytes, save, save_weights, weights_h5_bytes, Array, Error, Format,
        KerasFile, LayerConfig, LayerKey, ModelConfig,
    };
}

/// What generated code reaches the runtime through. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use static_keras_runtime::*;
    #[cfg(feature = "std")]
    pub use std::boxed::Box;

    /// The file loader, for `from_keras_file`.
    #[cfg(feature = "keras-file")]
    pub mod keras_file {
        pub use static_keras_file::{load, load_boxed, load_bytes, save, save_weights, Error};
        pub use std::path::Path;
        pub use std::vec::Vec;
    }
}

/// Expands its input only with the `std` feature, so generated code can offer what needs an
/// allocator (`compile`, whose trainer owns its buffers) without knowing the facade's features.
#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:tt)*) => { $($item)* };
}

/// Expands its input only with the `std` feature (here it is off: nothing).
#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_std {
    ($($item:tt)*) => {};
}

/// Expands its input only when the `keras-file` feature is on, so generated code can offer
/// `from_keras_file` without knowing the facade's features.
#[cfg(feature = "keras-file")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_keras_file {
    ($($item:tt)*) => { $($item)* };
}

/// Expands its input only when the `keras-file` feature is on (here it is off: nothing).
#[cfg(not(feature = "keras-file"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_keras_file {
    ($($item:tt)*) => {};
}
