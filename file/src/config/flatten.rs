//! A saved model as one flat graph: nested `Sequential` and `Functional` models are opened up,
//! so every layer that computes something is a leaf of one graph, called as often as the models
//! around it are called.
//!
//! Two passes. `define` reads each model's config once: it numbers the leaves (each with where
//! its variables are stored) and resolves layer names to entries. `instantiate` then runs a model
//! on given input tensors, as Keras's `functional_from_config` does: each node is processed once
//! its inputs exist, in config order, repeating until nothing changes; a nested model called
//! twice is instantiated twice, its leaves getting a second call each.
//!
//! Node indices (`[layer, node, tensor]`) count the calls of a layer inside the model that
//! writes them, with one twist for nested models (checked against Keras 3.15.1, 3.3.3 and
//! tf_keras 2.21 files):
//! * Keras 3: `inbound_nodes` count from 0 for every layer; `input_layers`/`output_layers` count
//!   a nested Functional from 1 (its node 0 is its own internal node).
//! * tf.keras 2: both count from 1 for a nested Functional, and for a nested Sequential whose
//!   layers start with an InputLayer (tf.keras 2's Sequential is a Functional).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::nodes::{self, bad, Form, RawNode, RawRef};
use super::{batch_shape, dtype_name, InputConfig, WeightLocation};
use crate::error::Error;
use crate::weights::snake_case;

/// A tensor of the flat graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tensor {
    /// The top model's input `i`.
    Input(usize),
    /// Output `output` of call `call` (an index into `Flat::calls`).
    Call { call: usize, output: usize },
}

/// A layer that computes something (not an input, not a model).
#[derive(Debug)]
pub(super) struct Leaf {
    pub class: String,
    pub name: String,
    pub config: Map<String, Value>,
    pub weights: WeightLocation,
    /// Its calls, indices into `Flat::calls`, in the order they were made.
    pub calls: Vec<usize>,
}

#[derive(Debug)]
pub(super) struct Call {
    pub leaf: usize,
    pub inputs: Vec<Tensor>,
    pub rank: Option<usize>,
}

/// The whole model, flattened.
#[derive(Debug, Default)]
pub(super) struct Flat {
    pub inputs: Vec<InputConfig>,
    pub leaves: Vec<Leaf>,
    pub calls: Vec<Call>,
    pub outputs: Vec<Tensor>,
}

/// More layer calls than this in the flattened graph is refused: nested models called several
/// times multiply their calls, and a crafted file could ask for billions.
const MAX_CALLS: usize = 1 << 16;

/// Classes that are models (when their config has a `layers` list).
const MODEL_CLASSES: &[&str] = &["Sequential", "Functional", "Model"];
/// tf.keras 2 wrappers of raw TensorFlow operations.
const TF_OP_CLASSES: &[&str] = &["TFOpLambda", "SlicingOpLambda"];

enum Def {
    Functional(Functional),
    Sequential(Sequential),
}

struct Functional {
    name: String,
    entries: Vec<Entry>,
    /// The entries that are the model's inputs, in Keras's order.
    inputs: Vec<usize>,
    outputs: Vec<Ref>,
}

struct Sequential {
    name: String,
    items: Vec<Item>,
}

enum Item {
    Leaf(usize),
    Model(Box<Def>),
}

struct Entry {
    name: String,
    kind: Kind,
    nodes: Vec<Node>,
}

enum Kind {
    Input,
    Leaf(usize),
    Model {
        def: Box<Def>,
        /// Whether tf.keras 2 references to it count from 1: a Functional, or a Sequential
        /// starting with an InputLayer (see the module docs).
        skip_first: bool,
    },
}

struct Node {
    inputs: Vec<Ref>,
    rank: Option<usize>,
}

/// A reference with its layer resolved to an entry of the same model.
#[derive(Clone, Copy)]
struct Ref {
    entry: usize,
    node: usize,
    tensor: usize,
}

struct Reader<'a> {
    flat: Flat,
    /// The document's node form; `None` if no layer has an inbound node.
    form: Option<Form>,
    context: &'a str,
}

/// Where a model's layers store their variables.
#[derive(Clone, Default)]
struct Place {
    keras3: Vec<String>,
    legacy: Vec<String>,
}

impl Place {
    fn child(&self, key: String, name: &str) -> Place {
        let mut place = self.clone();
        place.keras3.push(key);
        place.legacy.push(name.to_string());
        place
    }
}

