//! One saved layer as a DSL constructor call, `Dense(units = 8, activation = "relu", …,
//! name = "dense")`, and the names the declaration gives the saved layers.

use std::collections::HashSet;

use serde_json::Value;
use static_keras_file::{snake_case, LayerConfig};
use syn::Ident;

use crate::args::{Args, Kind, Param};
use crate::ctxt::Ctxt;
use crate::layers::{self, LayerSpec};

/// A JSON config value as DSL (= Python) source.
pub fn python(value: &Value, key: &str) -> Result<String, String> {
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
pub fn field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && syn::parse_str::<Ident>(name).is_ok()
        && name != "_"
}

/// A Rust identifier (lowercase, as fields and variables are) close to `name`: `Reshape-1` →
/// `reshape_1`, `bn_Conv1` → `bn_conv1`; `fallback` when nothing of `name` is left.
pub fn identifier(name: &str, fallback: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    let trimmed = out.trim_matches('_');
    out = if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "layer_");
    }
    // A keyword (`type`, `in`, `true`) is not an identifier.
    if syn::parse_str::<Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// Hands out names that are unique among those taken: `name`, else `name_2`, `name_3`, ….
#[derive(Default)]
pub struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    pub fn reserve(&mut self, name: &str) -> bool {
        self.taken.insert(name.to_string())
    }

    pub fn take(&mut self, base: &str) -> String {
        if self.reserve(base) {
            return base.to_string();
        }
        (2..)
            .map(|n| format!("{base}_{n}"))
            .find(|name| self.reserve(name))
            .expect("some suffix is free")
    }
}

/// The name each saved layer gets in the declaration (`name = "…"`, which names its struct
/// field): the Keras name when it can name a field and is not taken, else a close identifier
/// made unique. `reserved` are names already in use (a functional model's inputs).
pub fn names(layers: &[LayerConfig], reserved: &[String]) -> Vec<String> {
    let mut unique = Unique::default();
    for name in reserved {
        unique.reserve(name);
    }
    // Kept names first, so that a made-up name never takes one a later layer keeps.
    let kept: Vec<bool> = layers
        .iter()
        .map(|l| field_name(&l.name) && unique.reserve(&l.name))
        .collect();
    layers
        .iter()
        .zip(kept)
        .map(|(l, kept)| match kept {
            true => l.name.clone(),
            false => unique.take(&identifier(&l.name, &snake_case(&l.class))),
        })
        .collect()
}

/// Arguments whose `None` is not their default, so a saved `null` must be written out.
const NONE_IS_A_VALUE: &[(&str, &str)] = &[("Bidirectional", "merge_mode")];

/// Arguments that are layers, saved as `{"class_name": …, "config": …}` and written as calls.
const LAYER_ARGUMENTS: &[(&str, &str)] = &[
    ("TimeDistributed", "layer"),
    ("Bidirectional", "layer"),
    ("Bidirectional", "backward_layer"),
];

/// The config entries a layer's constructor takes, as `key = value` arguments: the entries its
/// signature reads (not the ignored ones; a wrapped layer as a nested call), or why the layer
/// cannot be declared.
pub fn arguments(layer: &LayerConfig, what: &str) -> Result<Vec<String>, String> {
    config_arguments(&layer.class, &layer.config).map_err(|e| format!("{what}{e}"))
}

/// [`arguments`] for a layer of `class` saved with `config`. The error starts with `: ` (or
/// ` → ` into a wrapped layer), to follow the layer's description.
fn config_arguments(
    class: &str,
    config: &serde_json::Map<String, Value>,
) -> Result<Vec<String>, String> {
    let Some(entry) = layers::lookup(class) else {
        let known: Vec<&str> = layers::LAYERS.iter().map(|e| e.class).collect();
        return Err(format!(
            ": static-keras has no {class} layer (it supports {})",
            known.join(", ")
        ));
    };
    // The input shape comes from the InputLayer (or Keras 2's `batch_input_shape`); a Keras 2
    // Embedding's `input_length` repeats it and would give it twice.
    let translated = |p: &&Param| p.kind != Kind::Ignored && p.name != "input_length";
    let mut args = Vec::new();
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
                let inner_class = layers::lookup(inner).map_or(inner.as_str(), |e| e.class);
                let inner_args = config_arguments(inner, inner_config)
                    .map_err(|e| format!(" → `{}` ({inner}){e}", param.name))?;
                args.push(format!(
                    "{} = {inner_class}({})",
                    param.name,
                    inner_args.join(", ")
                ));
            }
            Some(value) => {
                let value = python(value, param.name).map_err(|e| format!(": {e}"))?;
                args.push(format!("{} = {value}", param.name));
            }
        }
    }
    Ok(args)
}

/// The layer a constructor builds, checked with the macro's own argument rules; the errors are
/// the macro's messages.
pub fn spec(constructor: &str) -> Result<Box<dyn LayerSpec>, Vec<String>> {
    let internal = |e: String| vec![format!("internal error translating the file: {e}")];
    let expr: syn::Expr = syn::parse_str(constructor).map_err(|e| internal(e.to_string()))?;
    let call = crate::parse::layer_call(&expr).map_err(|e| internal(e.to_string()))?;
    let entry = layers::lookup(&call.class.to_string())
        .ok_or_else(|| internal(format!("no layer `{}`", call.class)))?;
    let cx = Ctxt::default();
    let spec = {
        let args = Args::bind(&call, entry.signature, &cx);
        (entry.build)(&args)
    };
    match (cx.check(), spec) {
        (Ok(()), Some(spec)) => Ok(spec),
        (Err(e), _) => Err(e.into_iter().map(|e| e.to_string()).collect()),
        (Ok(()), None) => Err(internal(format!("`{constructor}` builds no layer"))),
    }
}
