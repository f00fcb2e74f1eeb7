//! Activation memory, planned at compile time: the lifetime of every value of the graph (from the
//! call producing it to its last reader; the model's outputs to the end), buffers shared where a
//! layer's output is its input's bytes (Reshape, Flatten, the inference identities) or where a
//! layer may overwrite its input (activations, BatchNormalization, `Add` into its first input)
//! because nothing reads the input later, and each buffer placed at an offset of one workspace
//! so that buffers alive at the same step never overlap. The workspace's size is the model's
//! `ACTIVATION_BYTES`.
//!
//! The planner sees a plain graph ([`Graph`]) so that unit tests can give it one by hand; `from
//! the plan` builds that graph from the checked model.

use super::plan::{Kernel, Plan};
use crate::layers::Memory;
use crate::model::Value;

/// Every buffer starts on a cache line (64 bytes = 16 f32) and takes whole lines, so the SIMD
/// kernels see aligned activations, as the stack bindings of `predict` give them.
pub const ALIGN_WORDS: usize = 16;

/// How a step's output may share memory with its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Each output gets a buffer of its own.
    Own,
    /// The (single) output is the first input's bytes: no code runs.
    View,
    /// The (single) output may be written over the first input, when nothing reads it later.
    InPlace,
}

/// What the planner sees of a model.
pub struct Graph {
    /// The size of each value in f32 words.
    pub words: Vec<usize>,
    /// Which values are the model's inputs: they stay in the caller's memory.
    pub external: Vec<bool>,
    /// The calls in execution order.
    pub steps: Vec<Step>,
    /// The model's outputs, alive to the end.
    pub outputs: Vec<usize>,
}

pub struct Step {
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    pub access: Access,
}

/// Where a value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In model input number `i` (the input itself, or a view of it).
    External(usize),
    /// In the workspace from this word on.
    Arena(usize),
}

/// How a step runs under the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Its outputs are written to buffers of their own.
    Own,
    /// Nothing runs: the output is the input's bytes.
    View,
    /// The output is written over the first input.
    InPlace,
}

#[derive(Default)]
pub struct MemoryPlan {
    /// Where each value lives.
    pub places: Vec<Place>,
    /// How each step runs.
    pub modes: Vec<Mode>,
    /// The workspace size in f32 words.
    pub words: usize,
    /// The largest sum of the buffers alive at one step (in words, without alignment): what
    /// any placement of these buffers needs at least.
    pub live_words: usize,
}

struct Buffer {
    words: usize,
    /// The step writing it first.
    start: usize,
    /// The values stored in it (views and in-place results share their input's buffer).
    values: Vec<usize>,
}

