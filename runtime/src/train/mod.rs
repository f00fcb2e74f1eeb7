//! Training: Keras's losses, metrics and optimizers, step for step equal to Keras
//! (`TRAINING_SEMANTICS` of the project's reference notes). Everything here is `no_std` and
//! allocation-free, so a microcontroller can fine-tune a model.

mod batch;
pub mod losses;
pub mod metrics;
pub mod optimizers;

pub use batch::{Batch, BatchError};
