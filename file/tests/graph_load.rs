//! `load_into` on graph models: the declaration (layers in Keras's order, each call's inputs)
//! is paired with the saved graph layer by layer; classes, wiring, inputs and outputs are
//! checked, then each variable is read from where the file's architecture puts it (nested models
//! included) and must equal what Keras stored.
//!
//! The models here are test doubles of what `keras_model!` generates for a graph: the loader only
//! sees `Model::visit_layers` (each layer's `LayerInfo` and variables) and the input and output
//! shapes, so that is all they provide; their layers store the values they are given.

use std::path::Path;

use static_keras_file::{load, Error};
use static_keras_runtime::{ConfigValue, LayerInfo, Model, Source, Variable, Weights};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/files/graph/"
);

/// A declared layer: what the generated code would describe, and storage for its variables.
#[derive(Clone)]
struct Held {
    info: LayerInfo,
    vars: &'static [Variable],
    values: Vec<Vec<f32>>,
}

impl Weights for Held {
    fn variables(&self) -> &'static [Variable] {
        self.vars
    }
    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        self.values[index] = values.collect();
    }
    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        self.values[index].iter().for_each(|&v| out(v));
    }
}

/// Declares a test model type: its input shapes, number of outputs and layers.
macro_rules! declared {
    ($ty:ident, inputs: $inputs:expr, outputs: $outputs:expr, layers: $layers:expr) => {
        struct $ty(Vec<Held>);

        impl $ty {
            const LAYERS: &'static [(LayerInfo, &'static [Variable])] = $layers;
        }

        impl Default for $ty {
            fn default() -> Self {
                $ty(Self::LAYERS
                    .iter()
                    .map(|&(info, vars)| Held {
                        info,
                        vars,
                        values: vars.iter().map(|v| vec![0.0; v.len()]).collect(),
                    })
                    .collect())
            }
        }

        impl Model for $ty {
            type Input = ();
            type InputElem = f32;
            type Output = ();
            const INPUT_SHAPE: &'static [usize] = $inputs[0];
            const INPUT_SHAPES: &'static [&'static [usize]] = $inputs;
            const OUTPUT_SHAPE: &'static [usize] = &[1];
            const OUTPUT_SHAPES: &'static [&'static [usize]] = &[&[1usize] as &[usize]; $outputs];
            const PARAMS: usize = 0;
            const OUTPUT_LEN: usize = 0;
            fn input_from_slice(_: &[f32]) -> Result<(), static_keras_runtime::Error> {
                Ok(())
            }
            fn output_to_slice(_: &(), _: &mut [f32]) {}
            fn predict(&self, _: &()) {}
            fn zeroed() -> Self {
                Self::default()
            }
            fn visit_layers_mut(
                &mut self,
                f: &mut dyn FnMut(
                    LayerInfo,
                    &mut dyn Weights,
                ) -> Result<(), static_keras_runtime::Error>,
            ) -> Result<(), static_keras_runtime::Error> {
                for layer in &mut self.0 {
                    f(layer.info, layer)?;
                }
                Ok(())
            }
            fn visit_layers(&self, f: &mut dyn FnMut(LayerInfo, &dyn Weights)) {
                for layer in &self.0 {
                    f(layer.info, layer);
                }
            }
        }
    };
}

const fn info(
    name: &'static str,
    class: &'static str,
    calls: &'static [&'static [Source]],
) -> LayerInfo {
    LayerInfo {
        name,
        class,
        config: &[],
        calls,
    }
}

const fn at(layer: usize) -> Source {
    Source::Layer {
        layer,
        call: 0,
        output: 0,
    }
}

const fn var(name: &'static str, shape: &'static [usize]) -> Variable {
    Variable { name, shape }
}

const IN: Source = Source::Input(0);
const KERNEL_BIAS_3344: &[Variable] = &[var("kernel", &[3, 3, 4, 4]), var("bias", &[4])];

// The residual block: `short` (created first) comes after `c1`; `add` reads `short` then `c2`.
declared!(ResBlock, inputs: &[&[6usize, 6, 3] as &[usize]], outputs: 1, layers: &[
    (info("c1", "Conv2D", &[&[IN]]), &[var("kernel", &[3, 3, 3, 4]), var("bias", &[4])]),
    (info("short", "Conv2D", &[&[IN]]), &[var("kernel", &[1, 1, 3, 4]), var("bias", &[4])]),
    (info("c2", "Conv2D", &[&[at(0)]]), KERNEL_BIAS_3344),
    (info("add", "Add", &[&[at(1), at(2)]]), &[]),
    (info("act", "Activation", &[&[at(3)]]), &[]),
]);

