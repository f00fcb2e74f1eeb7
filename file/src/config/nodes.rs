//! The tensors a functional config refers to: the inputs of each call (`inbound_nodes`) and the
//! model's `input_layers` / `output_layers`, in the order Keras flattens them.
//!
//! Two node forms exist (KERAS_GRAPHS §1.2, §1.8):
//!
//! * Keras 3: `{"args": [...], "kwargs": {...}}`, each tensor written as
//!   `{"class_name": "__keras_tensor__", "config": {"shape": …, "keras_history": [layer, node, tensor]}}`,
//!   a merge layer's inputs as one list argument.
//! * tf.keras 2: a list of `[layer, node, tensor, kwargs]` entries (constants as
//!   `["_CONSTANT_VALUE", -1, value, kwargs]`); tensors passed as keyword arguments sit in the
//!   kwargs as `[layer, node, tensor]`.
//!
//! Keras flattens call arguments as `tree.flatten((args, kwargs))`: lists in order, dicts by sorted
//! key; the same order is kept here.

use serde_json::{Map, Value};

use crate::error::Error;

/// `[layer, node, tensor]` as written, the layer still a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawRef {
    pub name: String,
    pub node: usize,
    pub tensor: usize,
}

/// Which writer's node convention a document follows; it decides how node indices of nested
/// models count (see `flatten`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `{"args", "kwargs"}` nodes (Keras 3, also in its legacy `.h5`).
    Keras3,
    /// `[[layer, node, tensor, kwargs]]` nodes (tf.keras 2, and tf_keras's `.keras`).
    Keras2,
}

/// One call of a layer: its input tensors in Keras's flattening order, and the rank of the first
/// one when the file writes it (Keras 3 records every tensor's shape).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct RawNode {
    pub inputs: Vec<RawRef>,
    pub rank: Option<usize>,
}

pub(super) fn bad(context: &str, message: impl Into<String>) -> Error {
    Error::Json {
        context: context.to_string(),
        message: message.into(),
    }
}

/// The form of the first node found in `layers` (recursively into nested models); `None` if no
/// layer has an inbound node.
pub(super) fn detect_form(layers: &[Value]) -> Option<Form> {
    for entry in layers {
        if let Some(node) = entry
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .and_then(|n| n.first())
        {
            match node {
                Value::Object(_) => return Some(Form::Keras3),
                Value::Array(_) => return Some(Form::Keras2),
                _ => {}
            }
        }
        if let Some(inner) = entry
            .get("config")
            .and_then(|c| c.get("layers"))
            .and_then(Value::as_array)
        {
            if let Some(form) = detect_form(inner) {
                return Some(form);
            }
        }
    }
    None
}

fn index(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// `[name, node, tensor]` (a 4th element, tf.keras 2's kwargs, is allowed), or `None` if `v` is
/// not shaped like one.
fn triple(v: &Value) -> Option<RawRef> {
    let items = v.as_array()?;
    if !(3..=4).contains(&items.len()) {
        return None;
    }
    Some(RawRef {
        name: items[0].as_str()?.to_string(),
        node: index(&items[1])?,
        tensor: index(&items[2])?,
    })
}

/// A dict's values in sorted key order, as `tree.flatten` visits them.
fn sorted_values(map: &Map<String, Value>) -> Vec<&Value> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    keys.into_iter().map(|k| &map[k]).collect()
}

/// The tensors of one inbound node, in either form. `what` names the layer for messages.
pub(super) fn node(node: &Value, what: &str, context: &str) -> Result<RawNode, Error> {
    let mut out = RawNode::default();
    match node {
        Value::Object(map) => {
            let args = map.get("args").unwrap_or(&Value::Null);
            let kwargs = map.get("kwargs").unwrap_or(&Value::Null);
            keras3_tensors(args, &mut out, what, context)?;
            keras3_tensors(kwargs, &mut out, what, context)?;
        }
        Value::Array(_) => {
            let mut kwargs = None;
            keras2_tensors(node, &mut out.inputs, &mut kwargs, what, context)?;
            if let Some(kwargs) = kwargs {
                keras2_kwarg_tensors(kwargs, &mut out.inputs);
            }
        }
        other => {
            return Err(bad(
                context,
                format!("an inbound node of {what} is neither an object nor a list: {other}"),
            ))
        }
    }
    Ok(out)
}

fn keras3_tensors(v: &Value, out: &mut RawNode, what: &str, context: &str) -> Result<(), Error> {
    match v {
        Value::Array(items) => {
            for item in items {
                keras3_tensors(item, out, what, context)?;
            }
        }
        Value::Object(map) => match map.get("class_name").and_then(Value::as_str) {
            Some("__keras_tensor__") => {
                let config = map.get("config");
                let history = config.and_then(|c| c.get("keras_history"));
                let reference = history.and_then(triple).ok_or_else(|| {
                    bad(
                        context,
                        format!(
                            "an input tensor of {what} has no valid `keras_history` [layer, node, tensor]"
                        ),
                    )
                })?;
                if out.inputs.is_empty() {
                    out.rank = config
                        .and_then(|c| c.get("shape"))
                        .and_then(Value::as_array)
                        .map(Vec::len);
                }
                out.inputs.push(reference);
            }
            // Another serialized object (a constant array, a dtype): not a tensor of the graph.
            Some(_) => {}
            None => {
                for value in sorted_values(map) {
                    keras3_tensors(value, out, what, context)?;
                }
            }
        },
        _ => {}
    }
    Ok(())
}

