//! Each saved layer's variables, found through the file's own architecture: every layer of a
//! [`ModelConfig`] knows where Keras stored them ([`WeightLocation`]), nested models included.
//!
//! * Keras 3: `layers/<key>/vars/<i>` (`…/cell/vars` for recurrent layers), with the keys of the
//!   nested models in between: `layers/functional/layers/sequential/layers/dense/vars/0`.
//! * Legacy: the group `model_weights/<top layer>` and its `weight_names`. A layer of a nested
//!   model shares its top layer's group with the model's other layers; its variables are the
//!   names that contain its name (`inner1/kernel:0` from tf.keras 2, `sub/inner1/kernel` from
//!   Keras 3), in the listed order. The listed order puts every trainable variable of the nested
//!   model before every non-trainable one (KERAS_GRAPHS F7), so variables are matched to layers
//!   by name, never by position.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{LayerConfig, ModelConfig};
use crate::error::{layout, Error};
use crate::h5::{self, H5};
use crate::weights::{layer_slots, slot, LayerSlots, Layout, VAR_GROUPS};

impl Layout {
    /// The variables of every layer of `config` (in its order), where the config says they are;
    /// weights the config has no layer for are an error.
    pub fn config_slots(&self, h5: &H5, config: &ModelConfig) -> Result<Vec<LayerSlots>, Error> {
        match self {
            Layout::Keras3 { prefix } => keras3(h5, prefix, &config.layers),
            Layout::Legacy { root, layers } => legacy(h5, root, layers, &config.layers),
        }
    }
}