/// Plans `graph`'s memory.
pub fn plan(graph: &Graph) -> MemoryPlan {
    let steps = graph.steps.len();
    // The step after the last: the model's outputs are read then.
    let end = steps;
    let mut last: Vec<Option<usize>> = vec![None; graph.words.len()];
    for (s, step) in graph.steps.iter().enumerate() {
        for &v in &step.inputs {
            last[v] = Some(s);
        }
    }
    for &o in &graph.outputs {
        last[o] = Some(end);
    }

    // Model inputs are external; every other value joins or opens a buffer.
    let mut external: Vec<Option<usize>> = vec![None; graph.words.len()];
    let mut inputs_seen = 0;
    for (v, &e) in graph.external.iter().enumerate() {
        if e {
            external[v] = Some(inputs_seen);
            inputs_seen += 1;
        }
    }
    let mut buffer_of: Vec<Option<usize>> = vec![None; graph.words.len()];
    let mut buffers: Vec<Buffer> = Vec::new();
    let mut modes = Vec::with_capacity(steps);
    for (s, step) in graph.steps.iter().enumerate() {
        let first = step.inputs.first().copied();
        let mode = match (step.access, first) {
            (Access::View, Some(x)) => {
                let y = step.outputs[0];
                external[y] = external[x];
                buffer_of[y] = buffer_of[x];
                if let Some(b) = buffer_of[x] {
                    buffers[b].values.push(y);
                }
                Mode::View
            }
            (Access::InPlace, Some(x)) if in_place_ok(graph, &buffers, &buffer_of, &last, s, x) => {
                let b = buffer_of[x].expect("checked: in a buffer");
                let y = step.outputs[0];
                buffer_of[y] = Some(b);
                buffers[b].values.push(y);
                Mode::InPlace
            }
            _ => {
                for &y in &step.outputs {
                    buffer_of[y] = Some(buffers.len());
                    buffers.push(Buffer {
                        words: graph.words[y],
                        start: s,
                        values: vec![y],
                    });
                }
                Mode::Own
            }
        };
        modes.push(mode);
    }

    // Each buffer is alive from its first write to the last read of any value in it (a value
    // nobody reads still takes its buffer during the step writing it).
    let spans: Vec<(usize, usize)> = buffers
        .iter()
        .map(|b| {
            let stop = b
                .values
                .iter()
                .filter_map(|&v| last[v])
                .max()
                .unwrap_or(b.start)
                .max(b.start);
            (b.start, stop)
        })
        .collect();
    let live_words = (0..=end)
        .map(|s| {
            buffers
                .iter()
                .zip(&spans)
                .filter(|(_, &(a, z))| a <= s && s <= z)
                .map(|(b, _)| b.words)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);

    // Largest first, each at the lowest offset clear of the buffers placed so far that are alive
    // at the same time (the greedy-by-size placement of TFLite's arena planner).
    let mut order: Vec<usize> = (0..buffers.len()).collect();
    order.sort_by_key(|&b| (std::cmp::Reverse(buffers[b].words), spans[b].0));
    let mut offsets: Vec<Option<usize>> = vec![None; buffers.len()];
    let mut words = 0;
    for &b in &order {
        let size = round_up(buffers[b].words);
        let (a, z) = spans[b];
        let mut taken: Vec<(usize, usize)> = order
            .iter()
            .filter_map(|&o| {
                let offset = offsets[o]?;
                let (oa, oz) = spans[o];
                (oa <= z && a <= oz).then_some((offset, offset + round_up(buffers[o].words)))
            })
            .collect();
        taken.sort_unstable();
        let mut at = 0;
        for (from, to) in taken {
            if from >= at + size {
                break;
            }
            at = at.max(to);
        }
        offsets[b] = Some(at);
        words = words.max(at + size);
    }

    let places = (0..graph.words.len())
        .map(|v| match (external[v], buffer_of[v]) {
            (Some(i), _) => Place::External(i),
            (None, Some(b)) => Place::Arena(offsets[b].expect("every buffer is placed")),
            (None, None) => unreachable!("value {v} is neither an input nor produced"),
        })
        .collect();
    MemoryPlan {
        places,
        modes,
        words,
        live_words,
    }
}

/// Whether step `s` may write its output over its first input `x`: `x` is in the workspace,
/// nothing in its buffer is read after `s` (so no model output is there), and no other input
/// of `s` reads that buffer.
fn in_place_ok(
    graph: &Graph,
    buffers: &[Buffer],
    buffer_of: &[Option<usize>],
    last: &[Option<usize>],
    s: usize,
    x: usize,
) -> bool {
    let step = &graph.steps[s];
    let Some(b) = buffer_of[x] else {
        return false;
    };
    step.outputs.len() == 1
        && graph.words[step.outputs[0]] == graph.words[x]
        && buffers[b]
            .values
            .iter()
            .all(|&v| last[v].is_none_or(|l| l <= s))
        && step.inputs[1..].iter().all(|&v| buffer_of[v] != Some(b))
}

fn round_up(words: usize) -> usize {
    words.div_ceil(ALIGN_WORDS) * ALIGN_WORDS
}

/// The planner's graph of a checked model: the inputs are values `0..inputs`, then each call's
/// outputs in call order ([`value_index`]).
pub fn graph(plan: &Plan) -> Graph {
    let model = plan.model;
    let mut words = Vec::new();
    let mut external = Vec::new();
    for shape in &plan.shapes.inputs {
        words.push(shape.iter().product());
        external.push(true);
    }
    let mut steps = Vec::new();
    for (k, call) in model.calls.iter().enumerate() {
        let first = words.len();
        for o in 0..call.outputs {
            let shape = plan.shapes.of(Value::Call { call: k, output: o });
            words.push(shape.iter().product());
            external.push(false);
        }
        let access = match plan.kernels[k] {
            // Run by the convolution's step, whose output's buffer its value shares: the plan
            // sees one step writing the chain's activation.
            _ if plan.fused_into[k].is_some() => Access::View,
            Kernel::Identity => Access::View,
            _ => match plan.spec(call.layer).memory() {
                Memory::Own => Access::Own,
                Memory::View => Access::View,
                Memory::InPlace => Access::InPlace,
            },
        };
        steps.push(Step {
            inputs: call.inputs.iter().map(|&v| value_index(plan, v)).collect(),
            outputs: (first..words.len()).collect(),
            access,
        });
    }
    let outputs = model
        .outputs
        .iter()
        .map(|&v| value_index(plan, v))
        .collect();
    Graph {
        words,
        external,
        steps,
        outputs,
    }
}

/// A value's index in [`graph`].
pub fn value_index(plan: &Plan, value: Value) -> usize {
    match value {
        Value::Input(i) => i,
        Value::Call { call, output } => {
            plan.model.inputs.len()
                + plan.model.calls[..call]
                    .iter()
                    .map(|c| c.outputs)
                    .sum::<usize>()
                + output
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph from `(inputs, outputs, access)` steps over values of the given sizes, value 0
    /// being the model input.
    fn graph(words: &[usize], steps: &[(&[usize], &[usize], Access)], outputs: &[usize]) -> Graph {
        Graph {
            words: words.to_vec(),
            external: (0..words.len()).map(|v| v == 0).collect(),
            steps: steps
                .iter()
                .map(|(i, o, a)| Step {
                    inputs: i.to_vec(),
                    outputs: o.to_vec(),
                    access: *a,
                })
                .collect(),
            outputs: outputs.to_vec(),
        }
    }

    use Access::{InPlace, Own, View};

    #[test]
    fn a_chain_needs_two_buffers() {
        // x(16) → a(64) → b(32) → c(64) → d(16): at most a layer's input and output at once.
        let g = graph(
            &[16, 64, 32, 64, 16],
            &[
                (&[0], &[1], Own),
                (&[1], &[2], Own),
                (&[2], &[3], Own),
                (&[3], &[4], Own),
            ],
            &[4],
        );
        let p = plan(&g);
        // Peak: b and c together (32 + 64), or a and b (64 + 32).
        assert_eq!(p.live_words, 96);
        assert_eq!(p.words, 96);
        assert_eq!(p.places[0], Place::External(0));
        // a and c both at 0 (a is dead when c is written), b after them.
        assert_eq!(p.places[1], Place::Arena(0));
        assert_eq!(p.places[2], Place::Arena(64));
        assert_eq!(p.places[3], Place::Arena(0));
        // d (the output) lives to the end; c is read while it is written.
        assert_eq!(p.places[4], Place::Arena(64));
        assert_eq!(p.modes, [Mode::Own; 4]);
    }

    #[test]
    fn in_place_layers_and_views_take_no_memory() {
        // x → conv a(64) → bn (in place) → relu (in place) → flatten (view) → dense d(16).
        let g = graph(
            &[16, 64, 64, 64, 64, 16],
            &[
                (&[0], &[1], Own),
                (&[1], &[2], InPlace),
                (&[2], &[3], InPlace),
                (&[3], &[4], View),
                (&[4], &[5], Own),
            ],
            &[5],
        );
        let p = plan(&g);
        assert_eq!(
            p.modes,
            [
                Mode::Own,
                Mode::InPlace,
                Mode::InPlace,
                Mode::View,
                Mode::Own
            ]
        );
        assert_eq!(p.places[1..5], [Place::Arena(0); 4]);
        assert_eq!(p.places[5], Place::Arena(64));
        assert_eq!((p.live_words, p.words), (80, 80));
    }

    #[test]
    fn a_value_read_later_is_not_overwritten() {
        // x → a(32) → relu r: a is still read by the Add, so r needs its own buffer; the Add
        // writes over r (its first input, read by nobody after it).
        let g = graph(
            &[16, 32, 32, 32],
            &[
                (&[0], &[1], Own),
                (&[1], &[2], InPlace),
                (&[2, 1], &[3], InPlace),
            ],
            &[3],
        );
        let p = plan(&g);
        assert_eq!(p.modes, [Mode::Own, Mode::Own, Mode::InPlace]);
        assert_ne!(p.places[1], p.places[2]);
        assert_eq!(p.places[3], p.places[2]);
        assert_eq!((p.live_words, p.words), (64, 64));
    }

    #[test]
    fn inputs_outputs_and_shared_reads_are_never_overwritten() {
        let modes = |steps: &[(&[usize], &[usize], Access)], outputs: &[usize]| {
            let words = vec![16; 1 + steps.iter().map(|s| s.1.len()).sum::<usize>()];
            plan(&graph(&words, steps, outputs)).modes
        };
        // The model input stays the caller's.
        assert_eq!(modes(&[(&[0], &[1], InPlace)], &[1]), [Mode::Own]);
        // A model output is read at the end.
        assert_eq!(
            modes(&[(&[0], &[1], Own), (&[1], &[2], InPlace)], &[1, 2]),
            [Mode::Own, Mode::Own]
        );
        // A view of the input is read later.
        assert_eq!(
            modes(
                &[
                    (&[0], &[1], Own),
                    (&[1], &[2], View),
                    (&[1], &[3], InPlace),
                    (&[2, 3], &[4], Own)
                ],
                &[4]
            ),
            [Mode::Own, Mode::View, Mode::Own, Mode::Own]
        );
        // An Add of a value with itself reads the buffer it would write.
        assert_eq!(
            modes(&[(&[0], &[1], Own), (&[1, 1], &[2], InPlace)], &[2]),
            [Mode::Own, Mode::Own]
        );
        // A view of the model input is the input.
        let p = plan(&graph(
            &[16, 16, 16],
            &[(&[0], &[1], View), (&[1], &[2], InPlace)],
            &[2],
        ));
        assert_eq!(p.places[1], Place::External(0));
        assert_eq!(p.modes, [Mode::View, Mode::Own]);
        assert_eq!((p.live_words, p.words), (16, 16));
    }

    #[test]
    fn a_residual_keeps_the_shortcut() {
        // ResNet block: x → s(32); y1 = conv(s)(32); y2 = conv(y1)(32); add(s, y2) in place.
        // While y2 is computed, s (the shortcut), y1 and y2 are alive: 3 × 32.
        let g = graph(
            &[16, 32, 32, 32, 32],
            &[
                (&[0], &[1], Own),
                (&[1], &[2], Own),
                (&[2], &[3], Own),
                (&[1, 3], &[4], InPlace),
            ],
            &[4],
        );
        let p = plan(&g);
        assert_eq!(p.modes[3], Mode::InPlace);
        assert_eq!(p.places[4], p.places[1]);
        assert_eq!((p.live_words, p.words), (96, 96));
    }

    #[test]
    fn buffers_are_aligned_and_unread_values_still_take_memory() {
        // An RNN with return_state: its state output is never read, but is written.
        let g = graph(
            &[5, 10, 3, 7],
            &[(&[0], &[1, 2], Own), (&[1], &[3], Own)],
            &[3],
        );
        let p = plan(&g);
        // 10 + 3 at step 0, 10 + 7 at step 1.
        assert_eq!(p.live_words, 17);
        assert_eq!(p.words, 32);
        assert!(p.words.is_multiple_of(ALIGN_WORDS));
        for v in 1..4 {
            let Place::Arena(o) = p.places[v] else {
                panic!()
            };
            assert_eq!(o % ALIGN_WORDS, 0);
        }
    }
}
