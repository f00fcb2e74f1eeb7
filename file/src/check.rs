//! The saved architecture against the declared one: the inputs, layer classes in Keras's order,
//! how every call of every layer is wired, every inference-relevant config entry the
//! declaration resolved (`LayerInfo::config`), and the number of outputs. Keras's equivalent
//! spellings are treated as equal (`3` and `[3, 3]`, `"VALID"` and `"valid"`, activation aliases
//! such as `swish`/`silu`, `null` and `"linear"` for an activation, tf.keras 2's `1` for `true`
//! and `[3]` for an `axis`, and a negative `axis` for the positive one it counts back to).

use serde_json::Value;
use static_keras_runtime::{Activation, ConfigValue, LayerInfo, Source};

use crate::config::{LayerConfig, ModelConfig};
use crate::error::Error;

fn mismatch(message: String) -> Error {
    Error::Architecture { message }
}

/// "a Dense", "an Activation".
fn a(class: &str) -> String {
    let vowel = class.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {class}", if vowel { "an" } else { "a" })
}

fn fmt_dims(dims: &[String]) -> String {
    match dims {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    }
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`".
fn list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Checks `file` against the declared layers, input shapes and number of outputs; the error
/// names the first difference.
pub fn architecture(
    declared: &[LayerInfo],
    input_shapes: &[&[usize]],
    outputs: usize,
    file: &ModelConfig,
) -> Result<(), Error> {
    inputs(input_shapes, file)?;
    let ranks = input_ranks(file);
    for (index, (ours, theirs)) in declared.iter().zip(&file.layers).enumerate() {
        if ours.class != theirs.class {
            return Err(mismatch(format!(
                "layer {index} is {} (`{}`) in the file but {} (`{}`) in the declaration",
                a(&theirs.class),
                theirs.name,
                a(ours.class),
                ours.name
            )));
        }
        wiring(index, ours, theirs, declared, file)?;
        if let Some((key, saved, declared)) = difference(ours.config, &theirs.config, ranks[index])
        {
            return Err(mismatch(format!(
                "layer {index} `{}` ({}): `{key}` is {saved} in the file but {declared} in the declaration",
                ours.name, ours.class,
            )));
        }
    }
    if declared.len() != file.layers.len() {
        let names = |names: Vec<String>| names.join(", ");
        return Err(mismatch(format!(
            "the file has {} layers ({}) but the declaration {} ({})",
            file.layers.len(),
            names(
                file.layers
                    .iter()
                    .map(|l| format!("{} `{}`", l.class, l.name))
                    .collect()
            ),
            declared.len(),
            names(
                declared
                    .iter()
                    .map(|l| format!("{} `{}`", l.class, l.name))
                    .collect()
            ),
        )));
    }
    // A Sequential's output is its last layer's, however many that layer returns.
    if file.class != "Sequential" && file.outputs.len() != outputs {
        return Err(mismatch(format!(
            "the model has {} output(s) in the file but {outputs} in the declaration",
            file.outputs.len()
        )));
    }
    Ok(())
}

fn inputs(input_shapes: &[&[usize]], file: &ModelConfig) -> Result<(), Error> {
    if file.inputs.len() != input_shapes.len() {
        return Err(mismatch(format!(
            "the model has {} input(s) in the file ({}) but {} in the declaration",
            file.inputs.len(),
            list(
                &file
                    .inputs
                    .iter()
                    .map(|i| format!("`{}`", i.name))
                    .collect::<Vec<_>>()
            ),
            input_shapes.len()
        )));
    }
    for (i, (input, declared)) in file.inputs.iter().zip(input_shapes).enumerate() {
        let Some(saved) = &input.shape else { continue };
        let fits = saved.len() == declared.len()
            && saved
                .iter()
                .zip(declared.iter())
                .all(|(s, d)| s.is_none_or(|s| s == *d));
        if !fits {
            let saved: Vec<String> = saved
                .iter()
                .map(|d| d.map_or_else(|| "None".to_string(), |d| d.to_string()))
                .collect();
            let declared: Vec<String> = declared.iter().map(usize::to_string).collect();
            let what = if input_shapes.len() == 1 {
                "the input shape is".to_string()
            } else {
                format!("input {i} `{}` has shape", input.name)
            };
            return Err(mismatch(format!(
                "{what} {} in the file but {} in the declaration",
                fmt_dims(&saved),
                fmt_dims(&declared)
            )));
        }
    }
    Ok(())
}

/// Each call of layer `index` reads the same tensors in the file as in the declaration.
fn wiring(
    index: usize,
    ours: &LayerInfo,
    theirs: &LayerConfig,
    declared: &[LayerInfo],
    file: &ModelConfig,
) -> Result<(), Error> {
    let what = format!("layer {index} `{}` ({})", ours.name, ours.class);
    if ours.calls.len() != theirs.calls.len() {
        return Err(mismatch(format!(
            "{what} is called {} time(s) in the file but {} in the declaration",
            theirs.calls.len(),
            ours.calls.len()
        )));
    }
    let several = ours.calls.len() > 1;
    for (call, (our, their)) in ours.calls.iter().zip(&theirs.calls).enumerate() {
        if *our == their.as_slice() {
            continue;
        }
        let name_in_file = |layer: usize| file.layers.get(layer).map(|l| l.name.as_str());
        let name_declared = |layer: usize| declared.get(layer).map(|l| l.name);
        let file_side: Vec<String> = their
            .iter()
            .map(|s| {
                describe(s, name_in_file, |i| {
                    file.inputs.get(i).map(|i| i.name.as_str())
                })
            })
            .collect();
        let declared_side: Vec<String> = our
            .iter()
            .map(|s| describe(s, name_declared, |_| None))
            .collect();
        return Err(mismatch(format!(
            "{what}{} reads {} in the file but {} in the declaration",
            if several {
                format!(", call {call},")
            } else {
                String::new()
            },
            list(&file_side),
            list(&declared_side)
        )));
    }
    Ok(())
}

/// A tensor as a message shows it: "`conv2d`", "`shared` (call 1)", "`lstm` output 2",
/// "input 0 `img`".
fn describe<'a>(
    source: &Source,
    layer_name: impl Fn(usize) -> Option<&'a str>,
    input_name: impl Fn(usize) -> Option<&'a str>,
) -> String {
    match *source {
        Source::Input(i) => match input_name(i) {
            Some(name) => format!("input {i} `{name}`"),
            None => format!("input {i}"),
        },
        Source::Layer {
            layer,
            call,
            output,
        } => {
            let mut text = match layer_name(layer) {
                Some(name) => format!("`{name}`"),
                None => format!("layer {layer}"),
            };
            if call > 0 {
                text += &format!(" (call {call})");
            }
            if output > 0 {
                text += &format!(" output {output}");
            }
            text
        }
    }
}

/// The rank (batch axis included) of each layer's first input, where known: written by Keras 3,
/// or carried from the inputs through layers whose output rank follows from their config.
fn input_ranks(file: &ModelConfig) -> Vec<Option<usize>> {
    let mut input: Vec<Option<usize>> = file.layers.iter().map(|l| l.input_rank).collect();
    let mut output: Vec<Option<usize>> = vec![None; file.layers.len()];
    // Keras's order is topological except around shared layers: repeat until nothing changes.
    for _ in 0..=file.layers.len() {
        let mut changed = false;
        for (i, layer) in file.layers.iter().enumerate() {
            if input[i].is_none() {
                input[i] = match layer.calls.first().and_then(|c| c.first()) {
                    Some(Source::Input(k)) => file
                        .inputs
                        .get(*k)
                        .and_then(|i| i.shape.as_ref())
                        .map(|s| s.len() + 1),
                    Some(Source::Layer {
                        layer: l,
                        call: 0,
                        output: 0,
                    }) => output.get(*l).copied().flatten(),
                    _ => None,
                };
            }
            let out = input[i].and_then(|r| output_rank(&layer.class, layer, r));
            if out != output[i] {
                output[i] = out;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    input
}

/// Classes whose output has the rank of their (first) input.
const SAME_RANK: &[&str] = &[
    "Dense",
    "EinsumDense",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Normalization",
    "UnitNormalization",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "ThresholdedReLU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "Rescaling",
    "Masking",
    "Identity",
    "Permute",
    "Resizing",
    "CenterCrop",
];

fn output_rank(class: &str, layer: &LayerConfig, input: usize) -> Option<usize> {
    rank_after(class, &layer.config, input)
}

/// The output rank of a layer of `class` with `config` on an input of rank `input` (batch axis
/// included), when it follows from them.
fn rank_after(class: &str, config: &serde_json::Map<String, Value>, input: usize) -> Option<usize> {
    let flag = |key: &str| {
        config
            .get(key)
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_i64() == Some(1))
    };
    // A wrapped layer's class and config.
    let wrapped = |key: &str| {
        let layer = config.get(key)?;
        Some((
            layer.get("class_name")?.as_str()?,
            layer.get("config")?.as_object()?,
        ))
    };
    match class {
        c if SAME_RANK.contains(&c) => Some(input),
        "Flatten" => Some(2),
        "RepeatVector" => Some(3),
        "Embedding" => input.checked_add(1),
        // The wrapped layer sees the input without its axis 1.
        "TimeDistributed" => {
            let (class, config) = wrapped("layer")?;
            rank_after(class, config, input.checked_sub(1)?)?.checked_add(1)
        }
        "Bidirectional" => {
            let (class, config) = wrapped("layer")?;
            rank_after(class, config, input)
        }
        "Reshape" => config
            .get("target_shape")
            .and_then(Value::as_array)
            .and_then(|t| t.len().checked_add(1)),
        c if c.starts_with("Global") && c.contains("Pooling") => {
            Some(if flag("keepdims") { input } else { 2 })
        }
        "SimpleRNN" | "LSTM" | "GRU" => {
            if flag("return_sequences") {
                Some(input)
            } else {
                input.checked_sub(1)
            }
        }
        _ => None,
    }
}

/// The first declared config entry the saved `config` disagrees with: its key (`layer.units`
/// inside a wrapped layer), the saved value and the declared one, as messages show them. `rank`
/// is the rank (batch axis included) of the layer's input, if known.
fn difference(
    declared: &[(&str, ConfigValue)],
    saved: &serde_json::Map<String, Value>,
    rank: Option<usize>,
) -> Option<(String, String, String)> {
    for (key, value) in declared {
        let Some(saved) = saved.get(*key) else {
            // Written by every Keras version for the keys layers declare; an older file
            // without it cannot be checked on this entry.
            continue;
        };
        if let ConfigValue::Layer { class, config } = value {
            let inner = saved.get("config").and_then(Value::as_object);
            let saved_class = saved.get("class_name").and_then(Value::as_str);
            match (saved_class, inner) {
                (Some(c), Some(inner)) if c == *class => {
                    // The wrapped layer's input rank is not the wrapper's: left unresolved.
                    if let Some((k, s, d)) = difference(config, inner, None) {
                        return Some((format!("{key}.{k}"), s, d));
                    }
                }
                (Some(c), Some(_)) => return Some((key.to_string(), a(c), a(class))),
                _ => return Some((key.to_string(), saved.to_string(), show(value))),
            }
            continue;
        }
        if !same_at(key, value, saved, rank) {
            return Some((key.to_string(), saved.to_string(), show(value)));
        }
    }
    None
}

/// A declared value as Keras would print it.
pub fn show(value: &ConfigValue) -> String {
    match value {
        ConfigValue::Int(v) => v.to_string(),
        ConfigValue::Ints(v) => fmt_dims(&v.iter().map(i64::to_string).collect::<Vec<_>>()),
        ConfigValue::Float(v) => format!("{v:?}"),
        ConfigValue::Bool(true) => "True".into(),
        ConfigValue::Bool(false) => "False".into(),
        ConfigValue::Str(s) => format!("\"{s}\""),
        ConfigValue::None => "None".into(),
        ConfigValue::Axes { axes, .. } => match axes {
            [one] => one.to_string(),
            _ => format!(
                "[{}]",
                axes.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        ConfigValue::Floats(v) => format!(
            "[{}]",
            v.iter()
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ConfigValue::Layer { class, config } => format!(
            "{class}({})",
            config
                .iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The axes a saved int or list of ints names in an input of `rank` axes, negative ones
/// resolved, sorted; `None` for anything else or an axis out of range.
fn axis_set(saved: &Value, rank: usize) -> Option<Vec<usize>> {
    let items = match saved {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let rank = i64::try_from(rank).ok()?;
    let mut axes = items
        .into_iter()
        .map(|v| {
            let a = int_of(v)?;
            let a = if a < 0 { a + rank } else { a };
            (0..rank).contains(&a).then_some(a as usize)
        })
        .collect::<Option<Vec<_>>>()?;
    axes.sort_unstable();
    axes.dedup();
    Some(axes)
}

/// The values of a saved float list: a number, a flat list, or a nested list whose outer
/// levels hold one item each (`[[1.0, 2.0]]` broadcasts as `[1.0, 2.0]`; `[[1.0], [2.0]]` does
/// not).
fn float_list(saved: &Value) -> Option<Vec<f64>> {
    match saved {
        Value::Array(items) if items.len() == 1 && items[0].is_array() => float_list(&items[0]),
        Value::Array(items) => items.iter().map(Value::as_f64).collect(),
        other => other.as_f64().map(|f| vec![f]),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

/// An activation entry as a name: a string, `null` (linear), or a serialized function
/// (`{"class_name": "function", "config": "relu", …}`).
fn activation_name(v: &Value) -> Option<&str> {
    match v {
        Value::Null => Some("linear"),
        Value::String(s) => Some(s),
        Value::Object(map) => map.get("config").and_then(Value::as_str),
        _ => None,
    }
}

fn same_activation(ours: &str, saved: &Value) -> bool {
    let Some(saved) = activation_name(saved) else {
        return false;
    };
    match (
        Activation::from_keras_name(ours),
        Activation::from_keras_name(saved),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => ours == saved,
    }
}

fn int_of(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

/// Whether a declared value and a saved one mean the same thing to Keras.
pub fn same(key: &str, ours: &ConfigValue, saved: &Value) -> bool {
    same_at(key, ours, saved, None)
}

/// An `axis` as a list of ints: `3`, `[3]`, `[1, 2]`.
fn axes_of(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Array(items) => items.iter().map(int_of).collect(),
        v => int_of(v).map(|a| vec![a]),
    }
}

/// Like [`same`], knowing the rank (batch axis included) of the layer's input if `rank` is
/// given: an `axis` of `-1` is then the same as `3` on a rank-4 input, as Keras's layers resolve
/// it.
fn same_at(key: &str, ours: &ConfigValue, saved: &Value, rank: Option<usize>) -> bool {
    // An axis given as a plain int (Concatenate, Softmax, …); a layer that knows its input's
    // rank declares `ConfigValue::Axes` instead, compared below.
    let plain_axis = matches!(ours, ConfigValue::Int(_) | ConfigValue::Ints(_));
    if key == "axis" && plain_axis {
        let declared = match ours {
            ConfigValue::Int(v) => vec![*v],
            ConfigValue::Ints(v) => v.to_vec(),
            _ => unreachable!("checked above"),
        };
        let Some(saved) = axes_of(saved) else {
            return false;
        };
        let resolve = |a: i64| match rank.and_then(|r| i64::try_from(r).ok()) {
            Some(r) if a < 0 => a + r,
            _ => a,
        };
        return declared.len() == saved.len()
            && declared
                .iter()
                .zip(&saved)
                .all(|(&d, &s)| d == s || resolve(d) == resolve(s));
    }
    match ours {
        ConfigValue::Str(s) if key.ends_with("activation") => same_activation(s, saved),
        ConfigValue::Str(s) => saved.as_str().is_some_and(|t| t.eq_ignore_ascii_case(s)),
        ConfigValue::Int(v) => match saved {
            Value::Array(items) => items.len() == 1 && int_of(&items[0]) == Some(*v),
            Value::Bool(b) => i64::from(*b) == *v,
            _ => int_of(saved) == Some(*v),
        },
        ConfigValue::Ints(v) => match saved {
            Value::Array(items) => {
                // Pairs per axis (ZeroPadding2D's `((top, bottom), (left, right))`) are
                // declared flattened.
                let items: Vec<&Value> = items
                    .iter()
                    .flat_map(|item| match item {
                        Value::Array(pair) => pair.iter().collect(),
                        single => vec![single],
                    })
                    .collect();
                items.len() == v.len()
                    && items
                        .iter()
                        .zip(v.iter())
                        .all(|(s, o)| int_of(s) == Some(*o))
            }
            _ => int_of(saved).is_some_and(|s| v.iter().all(|&o| o == s)),
        },
        ConfigValue::Float(v) => saved.as_f64().is_some_and(|s| close(*v, s)),
        // tf.keras 2.14 wrote some booleans as integers (`"scale": 1`); Python's `1 == True`.
        ConfigValue::Bool(v) => match saved {
            Value::Bool(b) => b == v,
            Value::Number(_) => int_of(saved) == Some(i64::from(*v)),
            _ => false,
        },
        ConfigValue::None => saved.is_null(),
        // An int or a list (tf.keras 2 wrote BatchNormalization's axis as `[3]`), negative or not.
        ConfigValue::Axes { axes, rank } => {
            let ours = axes.iter().map(|&a| serde_json::json!(a)).collect();
            axis_set(saved, *rank).is_some_and(|s| Some(s) == axis_set(&Value::Array(ours), *rank))
        }
        ConfigValue::Floats(v) => float_list(saved).is_some_and(|s| {
            s.len() == v.len() && s.iter().zip(v.iter()).all(|(s, o)| close(*o, *s))
        }),
        ConfigValue::Layer { .. } => {
            let mut entry = serde_json::Map::new();
            entry.insert(key.to_string(), saved.clone());
            difference(&[(key, *ours)], &entry, None).is_none()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keras_spellings_are_equal() {
        assert!(same("kernel_size", &ConfigValue::Ints(&[3, 3]), &json!(3)));
        assert!(same(
            "kernel_size",
            &ConfigValue::Ints(&[3, 3]),
            &json!([3, 3])
        ));
        assert!(!same(
            "kernel_size",
            &ConfigValue::Ints(&[3, 3]),
            &json!([3, 2])
        ));
        assert!(same("kernel_size", &ConfigValue::Int(3), &json!([3])));
        assert!(same("padding", &ConfigValue::Str("valid"), &json!("VALID")));
        assert!(same(
            "activation",
            &ConfigValue::Str("silu"),
            &json!("swish")
        ));
        assert!(same(
            "activation",
            &ConfigValue::Str("linear"),
            &json!(null)
        ));
        assert!(same(
            "activation",
            &ConfigValue::Str("relu"),
            &json!({"module": "keras.activations", "class_name": "function", "config": "relu"})
        ));
        assert!(!same(
            "activation",
            &ConfigValue::Str("relu"),
            &json!("tanh")
        ));
        assert!(same(
            "recurrent_activation",
            &ConfigValue::Str("sigmoid"),
            &json!("sigmoid")
        ));
        assert!(same("rate", &ConfigValue::Float(0.2), &json!(0.2)));
        assert!(same("rate", &ConfigValue::Float(0.2), &json!(0.2f32)));
        assert!(!same("rate", &ConfigValue::Float(0.2), &json!(0.3)));
        assert!(same("use_bias", &ConfigValue::Bool(false), &json!(false)));
        assert!(!same(
            "use_bias",
            &ConfigValue::Bool(false),
            &json!("False")
        ));
        assert!(same("seed", &ConfigValue::None, &json!(null)));
        assert!(same("units", &ConfigValue::Int(10), &json!(10.0)));
        assert!(same(
            "padding",
            &ConfigValue::Ints(&[1, 2, 0, 3]),
            &json!([[1, 2], [0, 3]])
        ));
        assert!(!same(
            "padding",
            &ConfigValue::Ints(&[1, 2, 0, 3]),
            &json!([[1, 2], [3, 0]])
        ));
        assert!(!same(
            "padding",
            &ConfigValue::Ints(&[1, 1, 1, 1]),
            &json!([[1, 1], [1, 1], [1, 1]])
        ));
    }

    #[test]
    fn tf_keras_2_quirks_are_equal() {
        // tf.keras 2.14 wrote `"scale": 1`.
        assert!(same("scale", &ConfigValue::Bool(true), &json!(1)));
        assert!(same("center", &ConfigValue::Bool(false), &json!(0)));
        assert!(!same("scale", &ConfigValue::Bool(false), &json!(1)));
        // BatchNormalization's axis as a list, positive, on a rank-4 input.
        let last = ConfigValue::Axes {
            axes: &[-1],
            rank: 4,
        };
        for saved in [json!(-1), json!(3), json!([3]), json!([-1])] {
            assert!(same("axis", &last, &saved), "{saved}");
        }
        for saved in [
            json!(1),
            json!([2]),
            json!([3, 1]),
            json!(4),
            json!("x"),
            json!(null),
        ] {
            assert!(!same("axis", &last, &saved), "{saved}");
        }
        // LayerNormalization's list of axes, in any order and sign.
        let block = ConfigValue::Axes {
            axes: &[1, 2],
            rank: 3,
        };
        assert!(same("axis", &block, &json!([-2, -1])));
        assert!(same("axis", &block, &json!([2, 1])));
        assert!(!same("axis", &block, &json!([-1])));
        // Normalization(axis=None) keeps no axis.
        let none = ConfigValue::Axes { axes: &[], rank: 3 };
        assert!(same("axis", &none, &json!([])));
        assert!(!same("axis", &none, &json!([-1])));
    }

    #[test]
    fn float_lists() {
        let v = ConfigValue::Floats(&[0.5, 2.0]);
        assert!(same("mean", &v, &json!([0.5, 2.0])));
        assert!(same("mean", &v, &json!([[0.5, 2.0]])));
        assert!(!same("mean", &v, &json!([[0.5], [2.0]])));
        assert!(!same("mean", &v, &json!([0.5, 2.5])));
        assert!(!same("mean", &v, &json!([0.5])));
        assert!(same("mean", &ConfigValue::Floats(&[3.0]), &json!(3)));
        assert!(!same("mean", &v, &json!(null)));
    }

    #[test]
    fn tf_keras2_quirks_are_equal() {
        // tf.keras 2.14 wrote booleans as integers.
        assert!(same("scale", &ConfigValue::Bool(true), &json!(1)));
        assert!(same("center", &ConfigValue::Bool(false), &json!(0)));
        assert!(!same("scale", &ConfigValue::Bool(true), &json!(0)));
        assert!(!same("scale", &ConfigValue::Bool(true), &json!(2)));
        assert!(same("groups", &ConfigValue::Int(1), &json!(true)));
        // tf.keras 2 wrote BatchNormalization's axis as a list.
        assert!(same("axis", &ConfigValue::Int(3), &json!([3])));
        assert!(same("axis", &ConfigValue::Int(-1), &json!(-1)));
        assert!(same("axis", &ConfigValue::Int(-1), &json!([-1])));
        assert!(!same("axis", &ConfigValue::Int(-1), &json!("x")));
        // -1 and 3 are the same axis of a rank-4 input only; without the rank, not equal.
        assert!(!same("axis", &ConfigValue::Int(-1), &json!([3])));
        assert!(same_at("axis", &ConfigValue::Int(-1), &json!([3]), Some(4)));
        assert!(!same_at(
            "axis",
            &ConfigValue::Int(-1),
            &json!([3]),
            Some(3)
        ));
        assert!(same_at("axis", &ConfigValue::Int(1), &json!(-3), Some(4)));
        assert!(same_at(
            "axis",
            &ConfigValue::Ints(&[1, 2]),
            &json!([-2, -1]),
            Some(3)
        ));
        assert!(!same_at(
            "axis",
            &ConfigValue::Ints(&[1, 2]),
            &json!([1]),
            Some(3)
        ));
    }

    #[test]
    fn ranks_follow_the_graph() {
        // tf.keras 2 writes no tensor shapes: ranks come from the input through the layers.
        let entry = |class: &str, name: &str, from: &str, extra: &str| {
            format!(
                r#"{{"class_name": "{class}", "name": "{name}", "config": {{"name": "{name}", "trainable": true, "dtype": "float32"{extra}}},
                    "inbound_nodes": [[["{from}", 0, 0, {{}}]]]}}"#
            )
        };
        let text = format!(
            r#"{{"class_name": "Functional", "config": {{"name": "m", "input_layers": [["in", 0, 0]], "output_layers": [["bn2", 0, 0]], "layers": [
                {{"class_name": "InputLayer", "name": "in", "config": {{"name": "in", "batch_input_shape": [null, 8, 8, 2]}}, "inbound_nodes": []}},
                {}, {}, {}, {}, {}]}}}}"#,
            entry("Conv2D", "conv", "in", r#", "filters": 3"#),
            entry("BatchNormalization", "bn", "conv", r#", "axis": [3]"#),
            entry("Flatten", "flat", "bn", ""),
            entry("Dense", "dense", "flat", r#", "units": 4"#),
            entry("BatchNormalization", "bn2", "dense", r#", "axis": [1]"#),
        );
        let file = ModelConfig::parse(&text, "test").unwrap();
        assert_eq!(
            input_ranks(&file),
            [Some(4), Some(4), Some(4), Some(2), Some(2)]
        );
        const AXIS: &[(&str, ConfigValue)] = &[("axis", ConfigValue::Int(-1))];
        const fn after(layer: usize) -> &'static [&'static [Source]] {
            match layer {
                0 => &[&[Source::Layer {
                    layer: 0,
                    call: 0,
                    output: 0,
                }]],
                1 => &[&[Source::Layer {
                    layer: 1,
                    call: 0,
                    output: 0,
                }]],
                2 => &[&[Source::Layer {
                    layer: 2,
                    call: 0,
                    output: 0,
                }]],
                _ => &[&[Source::Layer {
                    layer: 3,
                    call: 0,
                    output: 0,
                }]],
            }
        }
        let info = |name, class, config, calls| LayerInfo {
            name,
            class,
            config,
            calls,
        };
        let declared = [
            info("conv", "Conv2D", &[], &[&[Source::Input(0)]]),
            info("bn", "BatchNormalization", AXIS, after(0)),
            info("flat", "Flatten", &[], after(1)),
            info("dense", "Dense", &[], after(2)),
            info("bn2", "BatchNormalization", AXIS, after(3)),
        ];
        architecture(&declared, &[&[8, 8, 2]], 1, &file).unwrap();
    }
}
