//! `config.json` from the declaration: Keras's `Sequential` config for a `layers: [...]` model,
//! its `Functional` config (every call's wiring as `inbound_nodes`) otherwise, in the format
//! Keras 3.15 writes (KERAS_GRAPHS §1.2) and `keras.saving.load_model` reads.
//!
//! Each layer's config holds the entries the declaration resolved ([`LayerInfo::config`]), which
//! are all that Keras's constructors need to rebuild the layer for inference; arguments that only
//! training uses and the declaration does not keep (initializers, regularizers, BatchNormalization's
//! `momentum`) are left to Keras's defaults.

use serde_json::{json, Map, Value};
use static_keras_runtime::{ConfigValue, LayerInfo, Source};

use super::{save_error, Entry, Snapshot};
use crate::Error;

/// Layers that take their inputs as one list (`Add()([a, b])`).
const MERGE_CLASSES: &[&str] = &[
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
];

/// Config entries the declaration records (for checking files that tf.keras 2 wrote), or the
/// base layer config holds, but that Keras 3's constructor of the class refuses.
fn refused(class: &str, key: &str) -> bool {
    match key {
        "groups" => {
            class.contains("Transpose")
                || class.starts_with("Depthwise")
                || class.starts_with("Separable")
        }
        // Keras 3 spells it `negative_slope`; `alpha` is the tf.keras 2 name kept for checking.
        "alpha" => class == "LeakyReLU",
        // SpatialDropout's constructor takes no `trainable` (its `get_config` leaves it out).
        "trainable" => class.starts_with("SpatialDropout"),
        _ => false,
    }
}

