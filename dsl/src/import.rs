//! Models declared from a saved file: `keras_model! { pub struct Net from "net.keras"; }`.
//!
//! The file's saved architecture is translated, layer by layer, into the DSL's own call syntax
//! (`Dense(units = 10, activation = "relu", use_bias = True, name = "dense")`) and then goes
//! through the same parse → model → check pipeline as a hand-written declaration, so a file is
//! held to exactly the rules (and produces exactly the code) of the equivalent declaration.
//! Which config entries are translated is read from each layer's signature table: the entries
//! the DSL accepts and does not ignore. Entries the DSL does not know are left out, as Keras's
//! own loader ignores unknown keys.
//!
//! This module is plain Rust over syn (no proc-macro context), so the `static-keras` command
//! line tool compiles it too, to print a file's summary and declaration.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use serde_json::Value;
use static_keras_file::{LayerConfig, ModelConfig};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility};

use crate::args::{Args, Kind};
use crate::check::Shapes;
use crate::ctxt::Ctxt;
use crate::layers;
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
    pub input_shape: Vec<usize>,
    /// One DSL layer call per saved layer.
    pub layers: Vec<String>,
}

/// A JSON config value as DSL (= Python) source.
fn python(value: &Value, key: &str) -> Result<String, String> {
    Ok(match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.is_finite() => format!("{f:?}"),
            _ => return Err(format!("`{key}` = {n} is not a finite number")),
        },
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|v| python(v, key))
                .collect::<Result<Vec<_>, _>>()?;
            match items.as_slice() {
                [one] => format!("({one},)"),
                _ => format!("({})", items.join(", ")),
            }
        }
        // A serialized built-in function, e.g. an activation: {"class_name": "function", "config": "relu"}.
        Value::Object(map) => match map.get("config") {
            Some(Value::String(name)) => format!("{name:?}"),
            _ => {
                return Err(format!(
                    "`{key}` is {value}, which static-keras cannot read"
                ))
            }
        },
    })
}

/// Whether a saved layer name can name a struct field as it is.
fn field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && syn::parse_str::<Ident>(name).is_ok()
        && name != "_"
}

/// Arguments whose `None` is not their default, so a saved `null` must be written out.
const NONE_IS_A_VALUE: &[(&str, &str)] = &[("Bidirectional", "merge_mode")];

/// Arguments that are layers, saved as `{"class_name": …, "config": …}` and written as calls.
const LAYER_ARGUMENTS: &[(&str, &str)] = &[
    ("TimeDistributed", "layer"),
    ("Bidirectional", "layer"),
    ("Bidirectional", "backward_layer"),
];

/// One saved layer as a DSL call, or why it cannot be one.
fn layer_call(layer: &LayerConfig, index: usize) -> Result<String, String> {
    let what = format!("layer {index} `{}` ({})", layer.name, layer.class);
    let call = call_text(&layer.class, &layer.config).map_err(|e| format!("{what}{e}"))?;
    if field_name(&layer.name) {
        let separator = if call.ends_with("()") { "" } else { ", " };
        let open = call.len() - 1;
        return Ok(format!(
            "{}{separator}name = {:?})",
            &call[..open],
            layer.name
        ));
    }
    Ok(call)
}

/// A layer of `class` with the saved `config` as a DSL call (`Dense(units = 8, …)`), its
/// wrapped layers (`{"class_name": …, "config": …}`) as nested calls. The error starts with
/// `: ` (or ` → ` into a wrapped layer), to follow the layer's description.
fn call_text(class: &str, config: &serde_json::Map<String, Value>) -> Result<String, String> {
    let Some(entry) = layers::lookup(class) else {
        let known: Vec<&str> = layers::LAYERS.iter().map(|e| e.class).collect();
        return Err(format!(
            ": static-keras has no {class} layer (it supports {})",
            known.join(", ")
        ));
    };
    let mut args = Vec::new();
    // The input shape comes from the InputLayer (or Keras 2's `batch_input_shape`); a Keras 2
    // Embedding's `input_length` repeats it and would give it twice.
    let translated = |p: &&crate::args::Param| p.kind != Kind::Ignored && p.name != "input_length";
    for param in entry.signature.iter().filter(translated) {
        match config.get(param.name) {
            Some(Value::Null) if NONE_IS_A_VALUE.contains(&(entry.class, param.name)) => {
                args.push(format!("{} = None", param.name));
            }
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) if LAYER_ARGUMENTS.contains(&(entry.class, param.name)) => {
                let (Some(Value::String(inner)), Some(Value::Object(inner_config))) =
                    (map.get("class_name"), map.get("config"))
                else {
                    return Err(format!(
                        ": `{}` is not a layer's class and config",
                        param.name
                    ));
                };
                let call = call_text(inner, inner_config)
                    .map_err(|e| format!(" → `{}` ({inner}){e}", param.name))?;
                args.push(format!("{} = {call}", param.name));
            }
            Some(value) => {
                let value = python(value, param.name).map_err(|e| format!(": {e}"))?;
                args.push(format!("{} = {value}", param.name));
            }
        }
    }
    Ok(format!("{}({})", entry.class, args.join(", ")))
}

