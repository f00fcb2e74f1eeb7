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

use crate::args::{int_value, is_none, tuple_items, Args};
use crate::ctxt::Ctxt;
use crate::layers::{self, LayerSpec};
use crate::parse::{self, Body, LayerCall, ModelInput, Statement};
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
    let trainable = args.bool("trainable", true);
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
    let layer = Layer {
        field: Ident::new(&name, call.class.span()),
        name,
        span: call.expr.span(),
        spec,
        trainable,
    };
    Some((layer, args))
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
        Body::Functional(f) => Functional::new(&mut model, cx).run(f.statements),
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

/// What a DSL name is bound to.
#[derive(Clone)]
enum Binding {
    /// A tensor, or the several tensors of one call (`y = LSTM(…, return_state = True)(x)`).
    Tensors(Vec<Value>),
    /// A layer not yet applied to anything (`d = Dense(3);`), by index.
    Layer(usize),
}

/// Keras's merge functions, `add([a, b])` for `Add()([a, b])`.
const MERGE_FUNCTIONS: &[(&str, &str)] = &[
    ("add", "Add"),
    ("subtract", "Subtract"),
    ("multiply", "Multiply"),
    ("average", "Average"),
    ("maximum", "Maximum"),
    ("minimum", "Minimum"),
    ("concatenate", "Concatenate"),
    ("dot", "Dot"),
];

/// Builds the graph from functional statements.
struct Functional<'m> {
    model: &'m mut Model,
    cx: &'m Ctxt,
    names: Names,
    scope: HashMap<String, (Binding, Span)>,
    /// The statements assigning each name, for "used before it is assigned" messages.
    assigned_at: HashMap<String, Vec<usize>>,
    /// The statement being read.
    current: usize,
    /// How often each value is read, and where each DSL binding came from (unused checks).
    reads: HashMap<Value, usize>,
    bound: Vec<(String, Vec<Value>, Span)>,
    layer_uses: Vec<usize>,
    saw_model: Option<Span>,
    /// Inputs listed in `Model(inputs = …)`, in order, by their index in `model.inputs`.
    listed: Vec<usize>,
}

impl<'m> Functional<'m> {
    fn new(model: &'m mut Model, cx: &'m Ctxt) -> Self {
        Self {
            model,
            cx,
            names: Names::default(),
            scope: HashMap::new(),
            assigned_at: HashMap::new(),
            current: 0,
            reads: HashMap::new(),
            bound: Vec::new(),
            layer_uses: Vec::new(),
            saw_model: None,
            listed: Vec::new(),
        }
    }

    fn run(mut self, statements: Vec<Statement>) {
        for (i, st) in statements.iter().enumerate() {
            for t in &st.targets {
                self.assigned_at.entry(t.to_string()).or_default().push(i);
            }
        }
        for (i, st) in statements.iter().enumerate() {
            self.current = i;
            self.statement(st);
        }
        self.finish();
    }

    fn statement(&mut self, st: &Statement) {
        let cx = self.cx;
        if let Some(class) = model_call(&st.value) {
            if st.targets.len() > 1 {
                cx.error_spanned_by(&st.value, format!("`{class}(…)` gives one model"));
            }
            self.model_line(&st.value);
            return;
        }
        if self.saw_model.is_some() {
            cx.error_spanned_by(
                &st.value,
                "statements after `Model(…)`: the model line must come last",
            );
        }
        let Some(first) = st.targets.first() else {
            cx.error_spanned_by(
                &st.value,
                "a statement must bind a name (`x = Dense(10)(x);`), or be the closing `Model(inputs = …, outputs = …);`",
            );
            return;
        };
        // `x = Input(shape = …)`.
        if let Expr::Call(call) = &st.value {
            if parse::callee_name(&call.func).is_some_and(|n| n == "Input") {
                if st.targets.len() != 1 {
                    cx.error_spanned_by(&st.value, "`Input(…)` gives one tensor");
                }
                let input = self.input(call, first);
                self.bind(first, Binding::Tensors(vec![Value::Input(input)]));
                return;
            }
        }
        // `d = Dense(3)`: a layer bound to a name, to be called (maybe several times) later.
        if let Some(call) = self.constructor(&st.value) {
            if st.targets.len() != 1 {
                cx.error_spanned_by(&st.value, "a layer is bound to one name");
            }
            let Ok(layer_call) = parse::layer_call(&st.value) else {
                return;
            };
            let _ = call;
            if let Some(layer) = self.create(&layer_call) {
                self.bind(first, Binding::Layer(layer));
            }
            return;
        }
        let Some(values) = self.tensor(&st.value) else {
            // Already reported; bind the names to nothing so later uses do not add errors.
            for t in &st.targets {
                self.scope
                    .insert(t.to_string(), (Binding::Tensors(Vec::new()), t.span()));
            }
            return;
        };
        if st.targets.len() == 1 {
            self.bind(first, Binding::Tensors(values));
        } else if st.targets.len() == values.len() {
            for (t, v) in st.targets.iter().zip(values) {
                self.bind(t, Binding::Tensors(vec![v]));
            }
        } else {
            for t in &st.targets {
                self.scope
                    .insert(t.to_string(), (Binding::Tensors(Vec::new()), t.span()));
            }
            cx.error_spanned_by(
                &st.value,
                format!(
                    "{} names on the left but the call returns {} tensor{}",
                    st.targets.len(),
                    values.len(),
                    if values.len() == 1 { "" } else { "s" }
                ),
            );
        }
    }

