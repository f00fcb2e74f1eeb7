//! A saved graph as the DSL's functional statements, the way Keras code builds it:
//!
//! ```text
//! img = Input(shape = (6, 6, 3), name = "img");
//! c1 = Conv2D(filters = 4, …, name = "c1")(img);
//! short = Conv2D(filters = 4, …, name = "short")(img);
//! add = Add(name = "add")([short, c2]);
//! shared = Dense(units = 3, …, name = "shared");      // a shared layer: bound once,
//! shared_call0 = shared(a);                           // called at each use
//! lstm_out, lstm_h, lstm_c = LSTM(…)(seq);            // several outputs, unpacked
//! model = Model(inputs = img, outputs = act);
//! ```
//!
//! Calls come in Keras's layer order wherever that order is topological (it is, except around
//! shared layers); otherwise a call waits until every tensor it reads is defined, and the calls
//! of a shared layer keep their order (call `k` is the layer's `k`-th node in the file, as the
//! declaration numbers them). Variables are named after the layers; a tensor that nothing reads
//! (an unused state of a recurrent layer) starts with `_`, as the DSL asks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use static_keras_file::{ModelConfig, Source};

use super::layer::{identifier, Unique};
use crate::layers::fmt_shape;

/// What the statements need to know of each saved layer.
pub struct Layer<'a> {
    /// The layer's name in the declaration.
    pub name: &'a str,
    /// Its constructor, `Dense(units = 3, …, name = "d")`.
    pub constructor: &'a str,
    /// How many tensors one call returns.
    pub outputs: usize,
    /// A merge layer, applied to a list.
    pub merge: bool,
}

/// The names of a call's outputs after its variable: a recurrent layer's states by their
/// Keras meaning.
fn output_suffix(class: &str, output: usize) -> String {
    let names: &[&str] = match class {
        "LSTM" => &["out", "h", "c"],
        "GRU" | "SimpleRNN" => &["out", "h"],
        _ => &[],
    };
    names
        .get(output)
        .map_or_else(|| output.to_string(), |s| s.to_string())
}

