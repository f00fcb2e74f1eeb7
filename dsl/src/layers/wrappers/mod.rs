//! The wrappers, `TimeDistributed(layer)` and `Bidirectional(layer, merge_mode="concat",
//! backward_layer=None)`: layers whose first argument is another layer, written as in Keras
//! (`TimeDistributed(Dense(4))`). The wrapped call is read with the same signature tables and
//! argument binding as a layer of the list, its errors spanned on its own tokens.

mod bidirectional;
mod time_distributed;

pub use bidirectional::BIDIRECTIONAL;
pub use time_distributed::TIME_DISTRIBUTED;

use super::Entry;
use crate::args::Args;
use crate::parse::{self, LayerCall};
use crate::suggest::did_you_mean;

/// A wrapped layer's call and its entry of the layer table.
pub(super) struct Wrapped {
    pub call: LayerCall,
    pub entry: &'static Entry,
}

/// The layer given as argument `param` of the wrapper `args` (`TimeDistributed(Dense(4))`),
/// parsed as a layer call and looked up in the layer table; `None` after reporting why not.
pub(super) fn wrapped(args: &Args, param: &str) -> Option<Wrapped> {
    let wrapper = args.call.class.to_string();
    let expr = args.get(param)?;
    let call = match parse::layer_call(expr) {
        Ok(call) => call,
        Err(_) => {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`{param}` of {wrapper} is a layer, written as in Keras: `{wrapper}({})`",
                    if wrapper == "Bidirectional" {
                        "LSTM(8)"
                    } else {
                        "Dense(8)"
                    }
                ),
            );
            return None;
        }
    };
    let class = call.class.to_string();
    let Some(entry) = super::lookup(&class) else {
        args.cx.error_spanned_by(
            &call.class,
            format!(
                "unknown layer `{class}`{}",
                did_you_mean(&class, super::layer_names())
            ),
        );
        return None;
    };
    Some(Wrapped { call, entry })
}

/// What [`check_common`] reads from a wrapped layer's common arguments.
pub(super) struct Common {
    /// The wrapped layer was named (`name = "…"`; otherwise Keras gives it an automatic name,
    /// which takes a number from its class's counter).
    pub named: bool,
    /// Its `trainable` flag. In Keras 3.15.1 this one, not the wrapper's own `trainable=False`
    /// given to its constructor, decides whether the wrapped variables are trained.
    pub trainable: bool,
}

/// Checks the arguments every layer accepts on a wrapped layer: those that belong on the
/// wrapper (`input_shape`), a dtype other than float32; reads its name and `trainable`.
pub(super) fn check_common(inner: &Args, entry: &Entry, wrapper: &str) -> Common {
    let class = inner.call.class.to_string();
    for key in ["input_shape", "input_dim"] {
        // An argument of the layer's own (Embedding's `input_dim`) is not the input shape.
        if entry.signature.iter().any(|p| p.name == key) {
            continue;
        }
        if let Some(expr) = inner.get(key) {
            inner.cx.error_spanned_by(
                expr,
                format!(
                    "`{key}` of the layer inside {wrapper} has no effect in Keras 3: give the model's input shape to {wrapper} (`{wrapper}({class}(…), {key} = …)`) or to the model"
                ),
            );
        }
    }
    if let Some((dtype, span)) = inner.string("dtype") {
        if dtype != "float32" {
            inner.cx.error_at(
                span,
                format!("dtype \"{dtype}\" is not supported: static-keras computes in float32"),
            );
        }
    }
    Common {
        named: inner.string("name").is_some(),
        trainable: inner.bool("trainable", true),
    }
}
