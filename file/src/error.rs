//! What can go wrong reading a Keras file into a model, worded for the person who saved it.

use std::fmt;
use std::path::PathBuf;

/// Why a Keras file could not be read into a model.
///
/// Every variant names what was being read (the file, the layer and its position, the variable)
/// and, for mismatches, both sides, so the message alone says what to fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read from disk.
    Io {
        /// The path given.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are neither a `.keras` archive (zip) nor HDF5.
    NotKerasFile {
        /// What the first bytes look like.
        found: String,
    },
    /// A `.keras` archive that is truncated or malformed, or lacks a member Keras writes.
    Archive {
        /// What is wrong with it.
        message: String,
    },
    /// HDF5 data that is truncated, malformed, or uses a feature the reader lacks.
    Hdf5 {
        /// Where in the file (an HDF5 path), or which member.
        context: String,
        /// The reader's complaint.
        message: String,
    },
    /// A JSON document (`config.json`, the legacy `model_config` attribute) that cannot be read.
    Json {
        /// Which document.
        context: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file's layout is not one Keras writes (e.g. no `layers` group, no `model_weights`).
    Layout {
        /// What was expected and not found.
        message: String,
    },
    /// The file's saved architecture differs from the declared model.
    Architecture {
        /// The first difference, with the layer's position and name.
        message: String,
    },
    /// A variable the declared model needs is not in the file.
    MissingWeight {
        /// Position of the layer in the declared model (0-based, the input not counted).
        index: usize,
        /// The declared layer's name.
        layer: String,
        /// The variable (`kernel`, `bias`, …).
        variable: &'static str,
        /// Where it was looked for.
        path: String,
    },
    /// The file holds variables the declared model has no place for.
    ExtraWeights {
        /// Where they are.
        path: String,
        /// What the declared model expected there.
        message: String,
    },
    /// A variable whose shape differs from the declared model's.
    Shape {
        /// Position of the layer in the declared model (0-based, the input not counted).
        index: usize,
        /// The declared layer's name.
        layer: String,
        /// The variable (`kernel`, `bias`, …).
        variable: &'static str,
        /// Its shape in the declared model (Keras order).
        expected: Vec<usize>,
        /// Its shape in the file.
        found: Vec<u64>,
        /// Where it is in the file.
        path: String,
    },
    /// A weight dataset of a type other than a float (float16, bfloat16, float32, float64).
    Dtype {
        /// Where it is in the file.
        path: String,
        /// The type found.
        found: String,
    },
    /// Something Keras can save that static-keras cannot load (nested models, branches).
    Unsupported {
        /// What, and what to do instead.
        message: String,
    },
    /// A model that cannot be saved as asked (a path Keras would not load, a model that does
    /// not describe its declaration).
    Save {
        /// What, and what to do instead.
        message: String,
    },
    /// A file could not be written to disk.
    Write {
        /// The path given.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn fmt_shape<T: fmt::Display>(shape: &[T]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::NotKerasFile { found } => write!(
                f,
                "not a Keras file: expected a .keras archive (zip) or HDF5 (.weights.h5, .h5), found {found}"
            ),
            Error::Archive { message } => write!(f, "malformed .keras archive: {message}"),
            Error::Hdf5 { context, message } => {
                write!(f, "malformed or unsupported HDF5 data at {context}: {message}")
            }
            Error::Json { context, message } => write!(f, "cannot read {context}: {message}"),
            Error::Layout { message } => write!(f, "not a Keras weights layout: {message}"),
            Error::Architecture { message } => {
                write!(f, "the file's model differs from the declared one: {message}")
            }
            Error::MissingWeight {
                index,
                layer,
                variable,
                path,
            } => write!(
                f,
                "layer {index} `{layer}`: variable `{variable}` is missing from the file (looked for {path})"
            ),
            Error::ExtraWeights { path, message } => {
                write!(f, "the file has weights at {path} that the declared model does not use: {message}")
            }
            Error::Shape {
                index,
                layer,
                variable,
                expected,
                found,
                path,
            } => write!(
                f,
                "layer {index} `{layer}`: variable `{variable}` has shape {} in the file ({path}) but the declared model needs {}",
                fmt_shape(found),
                fmt_shape(expected)
            ),
            Error::Dtype { path, found } => write!(
                f,
                "weight {path} has type {found}; expected float16, bfloat16, float32, float64 or an integer"
            ),
            Error::Unsupported { message } => write!(f, "unsupported: {message}"),
            Error::Save { message } => write!(f, "cannot save: {message}"),
            Error::Write { path, source } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn archive(message: impl Into<String>) -> Error {
    Error::Archive {
        message: message.into(),
    }
}

pub(crate) fn layout(message: impl Into<String>) -> Error {
    Error::Layout {
        message: message.into(),
    }
}
