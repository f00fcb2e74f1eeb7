//! A saved model's architecture: `config.json` of a `.keras` archive or the `model_config`
//! attribute of a legacy `.h5`, reduced to what a loader needs — the inputs, the layers in Keras's
//! `model.layers` order with their configs and how each call of each layer is wired, the outputs,
//! and where each layer's variables are stored.
//!
//! Sequential models (Keras 3, Keras 2, and Keras 2.0's bare list) and Functional models of any
//! shape are read, in the node formats of Keras 3 and tf.keras 2 (KERAS_GRAPHS §1). Nested
//! `Sequential` and `Functional` models are flattened into one graph: their layers become layers
//! of the outer model, called once per call of the nested model, and keep their own weight
//! locations (`layers/sequential/layers/dense/vars`, `model_weights/sub` with the variables named
//! after the layer). The flattened layers are listed in the order `graph::keras_layer_order`
//! gives the flat graph — the order a declaration of the same flat graph has.
//!
//! Raw tensor operations (`x + y`, `keras.ops.*`, tf.keras 2's `TFOpLambda`) are not layers and
//! are refused with a message naming the entry.

mod flatten;
mod nodes;

use serde_json::{Map, Value};
pub use static_keras_runtime::Source;

use crate::error::Error;
use crate::graph::{keras_layer_order, Call};

use flatten::Tensor;

/// The architecture saved in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// `Sequential`, `Functional` or `Model`.
    pub class: String,
    /// The model's name, if saved.
    pub name: Option<String>,
    /// The first input's shape without the batch axis; `None` entries are variable dimensions.
    /// `None` if the file does not say (a Sequential model never built). The same as
    /// `inputs[0].shape`.
    pub input_shape: Option<Vec<Option<usize>>>,
    /// The first input's dtype (`float32`, or `int32` before an `Embedding`), if saved.
    pub input_dtype: Option<String>,
    /// The layers in Keras's `model.layers` order, without the `InputLayer`s and with nested
    /// models flattened (see the module docs). [`Source::Layer`] indices point into this list.
    pub layers: Vec<LayerConfig>,
    /// The model's inputs in Keras's order (`model.inputs`: `input_layers` flattened, a dict by
    /// sorted key). A Sequential model has one.
    pub inputs: Vec<InputConfig>,
    /// The model's outputs in Keras's order (`model.outputs`: `output_layers` flattened, a dict
    /// by sorted key). A Sequential model's is its last layer's first output (the file does not
    /// say how many outputs that layer has).
    pub outputs: Vec<Source>,
}

/// One input of a saved model.
#[derive(Debug, Clone, PartialEq)]
pub struct InputConfig {
    /// The InputLayer's name (`<first layer>_input` for a Sequential model without one).
    pub name: String,
    /// The shape without the batch axis, if saved; `None` entries are variable dimensions.
    pub shape: Option<Vec<Option<usize>>>,
    /// The dtype, if saved.
    pub dtype: Option<String>,
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
    /// Each call of the layer, with the tensors it reads in Keras's argument order (a merge
    /// layer's list flattened). A shared layer has several calls; the layers of a nested model
    /// called twice have two each (all of the first call's, then the second's).
    pub calls: Vec<Vec<Source>>,
    /// Where its variables are stored.
    pub weights: WeightLocation,
    /// The rank (batch axis included) of the first input of its first call, when the file writes
    /// it (Keras 3 records every tensor's shape in its nodes).
    pub(crate) input_rank: Option<usize>,
}

/// Where a layer's variables are stored, in each layout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeightLocation {
    /// Keras 3 (`.keras`, `.weights.h5`): the group key at each level, outermost first, e.g.
    /// `["sequential", "dense_1"]` for `layers/sequential/layers/dense_1`. A key is the
    /// snake_case class name with a counter per class over that model's `layers`
    /// (KERAS_GRAPHS §1.6).
    pub keras3: Vec<String>,
    /// Legacy `.h5`: the names from the top model's layer down, e.g. `["sub", "inner1"]`: the
    /// variables are in the group `model_weights/sub`, named after `inner1`.
    pub legacy: Vec<String>,
}

