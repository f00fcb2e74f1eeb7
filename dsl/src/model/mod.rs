//! Stage 2: the typed model, a graph of values and calls (STYLE 18: plain data, passes over it).
//!
//! Layers are typed specs with resolved arguments, names and spans; a call applies a layer to its
//! input values and produces one or more output values. A `layers: [...]` list is built as a
//! chain of this same graph, so shape checking, `summary()`, weight order, codegen and the file
//! loader have one code path. Nothing after this stage looks at raw syntax.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Visibility};

use crate::args::{int_value, tuple_items, Args};
use crate::ctxt::Ctxt;
use crate::layers::{self, LayerSpec};
use crate::parse::{self, Body, LayerCall, ModelInput};
use crate::suggest::did_you_mean;

pub struct Model {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// Declared in the functional form (Keras then lists the inputs as layers in its summary).
    pub functional: bool,
    pub inputs: Vec<Input>,
    /// Every layer, in creation order (the order of Keras's automatic names).
    pub layers: Vec<Layer>,
    /// Every call, in an order where each call comes after the calls it reads (statement
    /// order); the forward pass runs them in this order.
    pub calls: Vec<Call>,
    pub outputs: Vec<Value>,
}

/// A model input (`Input(shape = …)`, or a Sequential model's `input_shape`).
pub struct Input {
    /// Keras's name: `name = "…"` or the automatic `input_layer`, `input_layer_1`, ….
    pub name: String,
    /// The DSL name it was bound to, for messages (`image`); `None` for a Sequential input.
    pub binding: Option<String>,
    /// The name was given (`name = "…"`), not automatic.
    pub named: bool,
    /// `None` when it was not given (an error already reported, or a Sequential model whose
    /// shape is missing).
    pub shape: Option<Vec<usize>>,
    /// `dtype = "int32"` (or a Sequential model starting with `Embedding`): token ids.
    pub ids: bool,
    pub span: Span,
}

pub struct Layer {
    /// Keras's name for the layer (automatic `dense_1`, or `name = "…"`).
    pub name: String,
    /// The struct field holding it.
    pub field: Ident,
    /// The layer's constructor call, where whole-layer errors are spanned.
    pub span: Span,
    /// `None` when its arguments had errors (already reported); shapes stop there.
    pub spec: Option<Box<dyn LayerSpec>>,
    /// Keras's `trainable` (`trainable = False` freezes the layer).
    pub trainable: bool,
    /// The `*_initializer = …` arguments as declared: the key, and the name when it is a string
    /// literal (read by `init(seed)`; inference ignores them).
    pub initializers: Vec<(String, Option<String>)>,
}

/// One application of a layer (Keras's "node"); a shared layer has several.
pub struct Call {
    pub layer: usize,
    pub inputs: Vec<Value>,
    /// The inputs were given as a list (`Add()([a, b])`), as merge layers take them.
    pub list: bool,
    /// How many tensors the call returns (1, or more with `return_state`).
    pub outputs: usize,
    /// The application, where errors about its inputs are spanned.
    pub span: Span,
}

/// A tensor of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    Input(usize),
    Call { call: usize, output: usize },
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

impl Model {
    /// The spec of a checked model's layer (every spec is present once the checks passed).
    pub fn spec(&self, layer: usize) -> &dyn LayerSpec {
        &**self.layers[layer]
            .spec
            .as_ref()
            .expect("checked models have every spec")
    }

    /// How a value is described in messages: "the model input `image`", "the output of `c1`".
    pub fn describe(&self, value: Value) -> String {
        match value {
            Value::Input(i) => {
                let input = &self.inputs[i];
                match &input.binding {
                    Some(b) if input.named && *b != input.name => {
                        format!("the model input `{b}` (named \"{}\")", input.name)
                    }
                    Some(b) => format!("the model input `{b}`"),
                    None => "the model input".to_string(),
                }
            }
            Value::Call { call, output } => {
                let c = &self.calls[call];
                let layer = &self.layers[c.layer];
                let which = if c.outputs > 1 {
                    format!("output {output} of ")
                } else {
                    "the output of ".to_string()
                };
                let calls = self.calls.iter().filter(|k| k.layer == c.layer).count();
                if calls > 1 {
                    let k = self.calls[..call]
                        .iter()
                        .filter(|k| k.layer == c.layer)
                        .count();
                    format!("{which}`{}` (its call {})", layer.name, k + 1)
                } else {
                    format!("{which}`{}`", layer.name)
                }
            }
        }
    }

