//! The model built from a translation is the file's graph: its layers in Keras's
//! `model.layers` order are the file's (so fields, weight order and the embedded weights pair
//! up), each call reads the tensors the file's call reads, and the inputs and outputs are the
//! file's. A difference is a bug of the translation, reported rather than compiled.

use static_keras_file::{ModelConfig, Source};

use super::{Form, Translation};
use crate::check::Shapes;
use crate::codegen::Plan;
use crate::model::{Model, Value};

fn bug(message: String) -> Vec<String> {
    vec![format!(
        "internal error: the declaration static-keras made for this file {message}; please report it with the file"
    )]
}

pub fn same_graph(
    translation: &Translation,
    config: &ModelConfig,
    model: &Model,
    shapes: &Shapes,
) -> Result<(), Vec<String>> {
    let plan = Plan::new(model, shapes);
    let names: Vec<&str> = plan
        .order
        .iter()
        .map(|&l| model.layers[l].name.as_str())
        .collect();
    if names != translation.names {
        return Err(bug(format!(
            "lists its layers as [{}] where the file has [{}]",
            names.join(", "),
            translation.names.join(", ")
        )));
    }
    let mut position = vec![0; model.layers.len()];
    for (i, &l) in plan.order.iter().enumerate() {
        position[l] = i;
    }
    let source = |v: &Value| match *v {
        Value::Input(i) => Source::Input(i),
        Value::Call { call, output } => Source::Layer {
            layer: position[model.calls[call].layer],
            call: model.call_index(call),
            output,
        },
    };
    for (i, &l) in plan.order.iter().enumerate() {
        let calls: Vec<Vec<Source>> = model
            .calls
            .iter()
            .filter(|c| c.layer == l)
            .map(|c| c.inputs.iter().map(source).collect())
            .collect();
        if calls != config.layers[i].calls {
            return Err(bug(format!(
                "wires layer {i} `{}` as {calls:?} where the file has {:?}",
                names[i], config.layers[i].calls
            )));
        }
    }
    if model.inputs.len() != config.inputs.len() {
        return Err(bug(format!(
            "has {} inputs where the file has {}",
            model.inputs.len(),
            config.inputs.len()
        )));
    }
    if let Form::Functional { .. } = translation.form {
        let inputs: Vec<&str> = model.inputs.iter().map(|i| i.name.as_str()).collect();
        let saved: Vec<&str> = config.inputs.iter().map(|i| i.name.as_str()).collect();
        let outputs: Vec<Source> = model.outputs.iter().map(source).collect();
        if inputs != saved || outputs != config.outputs {
            return Err(bug(format!(
                "has the inputs {inputs:?} and outputs {outputs:?} where the file has {saved:?} and {:?}",
                config.outputs
            )));
        }
    }
    Ok(())
}