// The same with the Add's inputs the other way round.
declared!(ResBlockSwapped, inputs: &[&[6usize, 6, 3] as &[usize]], outputs: 1, layers: &[
    (info("c1", "Conv2D", &[&[IN]]), &[var("kernel", &[3, 3, 3, 4]), var("bias", &[4])]),
    (info("short", "Conv2D", &[&[IN]]), &[var("kernel", &[1, 1, 3, 4]), var("bias", &[4])]),
    (info("c2", "Conv2D", &[&[at(0)]]), KERNEL_BIAS_3344),
    (info("add", "Add", &[&[at(2), at(1)]]), &[]),
    (info("act", "Activation", &[&[at(3)]]), &[]),
]);

const DENSE_5_3: &[Variable] = &[var("kernel", &[5, 3]), var("bias", &[3])];
const BN_4: &[Variable] = &[
    var("gamma", &[4]),
    var("beta", &[4]),
    var("moving_mean", &[4]),
    var("moving_variance", &[4]),
];
const SHARED_ON_A_AND_B: &[&[Source]] = &[&[Source::Input(0)], &[Source::Input(1)]];
const SHARED_ON_B: Source = Source::Layer {
    layer: 0,
    call: 1,
    output: 0,
};

// Two inputs, a shared Dense, the nested Sequential's layers inline, two outputs.
declared!(TwoIn, inputs: &[&[5usize] as &[usize], &[5]], outputs: 2, layers: &[
    (info("shared", "Dense", SHARED_ON_A_AND_B), DENSE_5_3),
    (info("inner1", "Dense", &[&[SHARED_ON_B]]), &[var("kernel", &[3, 4]), var("bias", &[4])]),
    (info("cat", "Concatenate", &[&[at(0), SHARED_ON_B]]), &[]),
    (info("inner_bn", "BatchNormalization", &[&[at(1)]]), BN_4),
    (info("o1", "Dense", &[&[at(2)]]), &[var("kernel", &[6, 1]), var("bias", &[1])]),
    (info("inner2", "Dense", &[&[at(3)]]), &[var("kernel", &[4, 2]), var("bias", &[2])]),
]);

// The same, declared with one input.
declared!(TwoInOneInput, inputs: &[&[5usize] as &[usize]], outputs: 2, layers: &[
    (info("shared", "Dense", &[&[IN]]), DENSE_5_3),
]);

// The same, with the shared layer called once.
declared!(TwoInNotShared, inputs: &[&[5usize] as &[usize], &[5]], outputs: 2, layers: &[
    (info("shared", "Dense", &[&[Source::Input(0)]]), DENSE_5_3),
]);

// The same, with one output.
declared!(TwoInOneOutput, inputs: &[&[5usize] as &[usize], &[5]], outputs: 1, layers: &[
    (info("shared", "Dense", SHARED_ON_A_AND_B), DENSE_5_3),
    (info("inner1", "Dense", &[&[SHARED_ON_B]]), &[var("kernel", &[3, 4]), var("bias", &[4])]),
    (info("cat", "Concatenate", &[&[at(0), SHARED_ON_B]]), &[]),
    (info("inner_bn", "BatchNormalization", &[&[at(1)]]), BN_4),
    (info("o1", "Dense", &[&[at(2)]]), &[var("kernel", &[6, 1]), var("bias", &[1])]),
    (info("inner2", "Dense", &[&[at(3)]]), &[var("kernel", &[4, 2]), var("bias", &[2])]),
]);

const fn second(layer: usize) -> Source {
    Source::Layer {
        layer,
        call: 1,
        output: 0,
    }
}

// The nested Functional called twice: each of its layers twice.
declared!(NestedTwice, inputs: &[&[4usize] as &[usize]], outputs: 2, layers: &[
    (info("pre", "Dense", &[&[IN], &[at(3)]]), &[var("kernel", &[4, 4]), var("bias", &[4])]),
    (info("sd", "Dense", &[&[at(0)], &[second(0)]]), &[var("kernel", &[4, 3]), var("bias", &[3])]),
    (info("sbn", "BatchNormalization", &[&[at(1)], &[second(1)]]), &[
        var("gamma", &[3]), var("beta", &[3]), var("moving_mean", &[3]), var("moving_variance", &[3]),
    ]),
    (info("post", "Dense", &[&[at(2)], &[second(2)]]), &[var("kernel", &[3, 4]), var("bias", &[4])]),
    (info("sum", "Add", &[&[at(3), second(3)]]), &[]),
]);

const fn state(output: usize) -> Source {
    Source::Layer {
        layer: 0,
        call: 0,
        output,
    }
}

const LSTM_VARS: &[Variable] = &[
    var("kernel", &[3, 16]),
    var("recurrent_kernel", &[4, 16]),
    var("bias", &[16]),
];

// LSTM(return_state): the Concatenate reads its h (output 1) and c (output 2).
declared!(LstmState, inputs: &[&[5usize, 3] as &[usize]], outputs: 2, layers: &[
    (info("lstm", "LSTM", &[&[IN]]), LSTM_VARS),
    (info("hc", "Concatenate", &[&[state(1), state(2)]]), &[]),
    (info("head", "Dense", &[&[at(1)]]), &[var("kernel", &[8, 2]), var("bias", &[2])]),
]);

