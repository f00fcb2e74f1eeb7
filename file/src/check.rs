//! The saved architecture against the declared one: input shape, layer classes in order, and
//! every inference-relevant config entry the declaration resolved (`LayerInfo::config`), with
//! Keras's equivalent spellings treated as equal (`3` and `[3, 3]`, `"VALID"` and `"valid"`,
//! activation aliases such as `swish`/`silu`, `null` and `"linear"` for an activation).

use serde_json::Value;
use static_keras_runtime::{Activation, ConfigValue, LayerInfo};

use crate::config::ModelConfig;
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

/// Checks `file` against the declared layers and input shape; the error names the first
/// difference.
pub fn architecture(
    declared: &[LayerInfo],
    input_shape: &[usize],
    file: &ModelConfig,
) -> Result<(), Error> {
    if let Some(saved) = &file.input_shape {
        let fits = saved.len() == input_shape.len()
            && saved
                .iter()
                .zip(input_shape)
                .all(|(s, d)| s.is_none_or(|s| s == *d));
        if !fits {
            let saved: Vec<String> = saved
                .iter()
                .map(|d| d.map_or_else(|| "None".to_string(), |d| d.to_string()))
                .collect();
            let declared: Vec<String> = input_shape.iter().map(usize::to_string).collect();
            return Err(mismatch(format!(
                "the input shape is {} in the file but {} in the declaration",
                fmt_dims(&saved),
                fmt_dims(&declared)
            )));
        }
    }
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
        for (key, value) in ours.config {
            let Some(saved) = theirs.config.get(*key) else {
                // Written by every Keras version for the keys layers declare; an older file
                // without it cannot be checked on this entry.
                continue;
            };
            if !same(key, value, saved) {
                return Err(mismatch(format!(
                    "layer {index} `{}` ({}): `{key}` is {} in the file but {} in the declaration",
                    ours.name,
                    ours.class,
                    saved,
                    show(value)
                )));
            }
        }
    }
    if declared.len() != file.layers.len() {
        let list = |names: Vec<String>| names.join(", ");
        return Err(mismatch(format!(
            "the file has {} layers ({}) but the declaration {} ({})",
            file.layers.len(),
            list(
                file.layers
                    .iter()
                    .map(|l| format!("{} `{}`", l.class, l.name))
                    .collect()
            ),
            declared.len(),
            list(
                declared
                    .iter()
                    .map(|l| format!("{} `{}`", l.class, l.name))
                    .collect()
            ),
        )));
    }
    Ok(())
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
    match ours {
        ConfigValue::Str(s) if key.ends_with("activation") => same_activation(s, saved),
        ConfigValue::Str(s) => saved.as_str().is_some_and(|t| t.eq_ignore_ascii_case(s)),
        ConfigValue::Int(v) => match saved {
            Value::Array(items) => items.len() == 1 && int_of(&items[0]) == Some(*v),
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
        // tf.keras 2.14 wrote some booleans as integers (`"scale": 1`).
        ConfigValue::Bool(v) => {
            saved.as_bool() == Some(*v) || saved.as_i64().is_some_and(|i| (i != 0) == *v)
        }
        ConfigValue::None => saved.is_null(),
        // An int or a list (tf.keras 2 wrote BatchNormalization's axis as `[3]`), negative or not.
        ConfigValue::Axes { axes, rank } => {
            let ours = axes.iter().map(|&a| serde_json::json!(a)).collect();
            axis_set(saved, *rank).is_some_and(|s| Some(s) == axis_set(&Value::Array(ours), *rank))
        }
        ConfigValue::Floats(v) => float_list(saved).is_some_and(|s| {
            s.len() == v.len() && s.iter().zip(v.iter()).all(|(s, o)| close(*o, *s))
        }),
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
}