fn keras3(h5: &H5, prefix: &str, layers: &[LayerConfig]) -> Result<Vec<LayerSlots>, Error> {
    let mut out = Vec::with_capacity(layers.len());
    // For each model level (its group), the keys the config accounts for.
    let mut claimed: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for layer in layers {
        let keys = &layer.weights.keras3;
        let mut level = prefix.to_string();
        for key in keys {
            claimed.entry(level.clone()).or_default().insert(key);
            level = format!("{level}/{key}/{prefix}");
        }
        let group = layer.weights.keras3_group(prefix);
        out.push(layer_slots(h5, &group, &layer.class, Some(&layer.config))?);
    }
    for (level, keys) in &claimed {
        let Some(group) = h5.group(level)? else {
            continue;
        };
        let (members, _) = h5::members(&group, level)?;
        for key in members.iter().filter(|k| !keys.contains(k.as_str())) {
            for vars in VAR_GROUPS.iter().map(|g| format!("{level}/{key}/{g}")) {
                if let Some(g) = h5.group(&vars)? {
                    let (_, datasets) = h5::members(&g, &vars)?;
                    if !datasets.is_empty() {
                        return Err(Error::ExtraWeights {
                            path: vars,
                            message: format!(
                                "the saved architecture has no layer stored as `{key}` there (Keras names weight groups by class and count: {})",
                                keys.iter().copied().collect::<Vec<_>>().join(", ")
                            ),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

fn legacy(
    h5: &H5,
    root: &str,
    groups: &[(String, Vec<String>)],
    layers: &[LayerConfig],
) -> Result<Vec<LayerSlots>, Error> {
    let weights_of = |top: &str| -> &[String] {
        groups
            .iter()
            .find(|(name, _)| name == top)
            .map_or(&[], |(_, w)| w.as_slice())
    };
    let mut used: BTreeSet<&str> = BTreeSet::new();
    // Per top group of nested layers: which of its weight names belongs to which layer.
    let mut owners: BTreeMap<&str, Vec<Option<usize>>> = BTreeMap::new();
    for layer in layers {
        if let [top, _, ..] = layer.weights.legacy.as_slice() {
            if !owners.contains_key(top.as_str()) {
                owners.insert(top, assign(root, top, weights_of(top), layers)?);
            }
        }
    }
    let mut out = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let Some(top) = layer.weights.legacy.first() else {
            out.push(LayerSlots {
                place: String::new(),
                slots: Vec::new(),
            });
            continue;
        };
        used.insert(top);
        let names = weights_of(top);
        let mine: Vec<&String> = match owners.get(top.as_str()) {
            Some(owner) => names
                .iter()
                .zip(owner)
                .filter(|(_, o)| **o == Some(index))
                .map(|(n, _)| n)
                .collect(),
            None => names.iter().collect(),
        };
        let slots = mine
            .into_iter()
            .map(|w| {
                let path = format!("{root}/{top}/{w}");
                slot(h5, path.clone())?.ok_or_else(|| {
                    layout(format!(
                        "`weight_names` of {root}/{top} lists `{w}` but there is no dataset {path}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let place = format!("{root}/{top}");
        out.push(LayerSlots { place, slots });
    }
    if let Some((name, weights)) = groups.iter().find(|(n, _)| !used.contains(n.as_str())) {
        return Err(Error::ExtraWeights {
            path: format!("{root}/{name}"),
            message: format!(
                "the saved architecture has no layer `{name}`, yet the file stores {} variable(s) for it",
                weights.len()
            ),
        });
    }
    Ok(out)
}

/// Which layer (an index into `layers`) owns each weight name of the group `top` shared by the
/// layers of a nested model. A name belongs to the layer whose name appears in it first (a
/// `lstm/lstm_cell/kernel` is `lstm`'s); when layers of several nesting levels have that name,
/// the one whose whole path matches (`seq/dense/kernel` is `seq`'s `dense`), shortest first.
fn assign(
    root: &str,
    top: &str,
    names: &[String],
    layers: &[LayerConfig],
) -> Result<Vec<Option<usize>>, Error> {
    let members: Vec<(usize, &[String])> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.weights.legacy.len() > 1 && l.weights.legacy[0] == top)
        .map(|(i, l)| (i, &l.weights.legacy[1..]))
        .collect();
    let mut owner = Vec::with_capacity(names.len());
    for name in names {
        let parts: Vec<&str> = name.split('/').collect();
        let scopes = &parts[..parts.len().saturating_sub(1)];
        // (position of the layer's name, whether its whole path precedes it, path length, layer)
        let mut best: Vec<(usize, bool, usize, usize)> = Vec::new();
        for &(index, path) in &members {
            let Some(leaf) = path.last() else { continue };
            let Some(at) = scopes.iter().position(|s| s == leaf) else {
                continue;
            };
            let whole = path.len() <= at + 1
                && scopes[at + 1 - path.len()..=at]
                    .iter()
                    .zip(path)
                    .all(|(s, p)| s == p);
            best.push((at, whole, path.len(), index));
        }
        best.sort_by_key(|&(at, whole, len, _)| {
            (at, !whole, if whole { usize::MAX - len } else { len })
        });
        match best.as_slice() {
            [] => {
                return Err(layout(format!(
                    "`{name}` in {root}/{top} names none of the layers of the nested model `{top}`"
                )))
            }
            [first, second, ..]
                if first.0 == second.0 && first.1 == second.1 && first.2 == second.2 =>
            {
                return Err(layout(format!(
                    "`{name}` in {root}/{top} could belong to `{}` or `{}`",
                    layers[first.3].weights.legacy.join("/"),
                    layers[second.3].weights.legacy.join("/")
                )))
            }
            [first, ..] => owner.push(Some(first.3)),
        }
    }
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WeightLocation;

    fn layer(path: &[&str]) -> LayerConfig {
        LayerConfig {
            class: "Dense".into(),
            name: path.last().unwrap().to_string(),
            config: Default::default(),
            calls: Vec::new(),
            weights: WeightLocation {
                keras3: Vec::new(),
                legacy: path.iter().map(|s| s.to_string()).collect(),
            },
            input_rank: None,
        }
    }

    #[test]
    fn nested_legacy_weights_belong_to_the_layer_they_name() {
        let layers = [
            layer(&["inner", "dense"]),
            layer(&["inner", "seq", "dense"]),
            layer(&["inner", "lstm"]),
            layer(&["inner", "mha"]),
            layer(&["inner", "query"]),
            layer(&["other"]),
        ];
        let names: Vec<String> = [
            "dense/kernel",            // Keras 3: built outside any model
            "seq/dense/kernel",        // Keras 3: built inside `seq`
            "lstm/lstm_cell/kernel:0", // a recurrent cell's scope
            "mha/query/kernel",        // a sublayer named like another layer
            "query/bias",
        ]
        .map(String::from)
        .to_vec();
        let owners = assign("model_weights", "inner", &names, &layers).unwrap();
        assert_eq!(owners, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
        let e = assign("model_weights", "inner", &["nobody/kernel".into()], &layers)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`nobody/kernel` in model_weights/inner names none of the layers of the nested model `inner`"), "{e}");
        // Two layers of the same name at one level of nesting each: ambiguous.
        let twins = [layer(&["inner", "a", "d"]), layer(&["inner", "b", "d"])];
        let e = assign("model_weights", "inner", &["d/kernel:0".into()], &twins)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("could belong to `inner/a/d` or `inner/b/d`"),
            "{e}"
        );
    }
}
