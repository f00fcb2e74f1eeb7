//! Where each layer's variables are in an HDF5 weights file.
//!
//! * Keras 3 (`.weights.h5`, `model.weights.h5` in a `.keras`): `layers/<key>/vars/<i>`, where the
//!   key is the snake_case class name with a per-class counter (`dense`, `dense_1`, …);
//!   recurrent layers keep their variables in their cell (`layers/lstm/cell/vars/<i>`), and the
//!   wrappers in their wrapped layers (`layers/bidirectional/forward_layer/cell/vars/<i>` then
//!   `…/backward_layer/cell/vars/<i>`, `layers/time_distributed/layer/vars/<i>`).
//! * Legacy (`model.save("m.h5")` of Keras 2 and 3, Keras 2 `save_weights("w.h5")`): the
//!   `layer_names` attribute lists the layers, each group's `weight_names` its datasets; layers
//!   with weights are matched by order, as Keras itself does.

use hdf5_reader::Dataset;

use crate::error::{layout, Error};
use crate::h5::{self, H5};

/// Keras classes whose variables live in their cell (`…/cell/vars`).
pub const CELL_CLASSES: &[&str] = &["SimpleRNN", "LSTM", "GRU"];

/// Keras's `to_snake_case`, which names weight groups: `Conv2D` → `conv2d`,
/// `MaxPooling1D` → `max_pooling1d`, `SimpleRNN` → `simple_rnn`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
        // (.)([A-Z][a-z]+) -> \1_\2, then ([a-z])([A-Z]) -> \1_\2
        if i > 0 && c.is_ascii_uppercase() && (next_lower || prev_lower) {
            out.push('_');
        }
        out.push(c);
    }
    out.to_lowercase()
}

/// A layer as the weight locator sees it: its class, and whether it has variables.
#[derive(Debug, Clone, Copy)]
pub struct LayerKey<'a> {
    /// The Keras class name.
    pub class: &'a str,
    /// Whether the layer has variables (legacy files list only those, by order).
    pub weighted: bool,
}

/// One variable in the file, located but not yet read.
pub struct Slot {
    /// Its HDF5 path.
    pub path: String,
    /// Its shape as stored.
    pub shape: Vec<u64>,
    pub(crate) dataset: Dataset,
}

/// The variables of one layer and where they were looked for.
pub struct LayerSlots {
    /// The group holding them (`layers/dense_1/vars`, `model_weights/dense_1`); for a layer
    /// whose variables are in several groups (Bidirectional), every group, each with how many
    /// variables it held.
    pub place: String,
    /// The variables found, in Keras order.
    pub slots: Vec<Slot>,
}

/// Where variable `index` of a layer whose variables were looked for at `place` (a
/// [`LayerSlots::place`]) should have been, when it is missing.
pub fn looked_for(place: &str, index: usize) -> String {
    if place.contains(' ') {
        format!("variable {index} of the layer in {place}")
    } else {
        format!("{place}/{index}")
    }
}

/// Every `vars` group a layer of any class may keep variables in, relative to its own group
/// (for spotting saved layers a declaration has no place for).
pub(crate) const VAR_GROUPS: &[&str] = &[
    "vars",
    "cell/vars",
    "forward_layer/cell/vars",
    "backward_layer/cell/vars",
    "layer/vars",
    "layer/cell/vars",
];