/// The statements declaring `config` (without the closing `;`s), or the errors naming each
/// layer whose wiring the DSL cannot express.
pub fn statements(
    config: &ModelConfig,
    shapes: &[Vec<usize>],
    layers: &[Layer],
) -> Result<Vec<String>, Vec<String>> {
    let what = |l: usize| {
        let layer = &config.layers[l];
        format!("layer {l} `{}` ({})", layer.name, layer.class)
    };
    // A tensor read by `reader` that the file does not produce.
    let missing = |reader: &str, source: &Source| -> Option<String> {
        let (layer, call, output) = match *source {
            Source::Input(i) => {
                return (i >= config.inputs.len())
                    .then(|| format!("{reader} reads input {i}, which the file does not have"))
            }
            Source::Layer {
                layer,
                call,
                output,
            } => (layer, call, output),
        };
        let Some(saved) = config.layers.get(layer) else {
            return Some(format!(
                "{reader} reads layer {layer}, which the file does not have"
            ));
        };
        (call >= saved.calls.len() || output >= layers[layer].outputs).then(|| {
            format!(
                "{reader} reads output {output} of call {call} of {}, which is called {} time(s) and returns {} tensor(s)",
                what(layer),
                saved.calls.len(),
                layers[layer].outputs
            )
        })
    };
    let mut errors = Vec::new();
    for (l, layer) in config.layers.iter().enumerate() {
        for (k, call) in layer.calls.iter().enumerate() {
            let reader = match layer.calls.len() {
                1 => what(l),
                _ => format!("{}, call {k},", what(l)),
            };
            if !layers[l].merge && call.len() != 1 {
                errors.push(format!(
                    "{reader} reads {} tensors: static-keras applies a layer to one tensor (a merge layer to a list)",
                    call.len()
                ));
            }
            errors.extend(call.iter().filter_map(|s| missing(&reader, s)));
        }
    }
    errors.extend(
        config
            .outputs
            .iter()
            .filter_map(|s| missing("the model's output list", s)),
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let order = call_order(config)?;

    // Which tensors something reads: the others are named `_…`.
    let mut read: Vec<Vec<Vec<bool>>> = config
        .layers
        .iter()
        .zip(layers)
        .map(|(saved, l)| vec![vec![false; l.outputs]; saved.calls.len()])
        .collect();
    let sources = config.layers.iter().flat_map(|l| l.calls.iter().flatten());
    for source in sources.chain(&config.outputs) {
        if let Source::Layer {
            layer,
            call,
            output,
        } = *source
        {
            read[layer][call][output] = true;
        }
    }

    let mut unique = Unique::default();
    unique.reserve("model");
    let mut statements = Vec::new();
    let input_vars: Vec<String> = config
        .inputs
        .iter()
        .map(|input| unique.take(&identifier(&input.name, "input")))
        .collect();
    for ((input, var), shape) in config.inputs.iter().zip(&input_vars).zip(shapes) {
        let mut args = vec![
            format!("shape = {}", fmt_shape(shape)),
            format!("name = {:?}", input.name),
        ];
        if let Some(dtype) = input.dtype.as_deref().filter(|&d| d != "float32") {
            args.push(format!("dtype = {dtype:?}"));
        }
        statements.push(format!("{var} = Input({})", args.join(", ")));
    }
    let mut tensor_vars: Vec<Vec<Vec<String>>> = config
        .layers
        .iter()
        .map(|l| vec![Vec::new(); l.calls.len()])
        .collect();
    // The variable a shared layer is bound to.
    let mut bindings: Vec<Option<String>> = vec![None; config.layers.len()];
    for (l, k) in order {
        let (saved, layer) = (&config.layers[l], &layers[l]);
        let var = |source: &Source, tensor_vars: &[Vec<Vec<String>>]| match *source {
            Source::Input(i) => input_vars[i].clone(),
            Source::Layer {
                layer,
                call,
                output,
            } => tensor_vars[layer][call][output].clone(),
        };
        let args: Vec<String> = saved.calls[k]
            .iter()
            .map(|s| var(s, &tensor_vars))
            .collect();
        let args = match layer.merge {
            true => format!("[{}]", args.join(", ")),
            false => args.join(", "),
        };
        let shared = saved.calls.len() > 1;
        let callee = if shared {
            bindings[l]
                .get_or_insert_with(|| {
                    let binding = unique.take(layer.name);
                    statements.push(format!("{binding} = {}", layer.constructor));
                    binding
                })
                .clone()
        } else {
            layer.constructor.to_string()
        };
        let base = match shared {
            true => format!("{}_call{k}", layer.name),
            false => layer.name.to_string(),
        };
        let targets: Vec<String> = (0..layer.outputs)
            .map(|o| {
                let name = match layer.outputs {
                    1 => base.clone(),
                    _ => format!("{base}_{}", output_suffix(&saved.class, o)),
                };
                let name = match read[l][k][o] {
                    true => name,
                    false => format!("_{name}"),
                };
                unique.take(&name)
            })
            .collect();
        statements.push(format!("{} = {callee}({args})", targets.join(", ")));
        tensor_vars[l][k] = targets;
    }
    let list = |vars: Vec<String>| match vars.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", vars.join(", ")),
    };
    let outputs = config
        .outputs
        .iter()
        .map(|s| match *s {
            Source::Input(i) => input_vars[i].clone(),
            Source::Layer {
                layer,
                call,
                output,
            } => tensor_vars[layer][call][output].clone(),
        })
        .collect();
    statements.push(format!(
        "model = Model(inputs = {}, outputs = {})",
        list(input_vars),
        list(outputs)
    ));
    Ok(statements)
}

/// Every call `(layer, call)` in an order where each comes after the calls it reads and after
/// its layer's earlier calls, Keras's layer order wherever that allows.
fn call_order(config: &ModelConfig) -> Result<Vec<(usize, usize)>, Vec<String>> {
    let mut first = Vec::with_capacity(config.layers.len());
    let mut nodes = Vec::new();
    for (l, layer) in config.layers.iter().enumerate() {
        first.push(nodes.len());
        nodes.extend((0..layer.calls.len()).map(|k| (l, k)));
    }
    let mut waiting = vec![0usize; nodes.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (n, &(l, k)) in nodes.iter().enumerate() {
        let mut after: Vec<usize> = config.layers[l].calls[k]
            .iter()
            .filter_map(|s| match *s {
                Source::Layer { layer, call, .. } => Some(first[layer] + call),
                Source::Input(_) => None,
            })
            .collect();
        if k > 0 {
            after.push(n - 1);
        }
        after.sort_unstable();
        after.dedup();
        waiting[n] = after.len();
        for a in after {
            readers[a].push(n);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..nodes.len())
        .filter(|&n| waiting[n] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse(n)) = ready.pop() {
        order.push(nodes[n]);
        for &r in &readers[n] {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push(Reverse(r));
            }
        }
    }
    match nodes.iter().enumerate().find(|&(n, _)| waiting[n] > 0) {
        None => Ok(order),
        Some((_, &(l, k))) => Err(vec![format!(
            "call {k} of layer {l} `{}` depends on itself (through the layers it reads or an earlier call of its own)",
            config.layers[l].name
        )]),
    }
}
