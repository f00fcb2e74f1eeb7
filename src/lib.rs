pub use static_keras_runtime::*;
