//! The functional form's statements, read into the graph: inputs, layers bound to names,
//! applications, and the closing model line. Names are looked up in statement order, so Keras's
//! `x = f(x)` rebinding reads the latest assignment above it.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::graph_calls::model_call;
use super::{read_shape, Input, Model, Names, Value};
use crate::args::{is_none, tuple_items};
use crate::ctxt::Ctxt;
use crate::parse::{self, Statement};
use crate::suggest::did_you_mean;

/// What a DSL name is bound to.
#[derive(Clone)]
pub(super) enum Binding {
    /// A tensor, or the several tensors of one call (`y = LSTM(…, return_state = True)(x)`).
    Tensors(Vec<Value>),
    /// A layer not yet applied to anything (`d = Dense(3);`), by index.
    Layer(usize),
}

/// Keras's merge functions, `add([a, b])` for `Add()([a, b])`.
pub(super) const MERGE_FUNCTIONS: &[(&str, &str)] = &[
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
pub(super) struct Functional<'m> {
    pub(super) model: &'m mut Model,
    pub(super) cx: &'m Ctxt,
    pub(super) names: Names,
    pub(super) scope: HashMap<String, (Binding, Span)>,
    /// The statements assigning each name, for "used before it is assigned" messages.
    pub(super) assigned_at: HashMap<String, Vec<usize>>,
    /// The statement being read.
    pub(super) current: usize,
    /// How often each value is read, and where each DSL binding came from (unused checks).
    pub(super) reads: HashMap<Value, usize>,
    pub(super) bound: Vec<(String, Vec<Value>, Span)>,
    pub(super) layer_uses: Vec<usize>,
    pub(super) saw_model: Option<Span>,
    /// Inputs listed in `Model(inputs = …)`, in order, by their index in `model.inputs`.
    pub(super) listed: Vec<usize>,
}

impl<'m> Functional<'m> {
    pub(super) fn new(model: &'m mut Model, cx: &'m Ctxt) -> Self {
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

    pub(super) fn run(mut self, statements: Vec<Statement>) {
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

    pub(super) fn bind(&mut self, name: &Ident, binding: Binding) {
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
}
