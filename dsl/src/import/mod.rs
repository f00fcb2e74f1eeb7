//! Models declared from a saved file: `keras_model! { pub struct Net from "net.keras"; }`.
//!
//! The file's saved architecture is translated into the declaration a user would write — the
//! Sequential form (`input_shape: …, layers: [...]`) for a single chain of layers, Keras's
//! functional statements (`x = Conv2D(…)(img);` … `model = Model(…);`) for any other graph —
//! with each layer as the DSL's own call (`Dense(units = 10, activation = "relu", use_bias =
//! True, name = "dense")`). That text then goes through the same parse → model → check
//! pipeline as a hand-written declaration, so a file is held to exactly the rules (and produces
//! exactly the code) of the declaration `static-keras inspect` prints for it. Which config
//! entries are translated is read from each layer's signature table: the entries the DSL
//! accepts and does not ignore. Entries the DSL does not know are left out, as Keras's own
//! loader ignores unknown keys.
//!
//! The translated model is then checked against the file's graph (the layers in Keras's
//! `model.layers` order, every call's inputs, the inputs and outputs), so that its fields,
//! weight order and wiring are the file's by construction and the embedded weights pair up.
//!
//! This module is plain Rust over syn (no proc-macro context), so the `static-keras` command
//! line tool compiles it too, to print a file's summary and declaration.

mod graph;
mod layer;
#[cfg(test)]
mod tests;
mod verify;

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use static_keras_file::ModelConfig;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility};

use crate::check::Shapes;
use crate::ctxt::Ctxt;
use crate::layers::{self, fmt_shape};
use crate::model::{self, Model};
use crate::parse::ModelInput;
use crate::summary::Row;

/// `struct Net from "path" [with weights];`
pub struct FileDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The file, relative to `CARGO_MANIFEST_DIR`.
    pub path: LitStr,
    /// `with weights`: embed the file's weights in the binary.
    pub embed: bool,
}

/// What `keras_model!` was given: a declaration, or a file to declare the model from.
pub enum Declaration {
    Inline(Box<ModelInput>),
    File(FileDecl),
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let fork = input.fork();
        let is_file = fork.call(Attribute::parse_outer).is_ok()
            && fork.parse::<Visibility>().is_ok()
            && fork.parse::<Token![struct]>().is_ok()
            && fork.parse::<Ident>().is_ok()
            && fork.peek(Ident)
            && fork.parse::<Ident>().is_ok_and(|i| i == "from");
        if !is_file {
            return input.parse().map(|m| Declaration::Inline(Box::new(m)));
        }
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident = input.parse()?;
        input.parse::<Ident>()?; // from
        let path: LitStr = input.parse()?;
        let mut embed = false;
        if input.peek(Ident) {
            let with: Ident = input.parse()?;
            if with != "with" {
                return Err(syn::Error::new(
                    with.span(),
                    "expected `with weights` or `;`",
                ));
            }
            let what: Ident = input.parse()?;
            if what != "weights" {
                return Err(syn::Error::new(what.span(), "expected `with weights`"));
            }
            embed = true;
        }
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        }
        if !input.is_empty() {
            return Err(
                input.error("expected `;` after `from \"file.keras\"` (optionally `with weights`)")
            );
        }
        Ok(Declaration::File(FileDecl {
            attrs,
            vis,
            ident,
            path,
            embed,
        }))
    }
}

/// A saved architecture in DSL form.
pub struct Translation {
    /// Each saved layer's constructor, in the file's layer order (Keras's `model.layers`,
    /// nested models flattened).
    pub layers: Vec<String>,
    /// The name each saved layer has in the declaration (its struct field), in the same order.
    pub names: Vec<String>,
    pub form: Form,
}

/// The two forms of a declaration.
pub enum Form {
    /// `input_shape: (…), layers: [...]`: the layers in order.
    Sequential { input_shape: Vec<usize> },
    /// Functional statements, inputs first and the closing `model = Model(…)` last (without
    /// their `;`).
    Functional { statements: Vec<String> },
}

/// Every input's shape, or errors naming the input whose shape is missing or variable.
fn input_shapes(config: &ModelConfig, errors: &mut Vec<String>) -> Vec<Vec<usize>> {
    config
        .inputs
        .iter()
        .map(|input| match &input.shape {
            None => {
                errors.push(format!(
                    "input `{}`: the file does not record its shape (build the model on `keras.Input(shape)` before saving)",
                    input.name
                ));
                Vec::new()
            }
            Some(dims) => {
                if let Some(i) = dims.iter().position(Option::is_none) {
                    errors.push(format!(
                        "input `{}`: dimension {} of its shape {} is variable (None); static-keras needs every dimension fixed: save the model with a fixed `keras.Input(shape)`",
                        input.name,
                        i + 1,
                        show_dims(dims)
                    ));
                }
                dims.iter().map(|d| d.unwrap_or(0)).collect()
            }
        })
        .collect()
}

/// `(None, 3)`.
fn show_dims(dims: &[Option<usize>]) -> String {
    let dims: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "None".to_string(), |d| d.to_string()))
        .collect();
    match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    }
}