/// The `vars` groups a layer of `class` stored in `group` keeps its variables in, in Keras's
/// order of its variables. `config` is the layer's saved config when there is one: it names the
/// class a `TimeDistributed` wraps; without it every place of a wrapped layer is tried (only the
/// one Keras wrote exists).
pub(crate) fn var_groups(
    group: &str,
    class: &str,
    config: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Vec<String> {
    match class {
        c if CELL_CLASSES.contains(&c) => vec![format!("{group}/cell/vars")],
        "Bidirectional" => vec![
            format!("{group}/forward_layer/cell/vars"),
            format!("{group}/backward_layer/cell/vars"),
        ],
        "TimeDistributed" => {
            let inner = config.and_then(|c| c.get("layer")).and_then(|layer| {
                Some((
                    layer.get("class_name")?.as_str()?,
                    layer.get("config")?.as_object(),
                ))
            });
            match inner {
                Some((class, config)) => var_groups(&format!("{group}/layer"), class, config),
                None => vec![
                    format!("{group}/layer/vars"),
                    format!("{group}/layer/cell/vars"),
                ],
            }
        }
        _ => vec![format!("{group}/vars")],
    }
}

/// The variables of a layer of `class` stored in `group`, from each of its `vars` groups in turn.
pub(crate) fn layer_slots(
    h5: &H5,
    group: &str,
    class: &str,
    config: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<LayerSlots, Error> {
    let groups = var_groups(group, class, config);
    let mut slots = Vec::new();
    let mut found = Vec::new();
    for vars in &groups {
        let numbered = numbered(h5, vars)?;
        found.push((vars, numbered.len()));
        slots.extend(numbered);
    }
    let place = match found.as_slice() {
        [(one, _)] => one.to_string(),
        // A wrapped layer Keras stores in one of several places: the one it used.
        _ if class == "TimeDistributed" => found
            .iter()
            .find(|(_, n)| *n > 0)
            .unwrap_or(&found[0])
            .0
            .to_string(),
        several => several
            .iter()
            .map(|(g, n)| format!("{g} ({n} found)"))
            .collect::<Vec<_>>()
            .join(" and "),
    };
    Ok(LayerSlots { place, slots })
}

/// How the file arranges its weights.
pub enum Layout {
    /// Keras 3: groups under `prefix` named after classes.
    Keras3 {
        /// `layers` (Keras 3) or `_layer_checkpoint_dependencies` (Keras 2.13–2.15 `.keras`).
        prefix: String,
    },
    /// Legacy: layers with weights, in order.
    Legacy {
        /// `model_weights`, or empty for Keras 2 `save_weights` files.
        root: String,
        /// The weighted layers: name and weight paths relative to `root/name`.
        layers: Vec<(String, Vec<String>)>,
    },
}

/// A string list attribute, possibly split by Keras into `name0`, `name1`, … when over 64 KB.
fn split_strings(
    h5: &H5,
    group: &hdf5_reader::group::Group,
    name: &str,
    context: &str,
) -> Result<Option<Vec<String>>, Error> {
    if let Some(v) = h5.strings_attr(group, name, context)? {
        return Ok(Some(v));
    }
    let mut all: Option<Vec<String>> = None;
    for chunk in 0.. {
        match h5.strings_attr(group, &format!("{name}{chunk}"), context)? {
            Some(v) => all.get_or_insert_with(Vec::new).extend(v),
            None => break,
        }
    }
    Ok(all)
}

impl Layout {
    /// Recognises the layout of an HDF5 weights file.
    pub fn detect(h5: &H5) -> Result<Self, Error> {
        let root = h5.root()?;
        let (groups, _) = h5::members(&root, "/")?;
        for prefix in ["layers", "_layer_checkpoint_dependencies"] {
            if groups.iter().any(|g| g == prefix) {
                return Ok(Layout::Keras3 {
                    prefix: prefix.to_string(),
                });
            }
        }
        let legacy_root = if groups.iter().any(|g| g == "model_weights") {
            "model_weights"
        } else {
            ""
        };
        let group = h5
            .group(legacy_root)?
            .ok_or_else(|| layout("no `model_weights` group"))?;
        let Some(names) = split_strings(h5, &group, "layer_names", "/")? else {
            return Err(layout(
                "no `layers` group (Keras 3) and no `layer_names` attribute (legacy .h5)",
            ));
        };
        let mut layers = Vec::new();
        for name in names {
            let path = format!("{legacy_root}/{name}");
            let group = h5.group(&path)?.ok_or_else(|| {
                layout(format!(
                    "`layer_names` lists `{name}` but there is no group {path}"
                ))
            })?;
            let weights = split_strings(h5, &group, "weight_names", &path)?.unwrap_or_default();
            if !weights.is_empty() {
                layers.push((name, weights));
            }
        }
        Ok(Layout::Legacy {
            root: legacy_root.to_string(),
            layers,
        })
    }

    /// Every weight dataset with its shape: Keras 3 groups in natural order (`dense_2` before
    /// `dense_10`), legacy layers in `layer_names` order.
    pub fn weight_shapes(&self, h5: &H5) -> Result<Vec<(String, Vec<u64>)>, Error> {
        let mut out = Vec::new();
        match self {
            Layout::Keras3 { prefix } => {
                if h5.group(prefix)?.is_none() {
                    return Err(layout(format!("no `{prefix}` group")));
                }
                keras3_shapes(h5, prefix, prefix, 0, &mut out)?;
            }
            Layout::Legacy { root, layers } => {
                for (name, weights) in layers {
                    for w in weights {
                        let path = format!("{root}/{name}/{w}");
                        if let Some(s) = slot(h5, path.clone())? {
                            out.push((s.path, s.shape));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The variables of each layer of `model` (classes in Keras order; no saved architecture),
    /// located and with their shapes.
    pub fn slots(&self, h5: &H5, model: &[LayerKey<'_>]) -> Result<Vec<LayerSlots>, Error> {
        match self {
            Layout::Keras3 { prefix } => keras3_slots(h5, prefix, model),
            Layout::Legacy { root, layers } => legacy_slots(h5, root, layers, model),
        }
    }
}

/// Nested models deeper than this are not listed (HDF5 groups can link in cycles).
const MAX_NESTING: usize = 16;

/// Lists `level`'s layer groups in natural order (`dense_2` before `dense_10`), each one's
/// variables, then the layers of the models nested in it.
fn keras3_shapes(
    h5: &H5,
    prefix: &str,
    level: &str,
    depth: usize,
    out: &mut Vec<(String, Vec<u64>)>,
) -> Result<(), Error> {
    let Some(group) = h5.group(level)? else {
        return Ok(());
    };
    let (mut keys, _) = h5::members(&group, level)?;
    let natural = |k: &String| match k.rsplit_once('_') {
        Some((stem, n)) if n.parse::<usize>().is_ok() => {
            (stem.to_string(), n.parse().unwrap_or(0) + 1)
        }
        _ => (k.clone(), 0usize),
    };
    keys.sort_by_key(natural);
    for key in keys {
        for vars in VAR_GROUPS.iter().map(|g| format!("{level}/{key}/{g}")) {
            for slot in numbered(h5, &vars)? {
                out.push((slot.path, slot.shape));
            }
        }
        if depth < MAX_NESTING {
            keras3_shapes(
                h5,
                prefix,
                &format!("{level}/{key}/{prefix}"),
                depth + 1,
                out,
            )?;
        }
    }
    Ok(())
}

pub(crate) fn slot(h5: &H5, path: String) -> Result<Option<Slot>, Error> {
    Ok(h5.dataset(&path)?.map(|dataset| Slot {
        path,
        shape: dataset.shape().to_vec(),
        dataset,
    }))
}

/// The datasets of a `vars` group in index order; they must be named `0`, `1`, … without gaps.
pub(crate) fn numbered(h5: &H5, vars: &str) -> Result<Vec<Slot>, Error> {
    let Some(group) = h5.group(vars)? else {
        return Ok(Vec::new());
    };
    let (_, names) = h5::members(&group, vars)?;
    let mut indices: Vec<usize> = names
        .iter()
        .map(|n| {
            n.parse::<usize>()
                .map_err(|_| layout(format!("dataset `{n}` in {vars} is not a variable index")))
        })
        .collect::<Result<_, _>>()?;
    indices.sort_unstable();
    if indices.iter().enumerate().any(|(i, &n)| i != n) {
        return Err(layout(format!(
            "the variables in {vars} are not numbered 0..{}",
            indices.len()
        )));
    }
    indices
        .into_iter()
        .map(|i| {
            let path = format!("{vars}/{i}");
            slot(h5, path.clone())?.ok_or_else(|| layout(format!("{path} vanished")))
        })
        .collect()
}

fn keras3_slots(h5: &H5, prefix: &str, model: &[LayerKey<'_>]) -> Result<Vec<LayerSlots>, Error> {
    let mut counters: Vec<(String, usize)> = Vec::new();
    let mut used = Vec::new();
    let mut out = Vec::new();
    for layer in model {
        let base = snake_case(layer.class);
        let n = match counters.iter_mut().find(|(k, _)| *k == base) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counters.push((base.clone(), 0));
                0
            }
        };
        let key = if n == 0 { base } else { format!("{base}_{n}") };
        out.push(layer_slots(
            h5,
            &format!("{prefix}/{key}"),
            layer.class,
            None,
        )?);
        used.push(key);
    }
    // Weights of layers the declaration does not have (a longer model, other classes).
    let group = h5
        .group(prefix)?
        .ok_or_else(|| layout(format!("no `{prefix}` group")))?;
    let (keys, _) = h5::members(&group, prefix)?;
    for key in keys.iter().filter(|k| !used.contains(k)) {
        for vars in VAR_GROUPS.iter().map(|g| format!("{prefix}/{key}/{g}")) {
            if let Some(g) = h5.group(&vars)? {
                let (_, datasets) = h5::members(&g, &vars)?;
                if !datasets.is_empty() {
                    return Err(Error::ExtraWeights {
                        path: vars,
                        message: format!(
                            "the declared model has no layer whose weights are stored as `{key}` \
                             (Keras names weight groups by class and count: {})",
                            used.join(", ")
                        ),
                    });
                }
            }
        }
        let nested = format!("{prefix}/{key}/{prefix}");
        let mut inside = Vec::new();
        keras3_shapes(h5, prefix, &nested, 1, &mut inside)?;
        if let Some((path, _)) = inside.first() {
            return Err(Error::ExtraWeights {
                path: path.clone(),
                message: format!(
                    "`{key}` is a nested model, whose layers a weights-only file cannot match to the declaration: load the .keras or .h5 file that has the architecture"
                ),
            });
        }
    }
    Ok(out)
}

fn legacy_slots(
    h5: &H5,
    root: &str,
    layers: &[(String, Vec<String>)],
    model: &[LayerKey<'_>],
) -> Result<Vec<LayerSlots>, Error> {
    let weighted = model.iter().filter(|l| l.weighted).count();
    if weighted != layers.len() {
        return Err(Error::Architecture {
            message: format!(
                "the file has weights for {} layers ({}) but the declared model has {weighted} layers with weights",
                layers.len(),
                layers.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut file_layers = layers.iter();
    let mut out = Vec::new();
    for layer in model {
        if !layer.weighted {
            out.push(LayerSlots {
                place: String::new(),
                slots: Vec::new(),
            });
            continue;
        }
        let Some((name, weights)) = file_layers.next() else {
            break; // counts are equal: unreachable
        };
        let slots = weights
            .iter()
            .map(|w| {
                let path = format!("{root}/{name}/{w}");
                slot(h5, path.clone())?.ok_or_else(|| {
                    layout(format!("`weight_names` of {root}/{name} lists `{w}` but there is no dataset {path}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(LayerSlots {
            place: format!("{root}/{name}"),
            slots,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_matches_keras() {
        for (class, snake) in [
            ("Dense", "dense"),
            ("Conv2D", "conv2d"),
            ("MaxPooling1D", "max_pooling1d"),
            ("AveragePooling3D", "average_pooling3d"),
            ("SimpleRNN", "simple_rnn"),
            ("LSTM", "lstm"),
            ("GRU", "gru"),
            ("Embedding", "embedding"),
            ("InputLayer", "input_layer"),
            ("LeakyReLU", "leaky_re_lu"),
            ("PReLU", "p_re_lu"),
        ] {
            assert_eq!(snake_case(class), snake, "{class}");
        }
    }
}
