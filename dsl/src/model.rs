//! Stage 2: the typed model. Layer calls become layer specs with resolved arguments, names and
//! spans; nothing after this stage looks at raw syntax.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Visibility};

use crate::args::{int_value, tuple_items, Args};
use crate::ctxt::Ctxt;
use crate::layers::{self, LayerSpec};
use crate::parse::ModelInput;
use crate::suggest::did_you_mean;

pub struct Model {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub input_shape: Option<Vec<usize>>,
    pub layers: Vec<Layer>,
}

pub struct Layer {
    /// Keras's name for the layer (automatic `dense_1`, or `name = "…"`).
    pub name: String,
    /// The struct field holding it.
    pub field: Ident,
    /// The whole layer call, where the forward pass and whole-layer errors are spanned.
    pub span: Span,
    /// `None` when its arguments had errors (already reported); shapes stop there.
    pub spec: Option<Box<dyn LayerSpec>>,
}

/// Keras's `to_snake_case`, which also makes automatic layer names (`MaxPooling2D` →
/// `max_pooling2d`): the loader's, so layer names and weight-group keys agree.
pub use static_keras_file::snake_case;

/// Reads a shape such as `(28, 28, 1)`: a tuple of positive integers.
pub fn read_shape(expr: &Expr, what: &str, cx: &Ctxt) -> Option<Vec<usize>> {
    let dims: Option<Vec<i64>> = match int_value(expr) {
        Some(v) => Some(vec![v]),
        None => tuple_items(expr).and_then(|items| items.into_iter().map(int_value).collect()),
    };
    match dims {
        Some(dims) if !dims.is_empty() && dims.iter().all(|&d| d > 0) => {
            Some(dims.into_iter().map(|d| d as usize).collect())
        }
        Some(dims) if dims.is_empty() => {
            cx.error_spanned_by(expr, format!("{what} must have at least one dimension"));
            None
        }
        _ => {
            cx.error_spanned_by(
                expr,
                format!("{what} must be a tuple of positive integers without the batch axis, such as `(28, 28, 1)` or `(16,)`"),
            );
            None
        }
    }
}

pub fn build(input: ModelInput, cx: &Ctxt) -> Model {
    let mut input_shape = input
        .input_shape
        .as_ref()
        .and_then(|(_, expr)| read_shape(expr, "input_shape", cx));
    let mut counters: Vec<(&'static str, usize)> = Vec::new();
    let mut layers: Vec<Layer> = Vec::new();
    for (index, call) in input.layers.iter().enumerate() {
        let class = call.class.to_string();
        let Some(entry) = layers::lookup(&class) else {
            cx.error_spanned_by(
                &call.class,
                format!(
                    "unknown layer `{class}`{}",
                    did_you_mean(&class, layers::LAYERS.iter().map(|e| e.class))
                ),
            );
            continue;
        };
        let args = Args::bind(call, entry.signature, cx);
        let spec = (entry.build)(&args);

        // Keras 2 style: the first layer may carry the input shape (`input_dim` only where it is
        // not an argument of the layer's own, as Embedding's vocabulary size is).
        for key in ["input_shape", "input_dim"] {
            if entry.signature.iter().any(|p| p.name == key) {
                continue;
            }
            let Some(expr) = args.get(key) else { continue };
            if index != 0 {
                cx.error_spanned_by(expr, format!("`{key}` belongs on the first layer only"));
            } else if input.input_shape.is_some() {
                cx.error_spanned_by(
                    expr,
                    "the input shape is given twice: here and in the model's `input_shape`",
                );
            } else if input_shape.is_some() {
                cx.error_spanned_by(expr, "give either `input_shape` or `input_dim`, not both");
            } else {
                input_shape = read_shape(expr, key, cx);
            }
        }
        // A shape implied by the layer's own arguments (Embedding's `input_length`); off the
        // first layer the layer's position is the error, reported by the checker.
        if let Some((shape, span)) = spec.as_ref().and_then(|s| s.implied_input_shape()) {
            match &input_shape {
                _ if index != 0 => {}
                None => input_shape = Some(shape),
                Some(given) if *given != shape => cx.error_at(
                    span,
                    format!(
                        "the input shape {} given here disagrees with the model's `input_shape` {}",
                        crate::layers::fmt_shape(&shape),
                        crate::layers::fmt_shape(given)
                    ),
                ),
                Some(_) => {}
            }
        }
        if let Some(dtype) = args.string("dtype") {
            if dtype.0 != "float32" {
                cx.error_at(
                    dtype.1,
                    format!(
                        "dtype \"{}\" is not supported: static-keras computes in float32",
                        dtype.0
                    ),
                );
            }
        }

        let name = match args.string("name") {
            Some((name, span)) => {
                if syn::parse_str::<Ident>(&name).is_err() {
                    cx.error_at(span, format!("layer name \"{name}\" must be a valid Rust identifier: it names a struct field"));
                    continue;
                }
                name
            }
            None => {
                let base = snake_case(entry.class);
                let n = match counters.iter_mut().find(|(c, _)| *c == entry.class) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counters.push((entry.class, 0));
                        0
                    }
                };
                if n == 0 {
                    base
                } else {
                    format!("{base}_{n}")
                }
            }
        };
        if layers.iter().any(|l| l.name == name) {
            cx.error_at(
                args.span_of("name"),
                format!("two layers are named `{name}`; layer names must be unique"),
            );
        }
        layers.push(Layer {
            field: Ident::new(&name, call.class.span()),
            name,
            span: call.expr.span(),
            spec,
        });
    }
    if input_shape.is_none() && input.input_shape.is_none() {
        cx.error_spanned_by(
            &input.ident,
            format!(
                "model `{}` has no input shape: add `input_shape: (…),` before `layers`, or `input_shape = (…)` to the first layer",
                input.ident
            ),
        );
    }
    Model {
        attrs: input.attrs,
        vis: input.vis,
        ident: input.ident,
        input_shape,
        layers,
    }
}
