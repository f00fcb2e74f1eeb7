//! Keras's order of a functional model's layers (`model.layers`, `config["layers"]`), which is
//! also the order of its weights and of its weight-file groups: Keras 3's
//! `keras/src/ops/function.py::map_graph`, reproduced exactly so that a declared graph and a
//! saved one number their layers alike.
//!
//! 1. A depth-first walk from the outputs (first output first, each call's inputs left to right)
//!    gives every layer its first-discovery index (pre-order).
//! 2. A call's depth is 0 for the calls producing outputs and 1 + the largest depth of the calls
//!    it feeds otherwise; a layer's depth is the largest over its calls, and a later call of a
//!    shared layer starts from that.
//! 3. Layers are sorted by depth, deepest first; ties go by discovery index. Inputs that no output
//!    depends on come last among depth 0, before every other layer of that depth.

use std::collections::HashMap;

/// One call of a layer inside a graph (Keras's "node").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The layer called, an index into the graph's layers (input layers included).
    pub layer: usize,
    /// The calls producing its input tensors, in argument order (left to right). Empty for the
    /// call of an input layer.
    pub inputs: Vec<usize>,
}

/// A cycle, found at this call (a malformed file; a declaration cannot express one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The call found again while its inputs were being walked.
    pub call: usize,
}

/// The layers in Keras's `model.layers` order (input layers included, as Keras lists them),
/// given every call, the calls producing the model's outputs (in output order) and those of its
/// inputs (in input order). Layers no output depends on (and that are not inputs) are left out,
/// as Keras leaves them out of the model.
pub fn keras_layer_order(
    calls: &[Call],
    outputs: &[usize],
    inputs: &[usize],
) -> Result<Vec<usize>, Cycle> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        InProgress,
        Done,
    }
    let mut marks = vec![Mark::New; calls.len()];
    let mut discovery: HashMap<usize, i64> = HashMap::new();
    let mut post_order: Vec<usize> = Vec::new();

    // Iterative DFS with an explicit stack of (call, next input to visit).
    for &output in outputs {
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let enter = |call: usize,
                     marks: &mut Vec<Mark>,
                     discovery: &mut HashMap<usize, i64>,
                     stack: &mut Vec<(usize, usize)>|
         -> Result<(), Cycle> {
            match marks[call] {
                Mark::Done => Ok(()),
                Mark::InProgress => Err(Cycle { call }),
                Mark::New => {
                    let next = discovery.len() as i64;
                    discovery.entry(calls[call].layer).or_insert(next);
                    marks[call] = Mark::InProgress;
                    stack.push((call, 0));
                    Ok(())
                }
            }
        };
        enter(output, &mut marks, &mut discovery, &mut stack)?;
        while let Some(&mut (call, ref mut next)) = stack.last_mut() {
            // The walk stops at the model's inputs.
            let stop = inputs.contains(&call);
            if !stop && *next < calls[call].inputs.len() {
                let child = calls[call].inputs[*next];
                *next += 1;
                enter(child, &mut marks, &mut discovery, &mut stack)?;
            } else {
                stack.pop();
                marks[call] = Mark::Done;
                post_order.push(call);
            }
        }
    }

    let mut call_depth: HashMap<usize, usize> = HashMap::new();
    let mut layer_depth: HashMap<usize, usize> = HashMap::new();
    for &call in post_order.iter().rev() {
        let here = *call_depth.get(&call).unwrap_or(&0);
        let depth = here.max(*layer_depth.get(&calls[call].layer).unwrap_or(&0));
        layer_depth.insert(calls[call].layer, depth);
        call_depth.insert(call, depth);
        for &parent in &calls[call].inputs {
            let previous = *call_depth.get(&parent).unwrap_or(&0);
            call_depth.insert(parent, previous.max(depth + 1));
        }
    }
    for &input in inputs {
        let layer = calls[input].layer;
        if let std::collections::hash_map::Entry::Vacant(e) = layer_depth.entry(layer) {
            e.insert(0);
            discovery.insert(layer, -1);
        }
    }
    let mut layers: Vec<usize> = layer_depth.keys().copied().collect();
    layers.sort_by_key(|l| (std::cmp::Reverse(layer_depth[l]), discovery[l]));
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(layer: usize, inputs: &[usize]) -> Call {
        Call {
            layer,
            inputs: inputs.to_vec(),
        }
    }

    /// KERAS_GRAPHS §1.4: `zz_short` (created first, layer 3 here) is listed after `bn`, and
    /// before `relu`, because `Add([s, y])` reads it first.
    #[test]
    fn residual_block_as_keras_lists_it() {
        // layers: 0 img, 1 c1, 2 bn, 3 zz_short, 4 relu, 5 add, 6 act
        let calls = [
            call(0, &[]),
            call(1, &[0]),
            call(2, &[1]),
            call(3, &[0]),
            call(4, &[2]),
            call(5, &[3, 4]),
            call(6, &[5]),
        ];
        assert_eq!(
            keras_layer_order(&calls, &[6], &[0]).unwrap(),
            [0, 1, 2, 3, 4, 5, 6]
        );
        // Add([y, s]) puts relu first.
        let mut swapped = calls.clone();
        swapped[5] = call(5, &[4, 3]);
        assert_eq!(
            keras_layer_order(&swapped, &[6], &[0]).unwrap(),
            [0, 1, 2, 4, 3, 5, 6]
        );
    }

    /// `Model([a, b], Add()([d3(d2(d1(a))), b]))` lists `a, d1, d2, d3, b, add`.
    #[test]
    fn an_input_is_not_necessarily_first() {
        // layers: 0 a, 1 b, 2 d1, 3 d2, 4 d3, 5 add
        let calls = [
            call(0, &[]),
            call(1, &[]),
            call(2, &[0]),
            call(3, &[2]),
            call(4, &[3]),
            call(5, &[4, 1]),
        ];
        assert_eq!(
            keras_layer_order(&calls, &[5], &[0, 1]).unwrap(),
            [0, 2, 3, 4, 1, 5]
        );
    }

    /// `Model(a, [d2(a), d1(a)])` lists d2 before d1 whatever the creation order.
    #[test]
    fn outputs_in_order() {
        let calls = [call(0, &[]), call(1, &[0]), call(2, &[0])];
        assert_eq!(keras_layer_order(&calls, &[2, 1], &[0]).unwrap(), [0, 2, 1]);
    }

    /// A shared layer appears once, at the depth of its deepest call.
    #[test]
    fn a_shared_layer_once() {
        // layers: 0 a, 1 b, 2 shared, 3 cat; calls: shared(a), shared(b)
        let calls = [
            call(0, &[]),
            call(1, &[]),
            call(2, &[0]),
            call(2, &[1]),
            call(3, &[2, 3]),
        ];
        assert_eq!(
            keras_layer_order(&calls, &[4], &[0, 1]).unwrap(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn a_cycle_is_found() {
        let calls = [call(0, &[]), call(1, &[2]), call(2, &[1])];
        assert!(keras_layer_order(&calls, &[2], &[0]).is_err());
    }
}