/// Translates a saved architecture; the errors name each layer (or input) at fault. Every
/// layer's arguments are checked with the macro's own rules here, so that a message can name
/// the saved layer it is about.
pub fn translate(config: &ModelConfig) -> Result<Translation, Vec<String>> {
    let mut errors = Vec::new();
    let shapes = input_shapes(config, &mut errors);
    let what = |index: usize| {
        let layer = &config.layers[index];
        format!("layer {index} `{}` ({})", layer.name, layer.class)
    };
    // Each layer's arguments and the layer they build (without its name, chosen below).
    let mut built = Vec::new();
    for (index, saved) in config.layers.iter().enumerate() {
        let args = match layer::arguments(saved, &what(index)) {
            Ok(args) => args,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let class = layers::lookup(&saved.class).map_or("", |e| e.class);
        match layer::spec(&format!("{class}({})", args.join(", "))) {
            Ok(spec) => built.push((class, args, spec)),
            Err(e) => errors.extend(e.into_iter().map(|e| format!("{}: {e}", what(index)))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let outputs: Vec<usize> = built
        .iter()
        .map(|(_, _, spec)| 1 + spec.extra_outputs().len())
        .collect();
    // The Sequential form for a chain (whose last layer's outputs are the model's).
    let sequential = config.is_chain()
        && (config.class == "Sequential" || outputs.last().is_none_or(|&n| n == 1));
    let reserved: Vec<String> = match sequential {
        true => Vec::new(),
        false => config.inputs.iter().map(|i| i.name.clone()).collect(),
    };
    let names = layer::names(&config.layers, &reserved);
    let layers: Vec<String> = built
        .iter()
        .zip(&names)
        .map(|((class, args, _), name)| {
            let mut args = args.clone();
            args.push(format!("name = {name:?}"));
            format!("{class}({})", args.join(", "))
        })
        .collect();
    let form = if sequential {
        Form::Sequential {
            input_shape: shapes.into_iter().next().unwrap_or_default(),
        }
    } else {
        let described: Vec<graph::Layer> = layers
            .iter()
            .zip(&names)
            .zip(&built)
            .zip(&outputs)
            .map(
                |(((constructor, name), (_, _, spec)), &outputs)| graph::Layer {
                    name,
                    constructor,
                    outputs,
                    merge: spec.merge(),
                },
            )
            .collect();
        Form::Functional {
            statements: graph::statements(config, &shapes, &described)?,
        }
    };
    Ok(Translation {
        layers,
        names,
        form,
    })
}

/// Gives every token `span`, so that errors about generated syntax land on the file's path.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

impl Translation {
    /// The body of the declaration, one item per line.
    fn body_lines(&self) -> Vec<String> {
        match &self.form {
            Form::Sequential { input_shape } => {
                let mut lines = vec![
                    format!("input_shape: {},", fmt_shape(input_shape)),
                    "layers: [".to_string(),
                ];
                lines.extend(self.layers.iter().map(|l| format!("    {l},")));
                lines.push("],".to_string());
                lines
            }
            Form::Functional { statements } => statements.iter().map(|s| format!("{s};")).collect(),
        }
    }

    /// The declaration a user would write, formatted as rustfmt would.
    #[allow(dead_code)] // used by the command-line tool, which compiles this module too
    pub fn declaration(&self, vis: &str, name: &str) -> String {
        let mut out = format!("keras_model! {{\n    {vis}struct {name} {{\n");
        for line in self.body_lines() {
            out += &format!("        {line}\n");
        }
        out += "    }\n}\n";
        out
    }

    /// The declaration as the macro's input, every token spanned at `span`.
    pub fn model_input(&self, span: Span) -> syn::Result<ModelInput> {
        let text = format!("struct __Imported {{ {} }}", self.body_lines().join(" "));
        let tokens: TokenStream = text.parse().map_err(|e| {
            syn::Error::new(span, format!("internal error translating the file: {e}"))
        })?;
        syn::parse2(respan(tokens, span))
    }

    /// Builds and checks the translated model with the macro's own rules, and checks that it
    /// is the file's graph.
    pub fn analyse(&self, config: &ModelConfig) -> Result<(Model, Shapes), Vec<String>> {
        let input = self
            .model_input(Span::call_site())
            .map_err(|e| vec![e.to_string()])?;
        let cx = Ctxt::default();
        for e in &input.errors {
            cx.push(e.clone());
        }
        let model = model::build(input, &cx);
        let shapes = crate::check::infer(&model, &cx);
        if let Err(e) = cx.check() {
            return Err(e.into_iter().map(|e| e.to_string()).collect());
        }
        let Some(shapes) = shapes else {
            return Err(vec!["the model's shapes could not be inferred".into()]);
        };
        verify::same_graph(self, config, &model, &shapes)?;
        Ok((model, shapes))
    }
}

/// The rows of the model's summary table.
pub fn rows(model: &Model, shapes: &Shapes) -> Vec<Row> {
    crate::codegen::rows(&crate::codegen::Plan::new(model, shapes))
}
