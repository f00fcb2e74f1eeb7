//! Writing what Keras loads: Keras 3's `.weights.h5` (`model.save_weights`) and `.keras`
//! archives (`model.save`), from a declared model.
//!
//! * The weights file has Keras's layout (`layers/<snake_case(Class)>[_k]/vars/<i>`, recurrent
//!   layers' variables under `…/cell/vars`, groups numbered over `model.layers` order), so
//!   `model.load_weights("m.weights.h5")` in Keras reads it into the same architecture.
//! * The archive holds `metadata.json`, `config.json` built from the declaration (a
//!   `Sequential` config for a `layers: [...]` model, a `Functional` one with every call's wiring
//!   otherwise) and `model.weights.h5`, so `keras.saving.load_model("m.keras")` rebuilds the model.
//!
//! Both are written in memory first ([`weights_h5_bytes`], [`keras_bytes`]) and then to disk.

mod archive;
mod config;
mod h5;

use std::path::Path;

use static_keras_runtime::{LayerInfo, Model, ModelGraph, Source, Variable};

use crate::graph::{keras_layer_order, Call};
use crate::Error;

/// The Keras version whose format the files follow (written into `metadata.json`).
pub const KERAS_VERSION: &str = "3.15.1";

/// One layer of the model being saved: its description and its variables' values in Keras's
/// row-major order.
struct SavedLayer {
    info: LayerInfo,
    vars: Vec<(Variable, Vec<f32>)>,
}

/// A row of Keras's `model.layers`: a functional model lists its inputs as layers too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Input(usize),
    Layer(usize),
}

/// Everything the writers need, read from the model once.
struct Snapshot {
    layers: Vec<SavedLayer>,
    graph: Option<ModelGraph>,
    input_shapes: &'static [&'static [usize]],
    /// Written as Keras's `Sequential` (otherwise `Functional`).
    sequential: bool,
    /// `model.layers` order.
    entries: Vec<Entry>,
}

impl Snapshot {
    fn of<M: Model>(model: &M) -> Result<Self, Error> {
        let mut layers = Vec::new();
        model.visit_layers(&mut |info, weights| {
            let vars = weights
                .variables()
                .iter()
                .enumerate()
                .map(|(i, var)| {
                    let mut values = Vec::with_capacity(var.len());
                    weights.store_variable(i, &mut |v| values.push(v));
                    (*var, values)
                })
                .collect();
            layers.push(SavedLayer { info, vars });
        });
        for layer in &layers {
            for (var, values) in &layer.vars {
                if values.len() != var.len() {
                    return Err(save_error(format!(
                        "layer `{}` wrote {} values for `{}`, whose shape {:?} holds {}",
                        layer.info.name,
                        values.len(),
                        var.name,
                        var.shape,
                        var.len()
                    )));
                }
            }
        }
        let graph = M::GRAPH;
        // Keras's Sequential holds single-output layers called once; anything else (a last
        // recurrent layer returning its states) is written as the functional graph it is.
        let sequential = graph.is_none_or(|g| {
            g.sequential
                && g.outputs.len() == 1
                && layers.iter().all(|l| l.info.calls.len() == 1)
                && g.call_shapes
                    .iter()
                    .all(|calls| calls.iter().all(|c| c.len() == 1))
        });
        let entries = match graph {
            Some(g) if !sequential => functional_order(&g, &layers)?,
            _ => (0..layers.len()).map(Entry::Layer).collect(),
        };
        Ok(Self {
            layers,
            graph,
            input_shapes: M::INPUT_SHAPES,
            sequential,
            entries,
        })
    }
}