fn keras2_tensors<'a>(
    v: &'a Value,
    out: &mut Vec<RawRef>,
    kwargs: &mut Option<&'a Value>,
    what: &str,
    context: &str,
) -> Result<(), Error> {
    match v {
        Value::Array(items) if items.first().is_some_and(Value::is_string) => {
            if kwargs.is_none() {
                *kwargs = items.get(3);
            }
            if items[0] == "_CONSTANT_VALUE" {
                return Ok(());
            }
            let reference = triple(v).ok_or_else(|| {
                bad(
                    context,
                    format!("an inbound entry of {what} is not [layer, node, tensor, kwargs]: {v}"),
                )
            })?;
            out.push(reference);
        }
        Value::Array(items) => {
            for item in items {
                keras2_tensors(item, out, kwargs, what, context)?;
            }
        }
        Value::Object(map) => {
            for value in sorted_values(map) {
                keras2_tensors(value, out, kwargs, what, context)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Tensors passed by keyword in tf.keras 2 (`layer(x, y=t)` → `{"y": [name, node, tensor]}`).
/// Other keyword values (`null`, numbers, strings) are not tensors.
fn keras2_kwarg_tensors(v: &Value, out: &mut Vec<RawRef>) {
    match v {
        Value::Array(items) if items.len() == 3 && items[0].is_string() => {
            if let Some(reference) = triple(v) {
                out.push(reference);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keras2_kwarg_tensors(i, out)),
        Value::Object(map) => sorted_values(map)
            .into_iter()
            .for_each(|i| keras2_kwarg_tensors(i, out)),
        _ => {}
    }
}

/// `input_layers` / `output_layers`: one triple, a list, or a dict (any nesting), flattened as
/// Keras flattens a model's inputs and outputs.
pub(super) fn endpoints(v: &Value, key: &str, context: &str) -> Result<Vec<RawRef>, Error> {
    fn walk(v: &Value, out: &mut Vec<RawRef>, key: &str, context: &str) -> Result<(), Error> {
        if let Some(reference) = triple(v).filter(|_| v.as_array().is_some_and(|a| a.len() == 3)) {
            out.push(reference);
            return Ok(());
        }
        match v {
            Value::Array(items) => items.iter().try_for_each(|i| walk(i, out, key, context)),
            Value::Object(map) => sorted_values(map)
                .into_iter()
                .try_for_each(|i| walk(i, out, key, context)),
            other => Err(bad(
                context,
                format!("`{key}` holds {other}, not a [layer, node, tensor] reference"),
            )),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out, key, context)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kt(name: &str, node: u64, tensor: u64) -> Value {
        json!({"class_name": "__keras_tensor__",
               "config": {"shape": [null, 4], "dtype": "float32", "keras_history": [name, node, tensor]}})
    }

    fn names(node: &RawNode) -> Vec<(String, usize, usize)> {
        node.inputs
            .iter()
            .map(|r| (r.name.clone(), r.node, r.tensor))
            .collect()
    }

    #[test]
    fn keras3_nodes_flatten_args_then_sorted_kwargs() {
        let n = json!({"args": [[kt("a", 0, 0), kt("b", 1, 2)], 0.5],
                       "kwargs": {"value": kt("v", 0, 0), "mask": null, "key": kt("k", 0, 0)}});
        let node = node(&n, "layer `x`", "test").unwrap();
        assert_eq!(
            names(&node),
            [
                ("a".into(), 0, 0),
                ("b".into(), 1, 2),
                ("k".into(), 0, 0),
                ("v".into(), 0, 0)
            ]
        );
        assert_eq!(node.rank, Some(2));
    }

    #[test]
    fn keras2_nodes_with_constants_and_keyword_tensors() {
        let n =
            json!([["d", 0, 0, {"y": ["a", 0, 0], "name": null}], ["_CONSTANT_VALUE", -1, 3, {}]]);
        let node = node(&n, "layer `x`", "test").unwrap();
        assert_eq!(names(&node), [("d".into(), 0, 0), ("a".into(), 0, 0)]);
        assert_eq!(node.rank, None);
        let n = json!([["a", 1, 0, {}], ["b", 0, 2, {}]]);
        assert_eq!(
            names(&super::node(&n, "x", "test").unwrap()),
            [("a".into(), 1, 0), ("b".into(), 0, 2)]
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        for n in [
            json!({"args": [{"class_name": "__keras_tensor__", "config": {}}]}),
            json!({"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", -1, 0]}}]}),
            json!([["a", "0", 0, {}]]),
            json!(3),
        ] {
            assert!(node(&n, "x", "test").is_err(), "{n}");
        }
    }

    #[test]
    fn endpoints_in_every_structure() {
        let flat = |v: Value| {
            endpoints(&v, "output_layers", "test")
                .unwrap()
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(flat(json!(["a", 0, 0])), ["a"]);
        assert_eq!(flat(json!([["a", 0, 0], ["b", 1, 0]])), ["a", "b"]);
        // Dicts flatten by sorted key, as `tree.flatten` does.
        assert_eq!(
            flat(json!({"z": ["inner", 2, 0], "sum": ["sum", 0, 0]})),
            ["sum", "inner"]
        );
        assert!(endpoints(&json!([["a", 0]]), "output_layers", "test").is_err());
        assert!(endpoints(&json!("a"), "output_layers", "test").is_err());
    }
}