/// Per-class counters naming weight groups (`dense`, `dense_1`, …) within one model.
#[derive(Default)]
struct Counters(HashMap<String, usize>);

impl Counters {
    fn key(&mut self, class: &str) -> String {
        let base = match class {
            "Model" => "functional".to_string(),
            other => snake_case(other),
        };
        let n = self.0.entry(base.clone()).or_insert(0);
        let key = if *n == 0 { base } else { format!("{base}_{n}") };
        *n += 1;
        key
    }
}

/// What a layer entry is, before anything is allocated.
struct EntryHead<'v> {
    class: String,
    name: String,
    config: &'v Map<String, Value>,
}

fn head<'v>(entry: &'v Value, index: usize, context: &str) -> Result<EntryHead<'v>, Error> {
    let missing = |what: &str| bad(context, format!("layer entry {index} has no {what}"));
    let class = entry
        .get("class_name")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("`class_name`"))?
        .to_string();
    let config = entry
        .get("config")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("`config` object"))?;
    let name = config
        .get("name")
        .or_else(|| entry.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(EntryHead {
        class,
        name,
        config,
    })
}

fn is_model(head: &EntryHead) -> bool {
    MODEL_CLASSES.contains(&head.class.as_str())
        && head.config.get("layers").is_some_and(Value::is_array)
}

/// Raw operations on tensors (KERAS_GRAPHS §0 F3) are not layers and cannot be loaded.
fn refuse_op(entry: &Value, head: &EntryHead, form: Option<Form>) -> Result<(), Error> {
    let module = entry.get("module").and_then(Value::as_str);
    let keras3_op = module.is_some_and(|m| m.starts_with("keras.src.ops") || m.starts_with("keras.ops"))
        // Keras 3's legacy .h5 drops `module`; an operation's config is then just its name,
        // where every layer's has `trainable` and `dtype`.
        || (module.is_none()
            && form == Some(Form::Keras3)
            && head.class != "InputLayer"
            && !head.config.contains_key("trainable")
            && !head.config.contains_key("dtype"));
    if keras3_op {
        return Err(Error::Unsupported {
            message: format!(
                "`{}` ({}{}) is a raw operation on tensors (`x + y`, `keras.ops.*`), not a layer; static-keras loads layers only: build the model with the matching layer (e.g. `keras.layers.Add`) instead",
                head.name,
                head.class,
                module.map(|m| format!(" from {m}")).unwrap_or_default()
            ),
        });
    }
    if TF_OP_CLASSES.contains(&head.class.as_str()) {
        return Err(Error::Unsupported {
            message: format!(
                "`{}` ({}) wraps a raw TensorFlow operation, not a Keras layer; static-keras loads layers only: build the model with Keras layers instead",
                head.name, head.class
            ),
        });
    }
    Ok(())
}

/// The flat graph of a model config (`{"class_name", "config"}` of the top model).
pub(super) fn read(class: &str, config: &Value, context: &str) -> Result<Flat, Error> {
    let layers: &[Value] = match config {
        Value::Array(layers) => layers,
        Value::Object(map) => map
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(context, "the model config has no `layers` list"))?,
        _ => {
            return Err(bad(
                context,
                "the model config is neither an object nor a list",
            ))
        }
    };
    let mut reader = Reader {
        flat: Flat::default(),
        form: nodes::detect_form(layers),
        context,
    };
    let top = match class {
        "Sequential" => {
            let (def, input) = reader.sequential(layers, config, Place::default())?;
            reader.flat.inputs.push(input);
            Def::Sequential(def)
        }
        _ => {
            let def = reader.functional(layers, config, Place::default())?;
            for &entry in &def.inputs {
                reader
                    .flat
                    .inputs
                    .push(input_config(&layers[entry], context)?);
            }
            Def::Functional(def)
        }
    };
    let inputs: Vec<Tensor> = (0..reader.flat.inputs.len()).map(Tensor::Input).collect();
    let outputs = reader.instantiate(&top, &inputs)?;
    reader.flat.outputs = outputs;
    Ok(reader.flat)
}

fn input_config(entry: &Value, context: &str) -> Result<InputConfig, Error> {
    let head = head(entry, 0, context)?;
    Ok(InputConfig {
        name: head.name,
        shape: batch_shape(head.config, context)?,
        dtype: dtype_name(head.config.get("dtype")),
    })
}