    fn bind(&mut self, name: &Ident, binding: Binding) {
        let key = name.to_string();
        if let Some((Binding::Tensors(old), span)) = self.scope.get(&key) {
            self.bound.push((key.clone(), old.clone(), *span));
        }
        self.scope.insert(key, (binding, name.span()));
    }

    /// `Input(shape = (…), name = "…", dtype = "…")`; returns the input's index.
    fn input(&mut self, call: &syn::ExprCall, binding: &Ident) -> usize {
        let cx = self.cx;
        let mut shape = None;
        let mut name = None;
        let mut ids = false;
        let args = match parse::call_args(call) {
            Ok(a) => a,
            Err(e) => {
                cx.push(e);
                Vec::new()
            }
        };
        for (i, arg) in args.iter().enumerate() {
            let key = arg.key.as_ref().map(Ident::to_string);
            match (key.as_deref(), i) {
                (Some("shape"), _) | (None, 0) => {
                    shape = read_shape(&arg.value, "the input shape", cx)
                }
                (Some("batch_shape"), _) => match tuple_items(&arg.value) {
                    Some(items) if !items.is_empty() && is_none(items[0]) => {
                        let rest: Vec<String> = items[1..]
                            .iter()
                            .map(|e| quote::ToTokens::to_token_stream(e).to_string())
                            .collect();
                        let text = format!("({},)", rest.join(", "));
                        if let Ok(expr) = syn::parse_str::<Expr>(&text) {
                            shape = read_shape(&expr, "the input shape", cx);
                        }
                    }
                    _ => cx.error_spanned_by(
                        &arg.value,
                        "`batch_shape` must start with `None` (the batch axis): `(None, 28, 28, 1)`",
                    ),
                },
                (Some("name"), _) => match &arg.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => {
                        let n = s.value();
                        if self.names.taken.contains(&n) {
                            cx.error_spanned_by(
                                s,
                                format!("two layers are named `{n}`; layer names must be unique"),
                            );
                        }
                        self.names.taken.push(n.clone());
                        name = Some(n);
                    }
                    other => cx.error_spanned_by(other, "`name` must be a string"),
                },
                (Some("dtype"), _) => match &arg.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => match s.value().as_str() {
                        "float32" => {}
                        "int32" | "int64" | "uint32" => ids = true,
                        other => cx.error_spanned_by(
                            s,
                            format!("input dtype \"{other}\" is not supported: \"float32\", or \"int32\" for the token ids an Embedding reads"),
                        ),
                    },
                    other => cx.error_spanned_by(other, "`dtype` must be a string"),
                },
                (Some("batch_size" | "sparse" | "ragged" | "optional"), _) => {}
                (Some(other), _) => cx.error_spanned_by(
                    &arg.expr,
                    format!(
                        "unknown argument `{other}` for Input{}",
                        did_you_mean(
                            other,
                            ["shape", "batch_shape", "name", "dtype", "batch_size"].into_iter()
                        )
                    ),
                ),
                (None, _) => cx.error_spanned_by(
                    &arg.expr,
                    "Input takes one positional argument, its shape",
                ),
            }
        }
        if shape.is_none()
            && !args.iter().any(|a| {
                a.key.is_none()
                    || a.key
                        .as_ref()
                        .is_some_and(|k| k == "shape" || k == "batch_shape")
            })
        {
            cx.error_spanned_by(
                call,
                "an Input needs its shape without the batch axis: `Input(shape = (28, 28, 1))`",
            );
        }
        let named = name.is_some();
        let name = name.unwrap_or_else(|| loop {
            let n = self.names.auto("input_layer");
            if !self.names.taken.contains(&n) {
                self.names.taken.push(n.clone());
                break n;
            }
        });
        self.model.inputs.push(Input {
            name,
            binding: Some(binding.to_string()),
            named,
            shape,
            ids,
            span: call.span(),
        });
        self.model.inputs.len() - 1
    }

    /// `Some` when `expr` constructs a layer without applying it: `Dense(3)`, `layers.Dense(3)`.
    fn constructor<'e>(&self, expr: &'e Expr) -> Option<&'e syn::ExprCall> {
        let Expr::Call(call) = expr else { return None };
        let name = parse::callee_name(&call.func)?;
        let is_path = matches!(&*call.func, Expr::Path(_) | Expr::Field(_));
        let bound = matches!(&*call.func, Expr::Path(p) if p.path.get_ident().is_some() && self.scope.contains_key(&name.to_string()));
        let merge_fn = MERGE_FUNCTIONS.iter().any(|(f, _)| name == f);
        (is_path && !bound && !merge_fn).then_some(call)
    }

    fn create(&mut self, call: &LayerCall) -> Option<usize> {
        let (layer, _args) = new_layer(call, &mut self.names, self.cx)?;
        self.model.layers.push(layer);
        self.layer_uses.push(0);
        Some(self.model.layers.len() - 1)
    }

    /// The values of a tensor expression: a name, `name[i]`, or a layer application.
    fn tensor(&mut self, expr: &Expr) -> Option<Vec<Value>> {
        let cx = self.cx;
        match expr {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                self.lookup(ident)
            }
            Expr::Index(index) => {
                let values = self.tensor(&index.expr)?;
                let Some(i) = int_value(&index.index) else {
                    cx.error_spanned_by(&index.index, "expected an integer index");
                    return None;
                };
                match usize::try_from(i).ok().and_then(|i| values.get(i)) {
                    Some(v) => Some(vec![*v]),
                    None => {
                        cx.error_spanned_by(
                            &index.index,
                            format!(
                                "index {i} out of range: the call returns {} tensors",
                                values.len()
                            ),
                        );
                        None
                    }
                }
            }
            Expr::Paren(p) => self.tensor(&p.expr),
            Expr::Group(g) => self.tensor(&g.expr),
            Expr::Call(call) => self.application(call, expr),
            Expr::Array(_) | Expr::Tuple(_) => {
                cx.error_spanned_by(
                    expr,
                    "a list of tensors is only the argument of a merge layer, as in `Add()([a, b])`",
                );
                None
            }
            _ => {
                cx.error_spanned_by(
                    expr,
                    "expected a tensor: a name, or a layer applied to one, such as `Dense(10)(x)`",
                );
                None
            }
        }
    }

    fn lookup(&mut self, ident: &Ident) -> Option<Vec<Value>> {
        let cx = self.cx;
        let key = ident.to_string();
        match self.scope.get(&key) {
            Some((Binding::Tensors(values), _)) => {
                let values = values.clone();
                for v in &values {
                    *self.reads.entry(*v).or_insert(0) += 1;
                }
                (!values.is_empty()).then_some(values)
            }
            Some((Binding::Layer(_), _)) => {
                cx.error_spanned_by(
                    ident,
                    format!("`{key}` is a layer, not a tensor: apply it to a tensor, `{key}(x)`"),
                );
                None
            }
            None => {
                let later = self
                    .assigned_at
                    .get(&key)
                    .is_some_and(|at| at.iter().any(|&i| i >= self.current));
                if later {
                    cx.error_spanned_by(
                        ident,
                        format!("`{key}` is used before it is assigned: each name must be assigned above its first use (a model cannot read its own later outputs)"),
                    );
                } else {
                    let names: Vec<String> = self.scope.keys().cloned().collect();
                    cx.error_spanned_by(
                        ident,
                        format!(
                            "undefined name `{key}`{}",
                            did_you_mean(&key, names.iter().map(String::as_str))
                        ),
                    );
                }
                None
            }
        }
    }

    /// `Dense(3)(x)`, `d(x)`, `Add()([a, b])`, `add([a, b])`.
    fn application(&mut self, call: &syn::ExprCall, expr: &Expr) -> Option<Vec<Value>> {
        let cx = self.cx;
        let callee = parse::callee_name(&call.func).cloned();
        let merge_class = match &*call.func {
            Expr::Path(p)
                if !self.scope.contains_key(&callee.as_ref()?.to_string())
                    || p.path.get_ident().is_none() =>
            {
                MERGE_FUNCTIONS
                    .iter()
                    .find(|(f, _)| callee.as_ref().is_some_and(|c| c == f))
                    .map(|(_, class)| *class)
            }
            _ => None,
        };
        // The layer applied, created first as Python evaluates the callee before the arguments
        // (which fixes the automatic names); a merge function creates its layer afterwards.
        let mut args = match parse::call_args(call) {
            Ok(a) => a,
            Err(e) => {
                cx.push(e);
                return None;
            }
        };
        let layer = match (&*call.func, merge_class) {
            (_, Some(_)) => None,
            (Expr::Call(_), None) => {
                let layer_call = match parse::layer_call(&call.func) {
                    Ok(c) => c,
                    Err(e) => {
                        cx.push(e);
                        return None;
                    }
                };
                Some(self.create(&layer_call)?)
            }
            (Expr::Path(p), None) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                match self.scope.get(&ident.to_string()) {
                    Some((Binding::Layer(l), _)) => Some(*l),
                    Some((Binding::Tensors(_), _)) => {
                        cx.error_spanned_by(
                            ident,
                            format!("`{ident}` is a tensor, not a layer: apply a layer to it, `Dense(10)({ident})`"),
                        );
                        return None;
                    }
                    None if layers::lookup(&ident.to_string()).is_some() => {
                        cx.error_spanned_by(
                            expr,
                            format!("`{ident}(…)` creates a layer; apply it to a tensor with a second call: `{ident}(…)(x)`"),
                        );
                        return None;
                    }
                    None => {
                        self.lookup(ident);
                        return None;
                    }
                }
            }
            _ => {
                cx.error_spanned_by(
                    &call.func,
                    "expected a layer: `Dense(10)(x)`, or a name bound to one, `d(x)`",
                );
                return None;
            }
        };
        // `training = …` is accepted as Keras code passes it (inference ignores it).
        args.retain(|a| a.key.as_ref().is_none_or(|k| k != "training"));
        let (inputs, list, rest) = match merge_class {
            Some(_) => {
                let Some((first, rest)) = args.split_first() else {
                    cx.error_spanned_by(
                        expr,
                        "a merge function takes the list of tensors to merge: `add([a, b])`",
                    );
                    return None;
                };
                if first.key.as_ref().is_some_and(|k| k != "inputs") {
                    cx.error_spanned_by(
                        &first.expr,
                        "the first argument is the list of tensors to merge",
                    );
                    return None;
                }
                (&first.value, true, rest.iter().collect::<Vec<_>>())
            }
            None => match args.as_slice() {
                [one] if one.key.as_ref().is_none_or(|k| k == "inputs") => {
                    (&one.value, matches!(one.value, Expr::Array(_)), Vec::new())
                }
                [] => {
                    cx.error_spanned_by(expr, "apply the layer to a tensor: `(x)`");
                    return None;
                }
                [_, second, ..] => {
                    cx.error_spanned_by(
                        &second.expr,
                        "a layer takes one tensor, or one list of tensors for a merge layer: `Add()([a, b])`",
                    );
                    return None;
                }
                [other] => {
                    cx.error_spanned_by(
                        &other.expr,
                        "unknown call argument: a layer is applied to one tensor (`training = …` is accepted and ignored)",
                    );
                    return None;
                }
            },
        };
        let values = match inputs {
            Expr::Array(items) => {
                let mut values = Vec::new();
                let mut ok = true;
                for item in &items.elems {
                    match self.tensor(item) {
                        Some(v) if v.len() == 1 => values.push(v[0]),
                        Some(v) => {
                            cx.error_spanned_by(
                                item,
                                format!("this names {} tensors; pick one with `[i]`", v.len()),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                values
            }
            other => {
                let v = self.tensor(other)?;
                if v.len() != 1 {
                    cx.error_spanned_by(
                        other,
                        format!("this names {} tensors; pick one with `[i]`", v.len()),
                    );
                    return None;
                }
                v
            }
        };
        let layer = match (layer, merge_class) {
            (Some(l), _) => l,
            (None, Some(class)) => {
                // `add([a, b], name = "…")` is `Add(name = "…")([a, b])`.
                let kwargs: Vec<String> = rest
                    .iter()
                    .map(|a| quote::ToTokens::to_token_stream(&a.expr).to_string())
                    .collect();
                let text = format!("{class}({})", kwargs.join(", "));
                let Ok(mut ctor) = syn::parse_str::<Expr>(&text) else {
                    cx.error_spanned_by(expr, "cannot read the merge function's arguments");
                    return None;
                };
                respan_expr(&mut ctor, call.func.span());
                let layer_call = match parse::layer_call(&ctor) {
                    Ok(c) => c,
                    Err(e) => {
                        cx.push(e);
                        return None;
                    }
                };
                self.create(&layer_call)?
            }
            (None, None) => return None,
        };
        self.layer_uses[layer] += 1;
        let outputs = 1 + self.model.layers[layer]
            .spec
            .as_ref()
            .map_or(0, |s| s.extra_outputs().len());
        self.model.calls.push(Call {
            layer,
            inputs: values,
            list,
            outputs,
            span: expr.span(),
        });
        let call = self.model.calls.len() - 1;
        Some(
            (0..outputs)
                .map(|output| Value::Call { call, output })
                .collect(),
        )
    }

    /// `Model(inputs = …, outputs = …)`.
    fn model_line(&mut self, expr: &Expr) {
        let cx = self.cx;
        if let Some(span) = self.saw_model {
            let _ = span;
            cx.error_spanned_by(expr, "the model is declared twice");
            return;
        }
        self.saw_model = Some(expr.span());
        let Expr::Call(call) = model_value(expr) else {
            return;
        };
        let args = match parse::call_args(call) {
            Ok(a) => a,
            Err(e) => {
                cx.push(e);
                return;
            }
        };
        let mut inputs = None;
        let mut outputs = None;
        for (i, arg) in args.iter().enumerate() {
            match (arg.key.as_ref().map(Ident::to_string).as_deref(), i) {
                (Some("inputs"), _) | (None, 0) => inputs = Some(&arg.value),
                (Some("outputs"), _) | (None, 1) => outputs = Some(&arg.value),
                (Some("name" | "trainable"), _) => {}
                _ => {
                    cx.error_spanned_by(&arg.expr, "`Model` takes `inputs`, `outputs` (and `name`)")
                }
            }
        }
        let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
            cx.error_spanned_by(
                expr,
                "the model line names its inputs and outputs: `Model(inputs = x, outputs = y)`",
            );
            return;
        };
        let items = |e: &'_ Expr| -> Vec<Expr> {
            match e {
                Expr::Array(a) => a.elems.iter().cloned().collect(),
                Expr::Tuple(t) => t.elems.iter().cloned().collect(),
                other => vec![other.clone()],
            }
        };
        for item in items(inputs) {
            let Some(values) = self.tensor(&item) else {
                continue;
            };
            match values.as_slice() {
                [Value::Input(i)] => {
                    if self.listed.contains(i) {
                        cx.error_spanned_by(&item, "this input is listed twice");
                    }
                    self.listed.push(*i);
                }
                _ => cx.error_spanned_by(
                    &item,
                    "a model input must be an `Input(…)`; this is a layer's output",
                ),
            }
        }
        for item in items(outputs) {
            let Some(values) = self.tensor(&item) else {
                continue;
            };
            self.model.outputs.extend(values);
        }
    }

    /// The checks that need the whole graph: the model line, unused inputs, layers and values.
    fn finish(self) {
        let cx = self.cx;
        let Some(_) = self.saw_model else {
            cx.error_spanned_by(
                &self.model.ident,
                "the functional form ends with the model line: `Model(inputs = …, outputs = …);`",
            );
            return;
        };
        // Unused inputs, layers and values are often the echo of an earlier error (a call that
        // failed reads nothing): report them only on an otherwise clean declaration.
        let echo = cx.has_errors();
        // Inputs in the order the model line lists them.
        for (i, input) in self.model.inputs.iter().enumerate() {
            if !self.listed.contains(&i) {
                cx.error_at(
                    input.span,
                    format!(
                        "input `{}` is not among the model's inputs: list it in `Model(inputs = [...])`",
                        input.binding.as_deref().unwrap_or(&input.name)
                    ),
                );
            }
        }
        let used: Vec<bool> = (0..self.model.inputs.len())
            .map(|i| {
                self.model
                    .calls
                    .iter()
                    .any(|c| c.inputs.contains(&Value::Input(i)))
                    || self.model.outputs.contains(&Value::Input(i))
            })
            .collect();
        for (i, input) in self.model.inputs.iter().enumerate() {
            if !used[i] && !echo {
                cx.error_at(
                    input.span,
                    format!(
                        "input `{}` is never used: no layer reads it",
                        input.binding.as_deref().unwrap_or(&input.name)
                    ),
                );
            }
        }
        for (l, uses) in self.layer_uses.iter().enumerate() {
            if *uses == 0 && !echo {
                cx.error_at(
                    self.model.layers[l].span,
                    format!(
                        "layer `{}` is never applied to a tensor: call it, `{}(x)`",
                        self.model.layers[l].name, self.model.layers[l].name
                    ),
                );
            }
        }
        // A computed tensor nobody reads and that is not an output: Keras would silently leave
        // its layers out of the model.
        let mut reported = Vec::new();
        let mut all_bound = self.bound.clone();
        for (name, (binding, span)) in &self.scope {
            if let Binding::Tensors(values) = binding {
                all_bound.push((name.clone(), values.clone(), *span));
            }
        }
        for (name, values, span) in all_bound {
            if name.starts_with('_') {
                continue;
            }
            for v in values {
                let read =
                    self.reads.get(&v).copied().unwrap_or(0) > 0 || self.model.outputs.contains(&v);
                if !read && !echo && matches!(v, Value::Call { .. }) && !reported.contains(&v) {
                    reported.push(v);
                    cx.error_at(
                        span,
                        format!(
                            "`{name}` ({}) is never used: pass it on, list it in the model's outputs, or remove it (a name starting with `_` may stay unused)",
                            self.model.describe(v)
                        ),
                    );
                }
            }
        }
        let model = self.model;
        // Reorder the inputs as the model line lists them.
        if self.listed.len() == model.inputs.len() {
            let map: Vec<usize> = (0..model.inputs.len())
                .map(|old| self.listed.iter().position(|&n| n == old).expect("listed"))
                .collect();
            let mut inputs: Vec<Option<Input>> = model.inputs.drain(..).map(Some).collect();
            model.inputs = self
                .listed
                .iter()
                .map(|&old| inputs[old].take().expect("each once"))
                .collect();
            let remap = |v: &mut Value| {
                if let Value::Input(i) = v {
                    *i = map[*i];
                }
            };
            for c in &mut model.calls {
                c.inputs.iter_mut().for_each(remap);
            }
            model.outputs.iter_mut().for_each(remap);
        }
    }
}