impl WeightLocation {
    /// The Keras 3 group of the layer under `prefix` (`layers`, or Keras 2.13's
    /// `_layer_checkpoint_dependencies`, assumed to repeat at each level the way `layers` does):
    /// `layers/sequential/layers/dense_1`.
    pub fn keras3_group(&self, prefix: &str) -> String {
        let mut path = prefix.to_string();
        for (i, key) in self.keras3.iter().enumerate() {
            if i > 0 {
                path.push('/');
                path.push_str(prefix);
            }
            path.push('/');
            path.push_str(key);
        }
        path
    }
}

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
        if !["Sequential", "Functional", "Model"].contains(&class.as_str()) {
            return Err(Error::Unsupported {
                message: format!(
                    "the file holds a `{class}` model; static-keras loads Sequential and Functional models"
                ),
            });
        }
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let flat = flatten::read(&class, config, context)?;
        let (layers, outputs) = order(&flat, context)?;
        let first = flat.inputs.first();
        Ok(ModelConfig {
            input_shape: first.and_then(|i| i.shape.clone()),
            input_dtype: first.and_then(|i| i.dtype.clone()),
            class,
            name,
            layers,
            inputs: flat.inputs,
            outputs,
        })
    }
}

impl ModelConfig {
    /// Whether the model is a single chain: one input, each layer called once on the output of
    /// the layer before it (the first on the input), the last layer's output the model's only
    /// output. Sequential models always are.
    pub fn is_chain(&self) -> bool {
        self.chain_break().is_none()
    }

    /// An error saying where the model stops being a single chain (see
    /// [`ModelConfig::is_chain`]), for readers that declare layer stacks only.
    pub fn require_chain(&self) -> Result<(), Error> {
        match self.chain_break() {
            None => Ok(()),
            Some(why) => Err(Error::Unsupported {
                message: format!(
                    "the {} model is not a single chain of layers ({why}); static-keras declares layer stacks from files",
                    self.class
                ),
            }),
        }
    }

    fn chain_break(&self) -> Option<String> {
        if self.inputs.len() != 1 {
            return Some(format!("it has {} inputs", self.inputs.len()));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let previous = match i {
                0 => Source::Input(0),
                _ => Source::Layer {
                    layer: i - 1,
                    call: 0,
                    output: 0,
                },
            };
            if layer.calls.len() != 1 {
                return Some(format!(
                    "layer {i} `{}` is called {} times",
                    layer.name,
                    layer.calls.len()
                ));
            }
            if layer.calls[0] != [previous] {
                return Some(format!(
                    "layer {i} `{}` does not read the {} alone",
                    layer.name,
                    if i == 0 { "input" } else { "layer before it" }
                ));
            }
        }
        let last = match self.layers.len() {
            0 => Source::Input(0),
            n => Source::Layer {
                layer: n - 1,
                call: 0,
                output: 0,
            },
        };
        if self.outputs != [last] {
            return Some(format!(
                "its outputs are not the last layer's output alone ({} outputs)",
                self.outputs.len()
            ));
        }
        None
    }
}

