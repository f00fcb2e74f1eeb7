//! A saved model's architecture: `config.json` of a `.keras` archive or the `model_config`
//! attribute of a legacy `.h5`, reduced to what a loader needs — the input shape and the layers in
//! order with their configs.
//!
//! Sequential models of Keras 3 and of Keras 2 (including the bare-list form of Keras 2.0) are
//! read, and Functional models whose layers form a single chain. Anything else (branches, several
//! inputs, nested models) is refused with a message that says so.

use serde_json::{Map, Value};

use crate::error::Error;

/// The architecture saved in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// `Sequential`, `Functional` or `Model`.
    pub class: String,
    /// The model's name, if saved.
    pub name: Option<String>,
    /// The input shape without the batch axis; `None` entries are variable dimensions.
    /// `None` if the file does not say (a Sequential model never built).
    pub input_shape: Option<Vec<Option<usize>>>,
    /// The input's dtype (`float32`, or `int32` before an `Embedding`), if saved.
    pub input_dtype: Option<String>,
    /// The layers in `model.layers` order, without the `InputLayer`.
    pub layers: Vec<LayerConfig>,
}

/// One saved layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerConfig {
    /// The Keras class name, e.g. `Dense`.
    pub class: String,
    /// The layer's name.
    pub name: String,
    /// Its config entries as saved.
    pub config: Map<String, Value>,
}

/// Model classes that may appear as a layer (nested models), which are not supported.
const MODEL_CLASSES: &[&str] = &["Sequential", "Functional", "Model"];

fn json_error(context: &str, message: impl Into<String>) -> Error {
    Error::Json {
        context: context.to_string(),
        message: message.into(),
    }
}

impl ModelConfig {
    /// Parses a serialized model (`{"class_name": …, "config": …}`); `context` names the
    /// document in messages.
    pub fn parse(text: &str, context: &str) -> Result<Self, Error> {
        let root: Value =
            serde_json::from_str(text).map_err(|e| json_error(context, e.to_string()))?;
        let class = root
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| json_error(context, "no `class_name` at the top level"))?
            .to_string();
        let config = root
            .get("config")
            .ok_or_else(|| json_error(context, "no `config` at the top level"))?;
        // Keras 2.0 wrote a Sequential's config as the bare list of its layers.
        let (layers, name) = match config {
            Value::Array(layers) => (layers.as_slice(), None),
            Value::Object(map) => (
                map.get("layers")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .ok_or_else(|| json_error(context, "the model config has no `layers` list"))?,
                map.get("name").and_then(Value::as_str).map(str::to_string),
            ),
            _ => {
                return Err(json_error(
                    context,
                    "the model config is neither an object nor a list",
                ))
            }
        };
        let mut model = ModelConfig {
            class: class.clone(),
            name,
            input_shape: None,
            input_dtype: None,
            layers: Vec::new(),
        };
        match class.as_str() {
            "Sequential" => {}
            "Functional" | "Model" => check_chain(layers, config, context)?,
            other => {
                return Err(Error::Unsupported {
                    message: format!(
                        "the file holds a `{other}` model; static-keras loads Sequential models and single-chain Functional models"
                    ),
                })
            }
        }
        for (index, entry) in layers.iter().enumerate() {
            let layer = layer_entry(entry, index, context)?;
            if layer.class == "InputLayer" {
                if !model.layers.is_empty() || model.input_shape.is_some() {
                    return Err(Error::Unsupported {
                        message: format!(
                            "the model has a second input (`{}`); static-keras models have one input",
                            layer.name
                        ),
                    });
                }
                model.input_shape = batch_shape(&layer.config, context)?;
                model.input_dtype = dtype_name(layer.config.get("dtype"));
                continue;
            }
            if MODEL_CLASSES.contains(&layer.class.as_str()) {
                return Err(Error::Unsupported {
                    message: format!(
                        "layer {} `{}` is a nested {} model; declare its layers inline instead",
                        model.layers.len(),
                        layer.name,
                        layer.class
                    ),
                });
            }
            // Keras 2: the first layer may carry the input shape itself.
            if model.layers.is_empty() && model.input_shape.is_none() {
                model.input_shape = batch_shape(&layer.config, context)?;
                model.input_dtype = dtype_name(layer.config.get("dtype"));
            }
            model.layers.push(layer);
        }
        if model.input_shape.is_none() {
            // A Keras 3 Sequential built on data records its build shape instead.
            if let Some(shape) = config.get("build_input_shape") {
                model.input_shape = shape_without_batch(shape, context)?;
            }
        }
        Ok(model)
    }
}

fn layer_entry(entry: &Value, index: usize, context: &str) -> Result<LayerConfig, Error> {
    let bad = |what: &str| json_error(context, format!("layer entry {index} has no {what}"));
    let class = entry
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`class_name`"))?
        .to_string();
    let config = entry
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| bad("`config` object"))?;
    let name = config
        .get("name")
        .or_else(|| entry.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(LayerConfig {
        class,
        name,
        config,
    })
}

/// `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2) without the batch axis.
fn batch_shape(
    config: &Map<String, Value>,
    context: &str,
) -> Result<Option<Vec<Option<usize>>>, Error> {
    match config
        .get("batch_shape")
        .or_else(|| config.get("batch_input_shape"))
    {
        Some(shape) => shape_without_batch(shape, context),
        None => Ok(None),
    }
}

