//! The layers, one file per Keras layer family (mirrored by the macro's `layers` module).

mod activation;
mod dense;
mod dropout;
mod reshape;

pub use activation::{ActivationLayer, Glu};
pub use dense::Dense;
pub use dropout::Dropout;
pub use reshape::{Flatten, Reshape};