impl Reader<'_> {
    fn leaf(&mut self, head: EntryHead, place: Place) -> usize {
        self.flat.leaves.push(Leaf {
            class: head.class,
            name: head.name,
            config: head.config.clone(),
            weights: WeightLocation {
                keras3: place.keras3,
                legacy: place.legacy,
            },
            calls: Vec::new(),
        });
        self.flat.leaves.len() - 1
    }

    /// A nested model entry: its definition and whether references to it count from 1.
    fn nested(
        &mut self,
        entry: &Value,
        head: &EntryHead,
        place: Place,
    ) -> Result<(Def, bool), Error> {
        let layers = head
            .config
            .get("layers")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let config = entry.get("config").unwrap_or(&Value::Null);
        if head.class == "Sequential" {
            let starts_with_input = layers
                .first()
                .and_then(|l| l.get("class_name"))
                .is_some_and(|c| c == "InputLayer");
            let (def, _) = self.sequential(layers, config, place)?;
            Ok((Def::Sequential(def), starts_with_input))
        } else {
            let def = self.functional(layers, config, place)?;
            Ok((Def::Functional(def), true))
        }
    }

    fn functional(
        &mut self,
        layers: &[Value],
        config: &Value,
        place: Place,
    ) -> Result<Functional, Error> {
        let context = self.context;
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut counters = Counters::default();
        let mut entries = Vec::with_capacity(layers.len());
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (index, entry) in layers.iter().enumerate() {
            let head = head(entry, index, context)?;
            refuse_op(entry, &head, self.form)?;
            if by_name.insert(head.name.clone(), index).is_some() {
                return Err(bad(
                    context,
                    format!("two layers are named `{}` in model `{name}`", head.name),
                ));
            }
            let entry_name = head.name.clone();
            let kind = if head.class == "InputLayer" {
                counters.key("InputLayer");
                Kind::Input
            } else if is_model(&head) {
                let key = counters.key(&head.class);
                let (def, skip_first) = self.nested(entry, &head, place.child(key, &head.name))?;
                Kind::Model {
                    def: Box::new(def),
                    skip_first,
                }
            } else {
                let key = counters.key(&head.class);
                let child = place.child(key, &head.name);
                Kind::Leaf(self.leaf(head, child))
            };
            entries.push(Entry {
                name: entry_name,
                kind,
                nodes: Vec::new(),
            });
        }
        let resolve = |r: RawRef, what: &str| -> Result<Ref, Error> {
            let entry = *by_name.get(&r.name).ok_or_else(|| {
                bad(
                    context,
                    format!(
                        "{what} reads `{}`, which is not a layer of model `{name}`",
                        r.name
                    ),
                )
            })?;
            Ok(Ref {
                entry,
                node: r.node,
                tensor: r.tensor,
            })
        };
        for (index, entry) in layers.iter().enumerate() {
            let what = format!("layer `{}`", entries[index].name);
            let raw: &[Value] = match entry.get("inbound_nodes") {
                None | Some(Value::Null) => &[],
                Some(Value::Array(raw)) => raw,
                Some(other) => {
                    return Err(bad(
                        context,
                        format!("the `inbound_nodes` of {what} are not a list: {other}"),
                    ))
                }
            };
            for node in raw {
                let RawNode { inputs, rank } = nodes::node(node, &what, context)?;
                let inputs = inputs
                    .into_iter()
                    .map(|r| resolve(r, &what))
                    .collect::<Result<Vec<_>, _>>()?;
                entries[index].nodes.push(Node { inputs, rank });
            }
        }
        let endpoint = |key: &str| -> Result<Vec<Ref>, Error> {
            let value = config.get(key).ok_or_else(|| {
                bad(
                    context,
                    format!("the Functional model `{name}` has no `{key}`"),
                )
            })?;
            nodes::endpoints(value, key, context)?
                .into_iter()
                .map(|r| resolve(r, &format!("`{key}`")))
                .collect()
        };
        let mut inputs = Vec::new();
        for r in endpoint("input_layers")? {
            if !matches!(entries[r.entry].kind, Kind::Input) || r.node != 0 || r.tensor != 0 {
                return Err(bad(
                    context,
                    format!(
                        "`input_layers` of model `{name}` names `{}` (node {}, tensor {}), which is not an InputLayer's output",
                        entries[r.entry].name, r.node, r.tensor
                    ),
                ));
            }
            inputs.push(r.entry);
        }
        let outputs = endpoint("output_layers")?;
        Ok(Functional {
            name,
            entries,
            inputs,
            outputs,
        })
    }

    /// A Sequential's layers and its input (an InputLayer first, Keras 2's `batch_input_shape`
    /// on the first layer, or Keras 3's `build_input_shape`).
    fn sequential(
        &mut self,
        layers: &[Value],
        config: &Value,
        place: Place,
    ) -> Result<(Sequential, InputConfig), Error> {
        let context = self.context;
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut counters = Counters::default();
        let mut items = Vec::with_capacity(layers.len());
        let mut input: Option<InputConfig> = None;
        for (index, entry) in layers.iter().enumerate() {
            let head = head(entry, index, context)?;
            refuse_op(entry, &head, self.form)?;
            if head.class == "InputLayer" {
                if index != 0 {
                    return Err(Error::Unsupported {
                        message: format!(
                            "the Sequential model `{name}` has an InputLayer (`{}`) after its first layer",
                            head.name
                        ),
                    });
                }
                input = Some(input_config(entry, context)?);
                continue;
            }
            if input.is_none() && index == 0 {
                // Keras 2: the first layer may carry the input shape itself.
                if let Some(shape) = batch_shape(head.config, context)? {
                    input = Some(InputConfig {
                        name: format!("{}_input", head.name),
                        shape: Some(shape),
                        dtype: dtype_name(head.config.get("dtype")),
                    });
                }
            }
            let key = counters.key(&head.class);
            if is_model(&head) {
                let (def, _) = self.nested(entry, &head, place.child(key, &head.name))?;
                items.push(Item::Model(Box::new(def)));
            } else {
                let child = place.child(key, &head.name);
                items.push(Item::Leaf(self.leaf(head, child)));
            }
        }
        let input = match input {
            Some(input) => input,
            None => InputConfig {
                name: format!("{name}_input"),
                // A Keras 3 Sequential built on data records its build shape instead.
                shape: match config.get("build_input_shape") {
                    Some(shape) => super::shape_without_batch(shape, context)?,
                    None => None,
                },
                dtype: None,
            },
        };
        Ok((Sequential { name, items }, input))
    }

    /// Records a call of `leaf`; returns its index.
    fn call(
        &mut self,
        leaf: usize,
        inputs: Vec<Tensor>,
        rank: Option<usize>,
    ) -> Result<usize, Error> {
        let call = self.flat.calls.len();
        if call == MAX_CALLS {
            return Err(Error::Unsupported {
                message: format!(
                    "the model, its nested models flattened, makes more than {MAX_CALLS} layer calls"
                ),
            });
        }
        self.flat.calls.push(Call { leaf, inputs, rank });
        self.flat.leaves[leaf].calls.push(call);
        Ok(call)
    }

    /// Runs a model definition on `args`; returns its output tensors.
    fn instantiate(&mut self, def: &Def, args: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        match def {
            Def::Sequential(def) => self.sequential_run(def, args),
            Def::Functional(def) => self.functional_run(def, args),
        }
    }

    fn sequential_run(&mut self, def: &Sequential, args: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        let [mut x] = args else {
            return Err(Error::Unsupported {
                message: format!(
                    "the Sequential model `{}` is called on {} tensors; a Sequential model takes one",
                    def.name,
                    args.len()
                ),
            });
        };
        for item in &def.items {
            x = match item {
                Item::Leaf(leaf) => Tensor::Call {
                    call: self.call(*leaf, vec![x], None)?,
                    output: 0,
                },
                Item::Model(inner) => match self.instantiate(inner, &[x])?.as_slice() {
                    [y] => *y,
                    outputs => {
                        return Err(Error::Unsupported {
                            message: format!(
                                "a model with {} outputs inside the Sequential model `{}`",
                                outputs.len(),
                                def.name
                            ),
                        })
                    }
                },
            };
        }
        Ok(vec![x])
    }

    fn functional_run(&mut self, def: &Functional, args: &[Tensor]) -> Result<Vec<Tensor>, Error> {
        let context = self.context;
        if args.len() != def.inputs.len() {
            return Err(Error::Unsupported {
                message: format!(
                    "the Functional model `{}` has {} input(s) but is called on {} tensor(s)",
                    def.name,
                    def.inputs.len(),
                    args.len()
                ),
            });
        }
        // What each processed node of each entry produced.
        let mut done: Vec<Vec<Produced>> = def.entries.iter().map(|_| Vec::new()).collect();
        let mut bound: Vec<Option<Tensor>> = vec![None; def.entries.len()];
        for (&entry, &arg) in def.inputs.iter().zip(args) {
            bound[entry] = Some(arg);
        }
        let form = self.form.unwrap_or(Form::Keras3);
        // Keras's `functional_from_config`: process each layer's nodes in order as far as their
        // inputs exist, and repeat until no node is left.
        loop {
            let mut progress = false;
            for (index, entry) in def.entries.iter().enumerate() {
                while done[index].len() < entry.nodes.len() {
                    let node = &entry.nodes[done[index].len()];
                    let mut inputs = Vec::with_capacity(node.inputs.len());
                    for r in &node.inputs {
                        match lookup(def, &done, &bound, *r, form, false, context)? {
                            Some(t) => inputs.push(t),
                            None => break,
                        }
                    }
                    if inputs.len() < node.inputs.len() {
                        break;
                    }
                    let produced = match &entry.kind {
                        Kind::Input => {
                            return Err(bad(
                                context,
                                format!("the InputLayer `{}` has an inbound node", entry.name),
                            ))
                        }
                        Kind::Leaf(leaf) => Produced::Call(self.call(*leaf, inputs, node.rank)?),
                        Kind::Model { def: inner, .. } => {
                            Produced::Outputs(self.instantiate(inner, &inputs)?)
                        }
                    };
                    done[index].push(produced);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        if let Some((index, entry)) = def
            .entries
            .iter()
            .enumerate()
            .find(|(i, e)| done[*i].len() < e.nodes.len())
        {
            return Err(bad(
                context,
                format!(
                    "call {} of layer `{}` in model `{}` reads a tensor that is never computed (a cycle, or a node index past the layer's calls)",
                    done[index].len(),
                    entry.name,
                    def.name
                ),
            ));
        }
        def.outputs
            .iter()
            .map(|r| {
                lookup(def, &done, &bound, *r, form, true, context)?.ok_or_else(|| {
                    bad(
                        context,
                        format!(
                            "`output_layers` of model `{}` names `{}` node {}, which does not exist",
                            def.name, def.entries[r.entry].name, r.node
                        ),
                    )
                })
            })
            .collect()
    }
}

/// What a processed node made: a leaf call, or a nested model's outputs.
enum Produced {
    Call(usize),
    Outputs(Vec<Tensor>),
}

/// The tensor a reference names: `Ok(None)` while its node is not processed yet, an error if it
/// can never exist. `endpoint` is true for `input_layers`/`output_layers` references.
fn lookup(
    def: &Functional,
    done: &[Vec<Produced>],
    bound: &[Option<Tensor>],
    r: Ref,
    form: Form,
    endpoint: bool,
    context: &str,
) -> Result<Option<Tensor>, Error> {
    let entry = &def.entries[r.entry];
    let invalid = |why: &str| {
        bad(
            context,
            format!(
                "model `{}` reads `{}` node {} tensor {}: {why}",
                def.name, entry.name, r.node, r.tensor
            ),
        )
    };
    let node = match &entry.kind {
        Kind::Input => {
            return match bound[r.entry] {
                _ if r.node != 0 || r.tensor != 0 => {
                    Err(invalid("an InputLayer has one node and one tensor"))
                }
                Some(t) => Ok(Some(t)),
                None => Err(invalid("the InputLayer is not one of the model's inputs")),
            }
        }
        Kind::Leaf(_) => r.node,
        Kind::Model {
            def: inner,
            skip_first,
        } => {
            let offset = usize::from(match form {
                Form::Keras3 => endpoint && matches!(**inner, Def::Functional(_)),
                Form::Keras2 => *skip_first,
            });
            r.node
                .checked_sub(offset)
                .ok_or_else(|| invalid("node 0 of a nested model is its own internal node"))?
        }
    };
    if node >= entry.nodes.len() {
        return Err(invalid(&format!(
            "the layer is called {} time(s) in the model",
            entry.nodes.len()
        )));
    }
    Ok(match done[r.entry].get(node) {
        None => None,
        Some(Produced::Call(call)) => Some(Tensor::Call {
            call: *call,
            output: r.tensor,
        }),
        Some(Produced::Outputs(outputs)) => Some(
            *outputs
                .get(r.tensor)
                .ok_or_else(|| invalid(&format!("the model has {} output(s)", outputs.len())))?,
        ),
    })
}