/// The flat graph's leaves in Keras's order, with every tensor reference renumbered to that
/// order, and the outputs.
fn order(flat: &flatten::Flat, context: &str) -> Result<(Vec<LayerConfig>, Vec<Source>), Error> {
    // graph.rs numbers inputs and leaves together: inputs first, each with one call of its own.
    let n_in = flat.inputs.len();
    let call_of = |t: &Tensor| match *t {
        Tensor::Input(i) => i,
        Tensor::Call { call, .. } => n_in + call,
    };
    let mut calls: Vec<Call> = (0..n_in)
        .map(|i| Call {
            layer: i,
            inputs: Vec::new(),
        })
        .collect();
    calls.extend(flat.calls.iter().map(|c| Call {
        layer: n_in + c.leaf,
        inputs: c.inputs.iter().map(call_of).collect(),
    }));
    let outputs: Vec<usize> = flat.outputs.iter().map(call_of).collect();
    let inputs: Vec<usize> = (0..n_in).collect();
    let order = keras_layer_order(&calls, &outputs, &inputs).map_err(|cycle| {
        let leaf = calls[cycle.call].layer.saturating_sub(n_in);
        json_error(
            context,
            format!(
                "the graph has a cycle through layer `{}`",
                flat.leaves.get(leaf).map_or("?", |l| l.name.as_str())
            ),
        )
    })?;
    // Leaves no output depends on are left out, as Keras leaves them out of `model.layers`.
    let leaves: Vec<usize> = order
        .into_iter()
        .filter(|&l| l >= n_in)
        .map(|l| l - n_in)
        .collect();
    let mut position = vec![usize::MAX; flat.leaves.len()];
    for (i, &leaf) in leaves.iter().enumerate() {
        position[leaf] = i;
    }
    // A call's index among its layer's calls.
    let mut nth = vec![0; flat.calls.len()];
    for leaf in &flat.leaves {
        for (k, &call) in leaf.calls.iter().enumerate() {
            nth[call] = k;
        }
    }
    let source = |t: &Tensor| -> Result<Source, Error> {
        Ok(match *t {
            Tensor::Input(i) => Source::Input(i),
            Tensor::Call { call, output } => {
                let leaf = flat.calls[call].leaf;
                let layer = position[leaf];
                if layer == usize::MAX {
                    return Err(json_error(
                        context,
                        format!(
                            "layer `{}` feeds a layer of the model but no output",
                            flat.leaves[leaf].name
                        ),
                    ));
                }
                Source::Layer {
                    layer,
                    call: nth[call],
                    output,
                }
            }
        })
    };
    let mut layers = Vec::with_capacity(leaves.len());
    for &leaf in &leaves {
        let l = &flat.leaves[leaf];
        let calls = l
            .calls
            .iter()
            .map(|&c| flat.calls[c].inputs.iter().map(source).collect())
            .collect::<Result<Vec<Vec<Source>>, Error>>()?;
        layers.push(LayerConfig {
            class: l.class.clone(),
            name: l.name.clone(),
            config: l.config.clone(),
            calls,
            weights: l.weights.clone(),
            input_rank: l.calls.first().and_then(|&c| flat.calls[c].rank),
        });
    }
    let outputs = flat
        .outputs
        .iter()
        .map(source)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((layers, outputs))
}