    /// Which call of its layer `call` is (0 for the first).
    pub fn call_index(&self, call: usize) -> usize {
        let layer = self.calls[call].layer;
        self.calls[..call]
            .iter()
            .filter(|c| c.layer == layer)
            .count()
    }
}

/// Automatic names in creation order (`dense`, `dense_1`, …), as Keras numbers them.
#[derive(Default)]
struct Names {
    counters: HashMap<String, usize>,
    taken: Vec<String>,
}

impl Names {
    fn auto(&mut self, base: &str) -> String {
        let n = self.counters.entry(base.to_string()).or_insert(0);
        let name = if *n == 0 {
            base.to_string()
        } else {
            format!("{base}_{n}")
        };
        *n += 1;
        name
    }
}

/// Builds one layer from its constructor call: its spec, name and flags. `None` for an unknown
/// class (reported).
fn new_layer<'a>(
    call: &'a LayerCall,
    names: &mut Names,
    cx: &'a Ctxt,
) -> Option<(Layer, Args<'a>)> {
    let class = call.class.to_string();
    let Some(entry) = layers::lookup(&class) else {
        cx.error_spanned_by(
            &call.class,
            format!(
                "unknown layer `{class}`{}",
                did_you_mean(&class, layers::layer_names())
            ),
        );
        return None;
    };
    let args = Args::bind(call, entry.signature, cx);
    let spec = (entry.build)(&args);
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
    let own_trainable = args.bool("trainable", true);
    let trainable = spec
        .as_ref()
        .and_then(|s| s.wrapped_trainable())
        .unwrap_or(own_trainable);
    let canonical = spec.as_ref().map_or(entry.class, |s| s.class());
    // The layers a wrapper creates inside itself are named first (Python builds the arguments
    // before the call), each taking a number from its class's counter.
    for class in spec.iter().flat_map(|s| s.nested_auto_names()) {
        names.auto(&snake_case(class));
    }
    let name = match args.string("name") {
        Some((name, span)) => {
            if syn::parse_str::<Ident>(&name).is_err() {
                cx.error_at(span, format!("layer name \"{name}\" must be a valid Rust identifier: it names a struct field"));
                return None;
            }
            if names.taken.contains(&name) {
                cx.error_at(
                    span,
                    format!("two layers are named `{name}`; layer names must be unique"),
                );
            }
            name
        }
        None => loop {
            // Keras skips automatic names a user took explicitly.
            let name = names.auto(&snake_case(canonical));
            if !names.taken.contains(&name) {
                break name;
            }
        },
    };
    names.taken.push(name.clone());
    let initializers = declared_initializers(call);
    let layer = Layer {
        field: Ident::new(&name, call.class.span()),
        name,
        span: call.expr.span(),
        spec,
        trainable,
        initializers,
    };
    Some((layer, args))
}

/// The initializers a layer call declares: its `*_initializer` arguments (`Some(name)` when given
/// as a string) and a `unit_forget_bias` given as `False`/`True`; a wrapper's wrapped layers'
/// too (`TimeDistributed(Dense(4, kernel_initializer = "he_normal"))`), the backward layer's of
/// a `Bidirectional` under the prefix `backward_layer/` — a copy of the forward layer's when no
/// `backward_layer` is given, as Keras copies the layer's config.
fn declared_initializers(call: &LayerCall) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for arg in &call.args {
        let Some(key) = arg.key.as_ref().map(Ident::to_string) else {
            continue;
        };
        if key.ends_with("_initializer") {
            let name = match &arg.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            };
            out.push((key, name));
        } else if key == "unit_forget_bias" {
            let flag = match &arg.value {
                syn::Expr::Path(p) => p.path.get_ident().map(Ident::to_string),
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Bool(b),
                    ..
                }) => Some(if b.value { "True" } else { "False" }.to_string()),
                _ => None,
            };
            out.push((key, flag));
        }
    }
    let class = call.class.to_string();
    if class != "TimeDistributed" && class != "Bidirectional" {
        return out;
    }
    let inner = |key: &str| {
        call.args
            .iter()
            .find(|a| a.key.as_ref().is_some_and(|k| k == key))
            .or_else(|| {
                call.args
                    .iter()
                    .find(|a| a.key.is_none())
                    .filter(|_| key == "layer")
            })
            .and_then(|a| crate::parse::layer_call(&a.value).ok())
            .map(|c| declared_initializers(&c))
    };
    let forward = inner("layer").unwrap_or_default();
    if class == "Bidirectional" {
        let backward = inner("backward_layer").unwrap_or_else(|| forward.clone());
        out.extend(
            backward
                .into_iter()
                .map(|(k, v)| (format!("backward_layer/{k}"), v)),
        );
    }
    out.extend(forward);
    out
}