fn shape_without_batch(shape: &Value, context: &str) -> Result<Option<Vec<Option<usize>>>, Error> {
    if shape.is_null() {
        return Ok(None);
    }
    let dims = shape
        .as_array()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| json_error(context, format!("the input shape {shape} is not a list")))?;
    dims[1..]
        .iter()
        .map(|d| match d {
            Value::Null => Ok(None),
            d => d
                .as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .map(Some)
                .ok_or_else(|| {
                    json_error(
                        context,
                        format!("the input shape {shape} has a bad dimension"),
                    )
                }),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A dtype entry: a string (Keras 2, Keras ≤ 3.3, InputLayer) or a DTypePolicy object.
pub(crate) fn dtype_name(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map
            .get("config")
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// The names of the layers a Functional layer entry reads from, in both Keras 3's
/// (`{"args": [{"config": {"keras_history": [name, …]}}]}`) and Keras 2's
/// (`[[[name, node, tensor, {}]]]`) `inbound_nodes` forms.
fn inbound_names(entry: &Value) -> Vec<String> {
    fn walk(v: &Value, keras2: bool, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Array(history)) = map.get("keras_history") {
                    if let Some(Value::String(name)) = history.first() {
                        out.push(name.clone());
                    }
                    return;
                }
                map.values().for_each(|v| walk(v, keras2, out));
            }
            Value::Array(items) => {
                if keras2 {
                    if let Some(Value::String(name)) = items.first() {
                        out.push(name.clone());
                        return;
                    }
                }
                items.iter().for_each(|v| walk(v, keras2, out));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(nodes) = entry.get("inbound_nodes") {
        let keras2 = nodes
            .as_array()
            .and_then(|n| n.first())
            .is_some_and(Value::is_array);
        walk(nodes, keras2, &mut out);
    }
    out
}

/// The first name of an `input_layers`/`output_layers` entry (`["x", 0, 0]` or `[["x", 0, 0]]`),
/// and how many entries it has.
fn endpoint(v: Option<&Value>) -> (Option<String>, usize) {
    match v.and_then(Value::as_array) {
        Some(items) if items.first().is_some_and(Value::is_string) => {
            (items[0].as_str().map(str::to_string), 1)
        }
        Some(items) => (
            items
                .first()
                .and_then(|i| i.get(0))
                .and_then(Value::as_str)
                .map(str::to_string),
            items.len(),
        ),
        None => (None, 0),
    }
}

/// Accepts a Functional model only if its layers form one chain, input to output, in order.
fn check_chain(layers: &[Value], config: &Value, context: &str) -> Result<(), Error> {
    let not_chain = |why: String| {
        Error::Unsupported {
        message: format!(
            "the Functional model is not a single chain of layers ({why}); static-keras supports Sequential stacks"
        ),
    }
    };
    let (input, inputs) = endpoint(config.get("input_layers"));
    let (output, outputs) = endpoint(config.get("output_layers"));
    if inputs != 1 || outputs != 1 {
        return Err(not_chain(format!("{inputs} inputs and {outputs} outputs")));
    }
    let mut previous: Option<String> = None;
    for (index, entry) in layers.iter().enumerate() {
        let layer = layer_entry(entry, index, context)?;
        let inbound = inbound_names(entry);
        match &previous {
            None if inbound.is_empty() => {}
            None => {
                return Err(not_chain(format!(
                    "`{}` comes first but has inputs",
                    layer.name
                )))
            }
            Some(prev) if inbound.len() == 1 && &inbound[0] == prev => {}
            Some(prev) => {
                return Err(not_chain(format!(
                    "`{}` reads {inbound:?} rather than the layer before it, `{prev}`",
                    layer.name
                )))
            }
        }
        previous = Some(layer.name);
    }
    let first = layers
        .first()
        .and_then(|l| layer_entry(l, 0, context).ok())
        .map(|l| l.name);
    if input != first || output != previous {
        return Err(not_chain(format!(
            "input {input:?} and output {output:?} are not the first and last layers"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras2_sequential_with_batch_input_shape_on_the_first_layer() {
        let text = r#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "batch_input_shape": [null, 5], "dtype": "float32"}}]}}"#;
        let m = ModelConfig::parse(text, "test").unwrap();
        assert_eq!(m.input_shape, Some(vec![Some(5)]));
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].class, "Dense");
    }

    #[test]
    fn keras20_bare_list() {
        let text = r#"{"class_name": "Sequential", "config": [
            {"class_name": "Dense", "config": {"name": "d", "units": 3, "batch_input_shape": [null, 5]}}]}"#;
        let m = ModelConfig::parse(text, "test").unwrap();
        assert_eq!(m.layers[0].name, "d");
    }

    #[test]
    fn functional_with_a_branch_is_refused() {
        let text = r#"{"class_name": "Functional", "config": {"name": "f",
            "input_layers": [["in", 0, 0]], "output_layers": [["b", 0, 0]], "layers": [
            {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_shape": [null, 4]}, "inbound_nodes": []},
            {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 2}, "inbound_nodes": [[["in", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "b", "config": {"name": "b", "units": 2}, "inbound_nodes": [[["in", 0, 0, {}]]]}]}}"#;
        let e = ModelConfig::parse(text, "test").unwrap_err().to_string();
        assert!(e.contains("not a single chain"), "{e}");
    }

    #[test]
    fn garbage_is_an_error() {
        for text in [
            "",
            "{",
            "[]",
            "{\"class_name\": 3}",
            "{\"class_name\": \"Sequential\", \"config\": 1}",
        ] {
            assert!(ModelConfig::parse(text, "test").is_err(), "{text}");
        }
    }
}