fn value(v: &ConfigValue) -> Value {
    match *v {
        ConfigValue::Int(i) => json!(i),
        ConfigValue::Ints(v) => json!(v),
        ConfigValue::Float(f) => json!(f),
        ConfigValue::Bool(b) => json!(b),
        ConfigValue::Str(s) => json!(s),
        ConfigValue::None => Value::Null,
        ConfigValue::Axes { axes: [one], .. } => json!(one),
        ConfigValue::Axes { axes, .. } => json!(axes),
        ConfigValue::Floats(v) => json!(v),
        // `ConfigValue` may grow; an unknown kind is written as null rather than guessed.
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

/// A layer's Keras config: its declared entries, adjusted to what Keras 3's constructor takes,
/// plus its name, `trainable` and dtype.
fn layer_config(info: &LayerInfo, trainable: bool) -> Map<String, Value> {
    let class = info.class;
    let mut config = Map::new();
    config.insert("name".into(), json!(info.name));
    if !refused(class, "trainable") {
        config.insert("trainable".into(), json!(trainable));
    }
    config.insert("dtype".into(), json!("float32"));
    for (key, v) in info.config {
        if refused(class, key) {
            continue;
        }
        let mut v = value(v);
        // The declaration keeps a padding or cropping of rank > 1 flattened; Keras nests it
        // as one (before, after) pair per axis.
        let paired = matches!(*key, "padding" | "cropping")
            && (class.starts_with("ZeroPadding") || class.starts_with("Cropping"))
            && !class.ends_with("1D");
        if let (true, Value::Array(flat)) = (paired, &v) {
            v = Value::Array(flat.chunks(2).map(|p| Value::Array(p.to_vec())).collect());
        }
        config.insert((*key).to_string(), v);
    }
    config
}

fn batch_shape(shape: &[usize]) -> Value {
    let mut dims = vec![Value::Null];
    dims.extend(shape.iter().map(|&d| json!(d)));
    Value::Array(dims)
}

fn input_layer(name: &str, shape: &[usize], dtype: &str) -> Map<String, Value> {
    let mut entry = Map::new();
    entry.insert("module".into(), json!("keras.layers"));
    entry.insert("class_name".into(), json!("InputLayer"));
    entry.insert(
        "config".into(),
        json!({
            "batch_shape": batch_shape(shape),
            "dtype": dtype,
            "sparse": false,
            "ragged": false,
            "name": name,
        }),
    );
    entry.insert("registered_name".into(), Value::Null);
    entry
}

fn layer_entry(info: &LayerInfo, trainable: bool) -> Map<String, Value> {
    let mut entry = Map::new();
    entry.insert("module".into(), json!("keras.layers"));
    entry.insert("class_name".into(), json!(info.class));
    entry.insert(
        "config".into(),
        Value::Object(layer_config(info, trainable)),
    );
    entry.insert("registered_name".into(), Value::Null);
    entry
}

/// The model's `config.json`.
pub(super) fn model(s: &Snapshot) -> Result<Value, Error> {
    let Some(graph) = s.graph else {
        return Err(save_error(
            "the model does not describe its declaration (`Model::GRAPH` is `None`), which \
             `config.json` is built from; `save_weights` writes its weights alone",
        ));
    };
    if graph.inputs.len() != s.input_shapes.len() {
        return Err(save_error(format!(
            "the model declares {} inputs but {} input shapes",
            graph.inputs.len(),
            s.input_shapes.len()
        )));
    }
    let trainable = |l: usize| graph.trainable.get(l).copied().unwrap_or(true);
    if s.sequential {
        let input = graph.inputs.first().map_or("input_layer", |i| i.name);
        let dtype = graph.inputs.first().map_or("float32", |i| i.dtype);
        let shape = s.input_shapes.first().copied().unwrap_or(&[]);
        let mut layers = vec![Value::Object(input_layer(input, shape, dtype))];
        for (l, layer) in s.layers.iter().enumerate() {
            layers.push(Value::Object(layer_entry(&layer.info, trainable(l))));
        }
        return Ok(json!({
            "module": "keras",
            "class_name": "Sequential",
            "registered_name": null,
            "config": {
                "name": graph.name,
                "trainable": true,
                "dtype": "float32",
                "layers": layers,
                "build_input_shape": batch_shape(shape),
            },
            "build_config": {"input_shape": batch_shape(shape)},
        }));
    }

    // A tensor as Keras serializes a call's argument.
    let tensor = |source: &Source| -> Result<Value, Error> {
        let (name, node, index, shape, dtype) = match *source {
            Source::Input(i) => {
                let input = graph.inputs.get(i).ok_or_else(|| {
                    save_error(format!("the graph reads input {i}, which it lacks"))
                })?;
                (input.name, 0, 0, s.input_shapes[i], input.dtype)
            }
            Source::Layer {
                layer,
                call,
                output,
            } => {
                let shape = graph
                    .call_shapes
                    .get(layer)
                    .and_then(|calls| calls.get(call))
                    .and_then(|outputs| outputs.get(output))
                    .copied()
                    .ok_or_else(|| {
                        save_error(format!(
                            "the graph reads output {output} of call {call} of layer {layer}, which it lacks"
                        ))
                    })?;
                (s.layers[layer].info.name, call, output, shape, "float32")
            }
        };
        Ok(json!({
            "class_name": "__keras_tensor__",
            "config": {
                "shape": batch_shape(shape),
                "dtype": dtype,
                "keras_history": [name, node, index],
            },
        }))
    };
    let mut layers = Vec::new();
    for entry in &s.entries {
        let item = match *entry {
            Entry::Input(i) => {
                let input = &graph.inputs[i];
                let mut item = input_layer(input.name, s.input_shapes[i], input.dtype);
                item.insert("name".into(), json!(input.name));
                item.insert("inbound_nodes".into(), json!([]));
                item
            }
            Entry::Layer(l) => {
                let info = &s.layers[l].info;
                let mut item = layer_entry(info, trainable(l));
                let list = MERGE_CLASSES.contains(&info.class);
                let nodes = info
                    .calls
                    .iter()
                    .map(|sources| {
                        let tensors = sources.iter().map(tensor).collect::<Result<Vec<_>, _>>()?;
                        let args = if list {
                            vec![Value::Array(tensors)]
                        } else {
                            tensors
                        };
                        Ok(json!({"args": args, "kwargs": {}}))
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                item.insert("name".into(), json!(info.name));
                item.insert("inbound_nodes".into(), Value::Array(nodes));
                item
            }
        };
        layers.push(Value::Object(item));
    }
    let history = |source: &Source| -> Value {
        match *source {
            Source::Input(i) => json!([graph.inputs[i].name, 0, 0]),
            Source::Layer {
                layer,
                call,
                output,
            } => json!([s.layers[layer].info.name, call, output]),
        }
    };
    let ends = |items: Vec<Value>| -> Value {
        if items.len() == 1 {
            items.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::Array(items)
        }
    };
    let inputs = ends(
        (0..graph.inputs.len())
            .map(|i| history(&Source::Input(i)))
            .collect(),
    );
    let outputs = ends(graph.outputs.iter().map(history).collect());
    Ok(json!({
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "registered_name": "Functional",
        "config": {
            "name": graph.name,
            "trainable": true,
            "layers": layers,
            "input_layers": inputs,
            "output_layers": outputs,
        },
        "build_config": {"input_shape": null},
    }))
}