/// `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2) without the batch axis.
pub(crate) fn batch_shape(
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

pub(crate) fn shape_without_batch(
    shape: &Value,
    context: &str,
) -> Result<Option<Vec<Option<usize>>>, Error> {
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

    fn dense(name: &str, nodes: &str) -> String {
        format!(
            r#"{{"class_name": "Dense", "name": "{name}", "config": {{"name": "{name}", "units": 2, "trainable": true, "dtype": "float32"}}, "inbound_nodes": {nodes}}}"#
        )
    }

    fn input(name: &str) -> String {
        format!(
            r#"{{"class_name": "InputLayer", "name": "{name}", "config": {{"name": "{name}", "batch_shape": [null, 4], "dtype": "float32"}}, "inbound_nodes": []}}"#
        )
    }

    fn functional(layers: &[String], inputs: &str, outputs: &str) -> String {
        format!(
            r#"{{"class_name": "Functional", "config": {{"name": "f", "layers": [{}], "input_layers": {inputs}, "output_layers": {outputs}}}}}"#,
            layers.join(", ")
        )
    }

    /// Each layer's calls as names: `name[call].output` (call and output shown when not 0).
    fn wiring(m: &ModelConfig) -> Vec<String> {
        let show = |s: &Source| match *s {
            Source::Input(i) => m.inputs[i].name.clone(),
            Source::Layer {
                layer,
                call,
                output,
            } => {
                let mut t = m.layers[layer].name.clone();
                if call > 0 {
                    t += &format!("[{call}]");
                }
                if output > 0 {
                    t += &format!(".{output}");
                }
                t
            }
        };
        m.layers
            .iter()
            .map(|l| {
                let calls: Vec<String> = l
                    .calls
                    .iter()
                    .map(|c| c.iter().map(show).collect::<Vec<_>>().join("+"))
                    .collect();
                format!("{} <- {}", l.name, calls.join(" | "))
            })
            .collect()
    }

    #[test]
    fn a_residual_branch_in_keras_order() {
        // Add([short, y]) with the shortcut created first: Keras lists it after `y1`.
        let text = functional(
            &[
                input("img"),
                dense("short", r#"[[["img", 0, 0, {}]]]"#),
                dense("y1", r#"[[["img", 0, 0, {}]]]"#),
                dense("y2", r#"[[["y1", 0, 0, {}]]]"#),
                r#"{"class_name": "Add", "name": "add", "config": {"name": "add", "trainable": true, "dtype": "float32"},
                    "inbound_nodes": [[["short", 0, 0, {}], ["y2", 0, 0, {}]]]}"#
                    .to_string(),
            ],
            r#"[["img", 0, 0]]"#,
            r#"[["add", 0, 0]]"#,
        );
        let m = ModelConfig::parse(&text, "test").unwrap();
        assert_eq!(
            wiring(&m),
            ["y1 <- img", "short <- img", "y2 <- y1", "add <- short+y2"]
        );
        assert_eq!(m.outputs.len(), 1);
        assert_eq!(m.input_shape, Some(vec![Some(4)]));
        let keys: Vec<_> = m
            .layers
            .iter()
            .map(|l| l.weights.keras3.join("/"))
            .collect();
        // Weight groups are counted in config order, not in Keras's layer order.
        assert_eq!(keys, ["dense_1", "dense", "dense_2", "add"]);
    }

    fn error(text: &str) -> String {
        ModelConfig::parse(text, "test").unwrap_err().to_string()
    }

    #[test]
    fn malformed_graphs_are_errors_that_say_where() {
        let one =
            |layers: &[String], outputs: &str| functional(layers, r#"[["in", 0, 0]]"#, outputs);
        let e = error(&one(
            &[input("in"), dense("a", r#"[[["nope", 0, 0, {}]]]"#)],
            r#"[["a", 0, 0]]"#,
        ));
        assert!(
            e.contains("layer `a` reads `nope`, which is not a layer of model `f`"),
            "{e}"
        );
        let e = error(&one(
            &[input("in"), dense("a", r#"[[["in", 0, 0, {}]]]"#)],
            r#"[["a", 1, 0]]"#,
        ));
        assert!(
            e.contains(
                "model `f` reads `a` node 1 tensor 0: the layer is called 1 time(s) in the model"
            ),
            "{e}"
        );
        let e = error(&one(
            &[
                input("in"),
                dense("a", r#"[[["b", 0, 0, {}]]]"#),
                dense("b", r#"[[["a", 0, 0, {}]]]"#),
            ],
            r#"[["b", 0, 0]]"#,
        ));
        assert!(
            e.contains("call 0 of layer `a` in model `f` reads a tensor that is never computed"),
            "{e}"
        );
        let e = error(&one(&[input("in"), dense("in", "[]")], r#"[["in", 0, 0]]"#));
        assert!(e.contains("two layers are named `in` in model `f`"), "{e}");
        let e = error(&functional(
            &[input("in"), dense("a", r#"[[["in", 0, 0, {}]]]"#)],
            r#"[["a", 0, 0]]"#,
            r#"[["a", 0, 0]]"#,
        ));
        assert!(e.contains("`input_layers` of model `f` names `a` (node 0, tensor 0), which is not an InputLayer's output"), "{e}");
        let e = error(&one(
            &[
                input("in"),
                input("other"),
                dense("a", r#"[[["other", 0, 0, {}]]]"#),
            ],
            r#"[["a", 0, 0]]"#,
        ));
        assert!(
            e.contains("the InputLayer is not one of the model's inputs"),
            "{e}"
        );
        let e = error(&one(
            &[input("in"), dense("a", r#"{"args": 3}"#)],
            r#"[["a", 0, 0]]"#,
        ));
        assert!(
            e.contains("the `inbound_nodes` of layer `a` are not a list"),
            "{e}"
        );
        let e = error(&one(&[input("in")], r#""in""#));
        assert!(e.contains("`output_layers` holds \"in\""), "{e}");
        let e = error(r#"{"class_name": "Custom", "config": {}}"#);
        assert_eq!(e, "unsupported: the file holds a `Custom` model; static-keras loads Sequential and Functional models");
    }

    #[test]
    fn keras2_keyword_tensors_and_nested_models_counting_from_one() {
        // tf.keras 2: a tensor passed by keyword sits in the kwargs; a nested Sequential that
        // starts with an InputLayer is referenced from node 1.
        let text = functional(
            &[
                input("in"),
                dense("v", r#"[[["in", 0, 0, {}]]]"#),
                r#"{"class_name": "Attention", "name": "att", "config": {"name": "att", "trainable": true, "dtype": "float32"},
                    "inbound_nodes": [[["in", 0, 0, {"value": ["v", 0, 0], "mask": null}]]]}"#
                    .to_string(),
                r#"{"class_name": "Sequential", "name": "sub", "config": {"name": "sub", "layers": [
                    {"class_name": "InputLayer", "config": {"name": "sub_in", "batch_input_shape": [null, 2]}},
                    {"class_name": "Dense", "config": {"name": "d1", "units": 2, "trainable": true, "dtype": "float32"}},
                    {"class_name": "Dense", "config": {"name": "d2", "units": 2, "trainable": true, "dtype": "float32"}}]},
                    "inbound_nodes": [[["att", 0, 0, {}]]]}"#
                    .to_string(),
            ],
            r#"[["in", 0, 0]]"#,
            r#"[["sub", 1, 0]]"#,
        );
        let m = ModelConfig::parse(&text, "test").unwrap();
        assert_eq!(
            wiring(&m),
            ["v <- in", "att <- in+v", "d1 <- att", "d2 <- d1"]
        );
        let d2 = &m.layers[3];
        assert_eq!(d2.weights.keras3, ["sequential", "dense_1"]);
        assert_eq!(
            d2.weights.keras3_group("layers"),
            "layers/sequential/layers/dense_1"
        );
        assert_eq!(d2.weights.legacy, ["sub", "d2"]);
        assert!(!m.is_chain());
        let e = m.require_chain().unwrap_err().to_string();
        assert_eq!(e, "unsupported: the Functional model is not a single chain of layers (layer 1 `att` does not read the layer before it alone); static-keras declares layer stacks from files");
    }

    /// Nested models called several times multiply their calls: 17 levels of a model calling the
    /// one inside it twice would flatten to 2^17 Dense calls; that is refused, not attempted.
    #[test]
    fn exponential_nesting_is_refused() {
        let mut model = format!(
            r#"{{"class_name": "Functional", "config": {{"name": "m", "layers": [{}, {}],
                "input_layers": [["i", 0, 0]], "output_layers": [["d", 0, 0]]}}}}"#,
            input("i"),
            dense("d", r#"[[["i", 0, 0, {}]]]"#)
        );
        for _ in 0..17 {
            let nested = model.strip_suffix('}').unwrap().to_string()
                + r#", "name": "m", "inbound_nodes": [[["i", 0, 0, {}]], [["m", 1, 0, {}]]]}"#;
            model = format!(
                r#"{{"class_name": "Functional", "config": {{"name": "m", "layers": [{}, {nested}],
                    "input_layers": [["i", 0, 0]], "output_layers": [["m", 2, 0]]}}}}"#,
                input("i")
            );
        }
        let e = error(&model);
        assert_eq!(e, "unsupported: the model, its nested models flattened, makes more than 65536 layer calls");
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
