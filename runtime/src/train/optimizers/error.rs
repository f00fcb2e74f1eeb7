use core::fmt;

/// Why an optimizer refused its arguments or a step.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptimizerError {
    /// More than one of `clipnorm`, `clipvalue` and `global_clipnorm` is set (Keras raises the
    /// same in the constructor).
    ClipConflict {
        /// The optimizer's Keras class name.
        optimizer: &'static str,
        /// The `clipnorm` given.
        clipnorm: Option<f64>,
        /// The `clipvalue` given.
        clipvalue: Option<f64>,
        /// The `global_clipnorm` given.
        global_clipnorm: Option<f64>,
    },
    /// `AdamW` with `weight_decay: None`.
    MissingWeightDecay {
        /// The optimizer's Keras class name.
        optimizer: &'static str,
    },
    /// An argument outside the range Keras accepts.
    OutOfRange {
        /// The optimizer's (or schedule's) Keras class name.
        optimizer: &'static str,
        /// The argument's Keras name.
        argument: &'static str,
        /// The value given.
        value: f64,
        /// What Keras accepts, e.g. `"in [0, 1]"` or `"> 0"`.
        range: &'static str,
    },
    /// A variable whose gradient or slot buffer does not fit its values.
    Length {
        /// The optimizer's Keras class name.
        optimizer: &'static str,
        /// Position of the variable in the list given to `apply`.
        variable: usize,
        /// `"gradient"` or `"slots"`.
        buffer: &'static str,
        /// Values the buffer needs.
        expected: usize,
        /// Values it has.
        actual: usize,
    },
}

struct Arg(Option<f64>);

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v:?}"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Display for OptimizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OptimizerError::ClipConflict {
                optimizer,
                clipnorm,
                clipvalue,
                global_clipnorm,
            } => write!(
                f,
                "{optimizer}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set; \
                 got clipnorm={}, clipvalue={}, global_clipnorm={}",
                Arg(clipnorm),
                Arg(clipvalue),
                Arg(global_clipnorm)
            ),
            OptimizerError::MissingWeightDecay { optimizer } => write!(
                f,
                "{optimizer}: `weight_decay` must be a float, got None (use Adam for no weight decay)"
            ),
            OptimizerError::OutOfRange {
                optimizer,
                argument,
                value,
                range,
            } => write!(
                f,
                "{optimizer}: `{argument}` must be {range}, got {value}"
            ),
            OptimizerError::Length {
                optimizer,
                variable,
                buffer,
                expected,
                actual,
            } => write!(
                f,
                "{optimizer}: variable {variable}: the {buffer} buffer has {actual} values but needs {expected}"
            ),
        }
    }
}

impl core::error::Error for OptimizerError {}