/// Translates a saved architecture; the errors name each layer at fault.
pub fn translate(config: &ModelConfig) -> Result<Translation, Vec<String>> {
    // The file crate now reads any functional graph; the translation declares layer stacks.
    config.require_chain().map_err(|e| vec![e.to_string()])?;
    let mut errors = Vec::new();
    let input_shape = match &config.input_shape {
        None => {
            errors.push("the file does not record the model's input shape (build the model on `keras.Input(shape)` before saving)".to_string());
            Vec::new()
        }
        Some(dims) => {
            if let Some(i) = dims.iter().position(Option::is_none) {
                errors.push(format!(
                    "input dimension {} is variable (None); static-keras needs every dimension fixed: save the model with a fixed `keras.Input(shape)`",
                    i + 1
                ));
            }
            dims.iter().map(|d| d.unwrap_or(0)).collect()
        }
    };
    let mut layers = Vec::new();
    for (index, layer) in config.layers.iter().enumerate() {
        match layer_call(layer, index) {
            Ok(call) => layers.push(call),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Translation {
            input_shape,
            layers,
        })
    } else {
        Err(errors)
    }
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
    fn shape_text(&self) -> String {
        match self.input_shape.as_slice() {
            [one] => format!("({one},)"),
            dims => format!(
                "({})",
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The declaration a user would write, formatted as rustfmt would.
    #[allow(dead_code)] // used by the command-line tool, which compiles this module too
    pub fn declaration(&self, vis: &str, name: &str) -> String {
        let mut out = format!(
            "keras_model! {{\n    {vis}struct {name} {{\n        input_shape: {},\n        layers: [\n",
            self.shape_text()
        );
        for layer in &self.layers {
            out += &format!("            {layer},\n");
        }
        out += "        ],\n    }\n}\n";
        out
    }

    /// The declaration as the macro's input, every token spanned at `span`.
    pub fn model_input(&self, span: Span) -> syn::Result<ModelInput> {
        let text = format!(
            "struct __Imported {{ input_shape: {}, layers: [{}] }}",
            self.shape_text(),
            self.layers.join(", ")
        );
        let tokens: TokenStream = text.parse().map_err(|e| {
            syn::Error::new(span, format!("internal error translating the file: {e}"))
        })?;
        syn::parse2(respan(tokens, span))
    }

    /// Checks the translated model with the macro's own rules. Each layer's arguments are
    /// checked on their own first, so a message can name the saved layer it is about.
    pub fn analyse(&self, config: &ModelConfig) -> Result<(Model, Shapes), Vec<String>> {
        let input = self
            .model_input(Span::call_site())
            .map_err(|e| vec![e.to_string()])?;
        let mut errors = Vec::new();
        let calls: &[crate::parse::LayerCall] = match &input.body {
            crate::parse::Body::Sequential(seq) => &seq.layers,
            crate::parse::Body::Functional(_) => &[],
        };
        for (index, (call, saved)) in calls.iter().zip(&config.layers).enumerate() {
            let Some(entry) = layers::lookup(&call.class.to_string()) else {
                continue;
            };
            let cx = Ctxt::default();
            let args = Args::bind(call, entry.signature, &cx);
            let _ = (entry.build)(&args);
            if let Err(e) = cx.check() {
                errors.extend(
                    e.into_iter()
                        .map(|e| format!("layer {index} `{}` ({}): {e}", saved.name, saved.class)),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let cx = Ctxt::default();
        let model = model::build(input, &cx);
        let shapes = crate::check::infer(&model, &cx);
        if let Err(e) = cx.check() {
            return Err(e.into_iter().map(|e| e.to_string()).collect());
        }
        match shapes {
            Some(shapes) => Ok((model, shapes)),
            None => Err(vec!["the model's shapes could not be inferred".into()]),
        }
    }
}

/// The rows of the model's summary table.
pub fn rows(model: &Model, shapes: &Shapes) -> Vec<Row> {
    crate::codegen::rows(&crate::codegen::Plan::new(model, shapes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ModelConfig {
        ModelConfig::parse(text, "test").unwrap()
    }

    #[test]
    fn translates_keras3_config_entries_through_the_signature() {
        let c = config(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 6], "name": "input_layer"}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 8, "activation": "relu", "use_bias": true,
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}}},
            {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.3, "noise_shape": null, "seed": null}},
            {"class_name": "Reshape", "config": {"name": "Reshape-1", "target_shape": [-1, 2]}}]}}"#,
        );
        let t = translate(&c).unwrap();
        assert_eq!(t.input_shape, vec![6]);
        assert_eq!(
            t.layers,
            vec![
                r#"Dense(units = 8, activation = "relu", use_bias = True, name = "dense")"#,
                r#"Dropout(rate = 0.3, name = "dropout")"#,
                "Reshape(target_shape = (-1, 2))",
            ]
        );
        let (model, shapes) = t.analyse(&c).unwrap();
        assert_eq!(model.layers.len(), 3);
        assert_eq!(shapes.calls.last().unwrap()[0], vec![4, 2]);
    }

    #[test]
    fn names_the_unsupported_layer_and_the_bad_argument() {
        let c = config(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, null, 6]}},
            {"class_name": "Lambda", "config": {"name": "ln"}},
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": {"class_name": "Custom", "config": {"a": 1}}}}]}}"#,
        );
        let Err(errors) = translate(&c) else {
            panic!("must fail")
        };
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].contains("input dimension 1 is variable"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("layer 0 `ln` (Lambda): static-keras has no Lambda layer"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("layer 1 `d` (Dense): `activation`"),
            "{}",
            errors[2]
        );
    }

    #[test]
    fn wrapped_layers_are_nested_calls() {
        let c = config(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3]}},
            {"class_name": "TimeDistributed", "config": {"name": "td",
                "layer": {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}}},
            {"class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": null,
                "layer": {"class_name": "GRU", "config": {"name": "forward_gru", "units": 4, "return_sequences": true, "go_backwards": false, "reset_after": false}},
                "backward_layer": {"class_name": "GRU", "config": {"name": "backward_gru", "units": 4, "return_sequences": true, "go_backwards": true, "reset_after": false}}}}]}}"#,
        );
        let t = translate(&c).unwrap();
        assert_eq!(
            t.layers,
            vec![
                r#"TimeDistributed(layer = Dense(units = 2, activation = "relu"), name = "td")"#,
                "Bidirectional(layer = GRU(units = 4, return_sequences = True, go_backwards = False, reset_after = False), \
                 merge_mode = None, backward_layer = GRU(units = 4, return_sequences = True, go_backwards = True, reset_after = False), name = \"bi\")",
            ]
        );
        let (model, shapes) = t.analyse(&c).unwrap();
        assert_eq!(model.layers.len(), 2);
        // merge_mode None: two outputs.
        assert_eq!(shapes.calls[1], vec![vec![5, 4], vec![5, 4]]);
        let c = config(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3]}},
            {"class_name": "TimeDistributed", "config": {"name": "td",
                "layer": {"class_name": "Lambda", "config": {"name": "f"}}}}]}}"#,
        );
        let Err(errors) = translate(&c) else {
            panic!("must fail")
        };
        assert!(
            errors[0].starts_with(
                "layer 0 `td` (TimeDistributed) → `layer` (Lambda): static-keras has no Lambda layer"
            ),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn argument_errors_name_the_saved_layer() {
        let c = config(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 6]}},
            {"class_name": "Dense", "config": {"name": "out", "units": 3, "activation": "softmaxx"}}]}}"#,
        );
        let Err(errors) = translate(&c).unwrap().analyse(&c) else {
            panic!("must fail")
        };
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("layer 0 `out` (Dense): unknown activation \"softmaxx\""),
            "{}",
            errors[0]
        );
    }
}