/// `Model(…)`, `keras.Model(…)`, `models.Model(…)`, `Functional(…)`, or `model = Model(…)`.
fn model_call(expr: &Expr) -> Option<String> {
    let Expr::Call(call) = model_value(expr) else {
        return None;
    };
    let name = parse::callee_name(&call.func)?.to_string();
    matches!(name.as_str(), "Model" | "Functional").then_some(name)
}

fn model_value(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => model_value(&g.expr),
        other => other,
    }
}

/// Gives every token of `expr` `span`, so errors about a synthesized call land on the user's.
fn respan_expr(expr: &mut Expr, span: Span) {
    let tokens = quote::ToTokens::to_token_stream(expr);
    let respanned: proc_macro2::TokenStream = tokens
        .into_iter()
        .map(|mut tt| {
            respan_tree(&mut tt, span);
            tt
        })
        .collect();
    if let Ok(e) = syn::parse2(respanned) {
        *expr = e;
    }
}

fn respan_tree(tt: &mut proc_macro2::TokenTree, span: Span) {
    match tt {
        proc_macro2::TokenTree::Group(g) => {
            let inner: proc_macro2::TokenStream = g
                .stream()
                .into_iter()
                .map(|mut t| {
                    respan_tree(&mut t, span);
                    t
                })
                .collect();
            let mut group = proc_macro2::Group::new(g.delimiter(), inner);
            group.set_span(span);
            *g = group;
        }
        other => other.set_span(span),
    }
}