declared!(LstmStateSwapped, inputs: &[&[5usize, 3] as &[usize]], outputs: 2, layers: &[
    (info("lstm", "LSTM", &[&[IN]]), LSTM_VARS),
    (info("hc", "Concatenate", &[&[state(2), state(1)]]), &[]),
    (info("head", "Dense", &[&[at(1)]]), &[var("kernel", &[8, 2]), var("bias", &[2])]),
]);

/// Every variable of `net`, layer after layer, as the loader left them.
fn values<M: Model>(net: &M) -> Vec<f32> {
    let mut out = Vec::new();
    net.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

fn expected(model: &str) -> Vec<f32> {
    std::fs::read(Path::new(DIR).join(format!("{model}.w.bin")))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Every file of `model` whose name starts with it loads into `M`, with Keras's values.
fn loads_everywhere<M: Model>(model: &str, nested: bool) {
    let want = expected(model);
    let mut count = 0;
    for entry in std::fs::read_dir(DIR).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let is_model_file = name.starts_with(&format!("{model}."))
            && (name.ends_with(".h5") || name.ends_with(".keras"));
        // Weights-only files of nested models cannot be matched to a flat declaration.
        let weights_only = name.ends_with(".weights.h5") || name.ends_with("tf2w.h5");
        if !is_model_file || (nested && weights_only) {
            continue;
        }
        let net: M = load(Path::new(DIR).join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = values(&net);
        assert!(
            got.len() == want.len()
                && got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: the loaded weights differ from Keras's"
        );
        count += 1;
    }
    assert_eq!(count, if nested { 6 } else { 9 }, "{model}: files loaded");
}

fn message<T>(result: Result<T, Error>) -> String {
    match result {
        Ok(_) => panic!("the load must fail"),
        Err(e) => e.to_string(),
    }
}

fn file(name: &str) -> std::path::PathBuf {
    Path::new(DIR).join(name)
}

#[test]
fn a_residual_block_loads_from_every_file() {
    loads_everywhere::<ResBlock>("resblock", false);
    assert_eq!(
        message(load::<ResBlockSwapped>(file("resblock.k3151.keras"))),
        "the file's model differs from the declared one: layer 3 `add` (Add) reads `short` and `c2` in the file but `c2` and `short` in the declaration"
    );
    assert_eq!(
        message(load::<ResBlockSwapped>(file("resblock.tf2.h5"))),
        "the file's model differs from the declared one: layer 3 `add` (Add) reads `short` and `c2` in the file but `c2` and `short` in the declaration"
    );
    // A weights-only file has no wiring to check: layers are matched by class and count.
    let net: ResBlockSwapped = load(file("resblock.k3151.weights.h5")).unwrap();
    assert_eq!(values(&net), expected("resblock"));
}

#[test]
fn shared_layers_several_inputs_and_a_nested_sequential() {
    loads_everywhere::<TwoIn>("two_in", true);
    assert_eq!(
        message(load::<TwoInOneInput>(file("two_in.k3151.keras"))),
        "the file's model differs from the declared one: the model has 2 input(s) in the file (`a` and `b`) but 1 in the declaration"
    );
    assert_eq!(
        message(load::<TwoInNotShared>(file("two_in.tf2.keras"))),
        "the file's model differs from the declared one: layer 0 `shared` (Dense) is called 2 time(s) in the file but 1 in the declaration"
    );
    assert_eq!(
        message(load::<TwoInOneOutput>(file("two_in.k333.h5"))),
        "the file's model differs from the declared one: the model has 2 output(s) in the file but 1 in the declaration"
    );
}

#[test]
fn a_nested_functional_called_twice() {
    loads_everywhere::<NestedTwice>("nested_fn", true);
}

#[test]
fn the_states_of_a_recurrent_layer() {
    loads_everywhere::<LstmState>("lstm_state", false);
    assert_eq!(
        message(load::<LstmStateSwapped>(file("lstm_state.tf2.h5"))),
        "the file's model differs from the declared one: layer 1 `hc` (Concatenate) reads `lstm` output 1 and `lstm` output 2 in the file but `lstm` output 2 and `lstm` output 1 in the declaration"
    );
}

#[test]
fn a_config_entry_is_still_checked() {
    declared!(WrongFilters, inputs: &[&[6usize, 6, 3] as &[usize]], outputs: 1, layers: &[
        (LayerInfo { name: "c1", class: "Conv2D", config: &[("filters", ConfigValue::Int(5))], calls: &[&[IN]] },
         &[var("kernel", &[3, 3, 3, 5]), var("bias", &[5])]),
    ]);
    assert_eq!(
        message(load::<WrongFilters>(file("resblock.k333.keras"))),
        "the file's model differs from the declared one: layer 0 `c1` (Conv2D): `filters` is 4 in the file but 5 in the declaration"
    );
}
