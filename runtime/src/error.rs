use core::fmt;

/// What can go wrong when data enters a model: weights or inputs of the wrong size or content.
///
/// `predict` itself cannot fail; everything is checked on the way in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A raw weight buffer whose length is not the model's parameter count times four bytes.
    WeightBytes {
        /// Bytes the model needs (`PARAMS * 4`).
        expected: usize,
        /// Bytes that were given.
        actual: usize,
    },
    /// A variable whose recorded shape differs from the declared model's.
    WeightShape {
        /// The layer's name.
        layer: &'static str,
        /// The variable (`kernel`, `bias`, …).
        variable: &'static str,
        /// Its shape in the declared model (Keras order).
        expected: &'static [usize],
        /// The recorded shape (empty if none was recorded for it).
        found: &'static [usize],
    },
    /// Weights recorded for a different number of variables than the model has.
    WeightCount {
        /// Variables the model has.
        expected: usize,
        /// Variables recorded.
        actual: usize,
    },
    /// An input slice with the wrong number of values.
    InputLength {
        /// Values the model's input shape holds.
        expected: usize,
        /// Values that were given.
        actual: usize,
    },
    /// An output (target) slice with the wrong number of values.
    OutputLength {
        /// Values the model's output shape holds.
        expected: usize,
        /// Values that were given.
        actual: usize,
    },
    /// A token id outside `0..input_dim` given to a model that starts with `Embedding`.
    TokenOutOfRange {
        /// Position of the offending id in the flat input.
        position: usize,
        /// The id.
        id: u32,
        /// The embedding's `input_dim`: ids must be below it.
        input_dim: usize,
    },
    /// A token id given as a float (the flat input of a model with several inputs) that is not a
    /// whole number `>= 0`.
    TokenNotWhole {
        /// Position of the offending value in the input it belongs to.
        position: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WeightBytes { expected, actual } => write!(
                f,
                "weight buffer has {actual} bytes but the model needs {expected} ({} f32 values, little-endian)",
                expected / 4
            ),
            Error::WeightShape {
                layer,
                variable,
                expected,
                found,
            } => write!(
                f,
                "layer `{layer}`: variable `{variable}` has shape {found:?} in the weights but the model needs {expected:?}"
            ),
            Error::WeightCount { expected, actual } => write!(
                f,
                "the weights are recorded for {actual} variables but the model has {expected}"
            ),
            Error::InputLength { expected, actual } => write!(
                f,
                "input has {actual} values but the model's input shape holds {expected}"
            ),
            Error::OutputLength { expected, actual } => write!(
                f,
                "output has {actual} values but the model's output shape holds {expected}"
            ),
            Error::TokenOutOfRange { position, id, input_dim } => write!(
                f,
                "token id {id} at position {position} is out of range: Embedding input_dim is {input_dim}"
            ),
            Error::TokenNotWhole { position } => write!(
                f,
                "the value at position {position} of a token-id input is not a whole number >= 0"
            ),
        }
    }
}

impl core::error::Error for Error {}