/// Keras's `model.layers` order of a functional model, inputs included. The layers' own order is
/// the visit order already; this places the inputs among them as Keras does.
fn functional_order(graph: &ModelGraph, layers: &[SavedLayer]) -> Result<Vec<Entry>, Error> {
    let ni = graph.inputs.len();
    let mut first_call = Vec::with_capacity(layers.len());
    let mut next = ni;
    for layer in layers {
        first_call.push(next);
        next += layer.info.calls.len();
    }
    let node = |source: &Source| -> Result<usize, Error> {
        match *source {
            Source::Input(i) if i < ni => Ok(i),
            Source::Layer { layer, call, .. }
                if layer < layers.len() && call < layers[layer].info.calls.len() =>
            {
                Ok(first_call[layer] + call)
            }
            other => Err(save_error(format!(
                "the model's graph names {other:?}, which it does not have"
            ))),
        }
    };
    let mut calls: Vec<Call> = (0..ni)
        .map(|i| Call {
            layer: i,
            inputs: Vec::new(),
        })
        .collect();
    for (l, layer) in layers.iter().enumerate() {
        for sources in layer.info.calls {
            calls.push(Call {
                layer: ni + l,
                inputs: sources.iter().map(node).collect::<Result<_, _>>()?,
            });
        }
    }
    let outputs = graph
        .outputs
        .iter()
        .map(node)
        .collect::<Result<Vec<_>, _>>()?;
    let inputs: Vec<usize> = (0..ni).collect();
    let order = keras_layer_order(&calls, &outputs, &inputs)
        .map_err(|c| save_error(format!("the model's graph has a cycle at call {}", c.call)))?;
    let entries: Vec<Entry> = order
        .into_iter()
        .map(|l| {
            if l < ni {
                Entry::Input(l)
            } else {
                Entry::Layer(l - ni)
            }
        })
        .collect();
    let in_order: Vec<usize> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Layer(l) => Some(*l),
            Entry::Input(_) => None,
        })
        .collect();
    if in_order != (0..layers.len()).collect::<Vec<_>>() {
        return Err(save_error(
            "the model visits its layers in an order other than Keras's `model.layers` order",
        ));
    }
    Ok(entries)
}

fn save_error(message: impl Into<String>) -> Error {
    Error::Save {
        message: message.into(),
    }
}

/// Checks that `path` ends in `suffix`, as Keras requires of the files it loads.
fn check_suffix(path: &Path, suffix: &str, what: &str) -> Result<(), Error> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.len() > suffix.len() && name.ends_with(suffix) {
        Ok(())
    } else {
        Err(save_error(format!(
            "{} does not end in `{suffix}`, which Keras requires of {what}",
            path.display()
        )))
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The model's weights as the bytes of a Keras 3 `.weights.h5` file.
pub fn weights_h5_bytes<M: Model>(model: &M) -> Result<Vec<u8>, Error> {
    let snapshot = Snapshot::of(model)?;
    h5::weights(&snapshot)
}

/// The model as the bytes of a `.keras` archive: `metadata.json`, `config.json` (from the
/// declaration), `model.weights.h5`.
pub fn keras_bytes<M: Model>(model: &M) -> Result<Vec<u8>, Error> {
    let snapshot = Snapshot::of(model)?;
    let config = config::model(&snapshot)?;
    let weights = h5::weights(&snapshot)?;
    let metadata = serde_json::json!({
        "keras_version": KERAS_VERSION,
        "date_saved": archive::now().keras(),
    });
    let text = |v: &serde_json::Value| v.to_string().into_bytes();
    Ok(archive::stored(&[
        ("metadata.json", &text(&metadata)),
        ("config.json", &text(&config)),
        ("model.weights.h5", &weights),
    ]))
}

/// Writes the model's weights to `path` as Keras 3's `.weights.h5`, which Keras's
/// `model.load_weights(path)` reads into the same architecture. The path must end in
/// `.weights.h5` (Keras sends any other name to its legacy loader).
pub fn save_weights<M: Model>(model: &M, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    check_suffix(path, ".weights.h5", "weights files")?;
    write(path, &weights_h5_bytes(model)?)
}

/// Writes the model to `path` as a `.keras` archive, which `keras.saving.load_model(path)`
/// rebuilds and fills. The path must end in `.keras`.
pub fn save<M: Model>(model: &M, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    check_suffix(path, ".keras", "model archives")?;
    write(path, &keras_bytes(model)?)
}