pub fn build(input: ModelInput, cx: &Ctxt) -> Model {
    let mut model = Model {
        attrs: input.attrs,
        vis: input.vis,
        ident: input.ident,
        functional: matches!(input.body, Body::Functional(_)),
        inputs: Vec::new(),
        layers: Vec::new(),
        calls: Vec::new(),
        outputs: Vec::new(),
    };
    match input.body {
        Body::Sequential(seq) => build_sequential(&mut model, seq, cx),
        Body::Functional(f) => functional::Functional::new(&mut model, cx).run(f.statements),
    }
    model
}

fn build_sequential(model: &mut Model, seq: parse::Sequential, cx: &Ctxt) {
    let mut input_shape = seq
        .input_shape
        .as_ref()
        .and_then(|(_, expr)| read_shape(expr, "input_shape", cx));
    let mut names = Names::default();
    let mut previous = Value::Input(0);
    let mut ids = false;
    for (index, call) in seq.layers.iter().enumerate() {
        let Some((layer, args)) = new_layer(call, &mut names, cx) else {
            continue;
        };
        // Keras 2 style: the first layer may carry the input shape (`input_dim` only where it is
        // not an argument of the layer's own, as Embedding's vocabulary size is).
        let signature = layers::lookup(&call.class.to_string())
            .map(|e| e.signature)
            .unwrap_or_default();
        for key in ["input_shape", "input_dim"] {
            if signature.iter().any(|p| p.name == key) {
                continue;
            }
            let Some(expr) = args.get(key) else { continue };
            if index != 0 {
                cx.error_spanned_by(expr, format!("`{key}` belongs on the first layer only"));
            } else if seq.input_shape.is_some() {
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
        if let Some((shape, span)) = layer.spec.as_ref().and_then(|s| s.implied_input_shape()) {
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
        if index == 0 {
            ids = layer
                .spec
                .as_ref()
                .is_some_and(|s| s.token_input().is_some());
        }
        let outputs = 1 + layer.spec.as_ref().map_or(0, |s| s.extra_outputs().len());
        let span = layer.span;
        model.layers.push(layer);
        model.calls.push(Call {
            layer: model.layers.len() - 1,
            inputs: vec![previous],
            list: false,
            outputs,
            span,
        });
        previous = Value::Call {
            call: model.calls.len() - 1,
            output: 0,
        };
    }
    if input_shape.is_none() && seq.input_shape.is_none() {
        cx.error_spanned_by(
            &model.ident,
            format!(
                "model `{}` has no input shape: add `input_shape: (…),` before `layers`, or `input_shape = (…)` to the first layer",
                model.ident
            ),
        );
    }
    model.inputs.push(Input {
        name: "input_layer".into(),
        binding: None,
        named: false,
        shape: input_shape,
        ids,
        span: model.ident.span(),
    });
    // The model's outputs: the last layer's, with its states when it returns them.
    if let Some(last) = model.calls.len().checked_sub(1) {
        model.outputs = (0..model.calls[last].outputs)
            .map(|output| Value::Call { call: last, output })
            .collect();
    } else {
        model.outputs = vec![Value::Input(0)];
    }
}

mod functional;
mod graph_calls;
mod model_line;
