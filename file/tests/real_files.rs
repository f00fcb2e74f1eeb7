//! The two real trained tf.keras 2.4 files of the MLPerf Tiny benchmark
//! (`tests/fixtures/files/real/`, see the README there): their configs parse into the graph
//! Keras 3.15.1 builds from them (its `model.layers` order and every call's inputs, written to
//! the manifests by `tools/gen_graph_files.py`), and every variable is found with Keras's name,
//! shape and values (checked by sum and first value).

use std::path::Path;

use serde_json::Value;
use static_keras_file::{Format, KerasFile, ModelConfig, Source};
use static_keras_runtime::{ConfigValue, LayerInfo, Model, Variable, Weights};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/files/real/");

fn open(name: &str) -> (KerasFile, Value) {
    let file = KerasFile::open(Path::new(DIR).join(format!("{name}.h5"))).unwrap();
    let manifest = std::fs::read(Path::new(DIR).join(format!("{name}.manifest.json"))).unwrap();
    (file, serde_json::from_slice(&manifest).unwrap())
}

fn triple(config: &ModelConfig, source: &Source) -> Value {
    match *source {
        Source::Input(i) => serde_json::json!([config.inputs[i].name, 0, 0]),
        Source::Layer {
            layer,
            call,
            output,
        } => serde_json::json!([config.layers[layer].name, call, output]),
    }
}

/// Checks order, wiring, inputs, outputs and every variable; returns the layer names.
fn check(name: &str) -> Vec<String> {
    let (file, manifest) = open(name);
    assert_eq!(file.format(), Format::LegacyH5);
    assert_eq!(file.keras_version(), Some("2.4.0"));
    let config = file.config().unwrap();
    assert_eq!(config.class, "Functional");
    let keras: Vec<Value> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l[1] != "InputLayer")
        .cloned()
        .collect();
    let ours: Vec<Value> = config
        .layers
        .iter()
        .map(|l| serde_json::json!([l.name, l.class]))
        .collect();
    assert_eq!(ours, keras, "{name}: Keras's layer order");
    for layer in &config.layers {
        let calls: Vec<Value> = layer
            .calls
            .iter()
            .map(|c| c.iter().map(|s| triple(config, s)).collect())
            .collect();
        assert_eq!(
            Value::from(calls),
            manifest["wiring"][&layer.name],
            "{name}: `{}`",
            layer.name
        );
    }
    let inputs: Vec<Value> = config
        .inputs
        .iter()
        .map(|i| {
            let shape: Vec<usize> = i.shape.clone().unwrap().into_iter().flatten().collect();
            serde_json::json!([i.name, shape, i.dtype])
        })
        .collect();
    assert_eq!(Value::from(inputs), manifest["inputs"], "{name}: inputs");
    let outputs: Vec<Value> = config.outputs.iter().map(|s| triple(config, s)).collect();
    assert_eq!(Value::from(outputs), manifest["outputs"], "{name}: outputs");

    let mut params = 0;
    for (layer, arrays) in config.layers.iter().zip(file.layer_weights().unwrap()) {
        let want = manifest["weights"][&layer.name]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            arrays.len(),
            want.len(),
            "{name}: variables of `{}`",
            layer.name
        );
        for (array, want) in arrays.iter().zip(&want) {
            // `model_weights/conv2d/conv2d/kernel:0` holds Keras's `conv2d/kernel`.
            let keras_path = want[0].as_str().unwrap();
            let file_name = array.path.rsplit('/').next().unwrap();
            assert_eq!(
                file_name.trim_end_matches(":0"),
                keras_path.rsplit('/').next().unwrap(),
                "{name}: {}",
                array.path
            );
            assert!(
                array.path.ends_with(&format!("{keras_path}:0")),
                "{}",
                array.path
            );
            let shape: Vec<usize> = serde_json::from_value(want[1].clone()).unwrap();
            assert_eq!(array.shape, shape, "{}", array.path);
            let sum: f64 = array.values.iter().map(|&v| f64::from(v)).sum();
            let keras_sum = want[2].as_f64().unwrap();
            assert!(
                (sum - keras_sum).abs() <= 1e-9 * keras_sum.abs().max(1.0),
                "{}: sum {sum} vs Keras {keras_sum}",
                array.path
            );
            assert_eq!(
                array.values[0].to_bits(),
                (want[3].as_f64().unwrap() as f32).to_bits(),
                "{}",
                array.path
            );
            params += array.values.len();
        }
    }
    assert_eq!(
        params as u64,
        manifest["params"].as_u64().unwrap(),
        "{name}: every parameter"
    );
    config.layers.iter().map(|l| l.name.clone()).collect()
}

/// ResNet-8 (`resnet_v1_eembc`, 16 filters): three residual Adds; in the two projection stacks
/// the shortcut conv is listed after the residual branch's second conv and before its
/// BatchNormalization, exactly as Keras lists them.
#[test]
fn resnet8_graph_and_weights() {
    let names = check("pretrainedResnet");
    let (file, _) = open("pretrainedResnet");
    let config = file.config().unwrap();
    assert_eq!(config.layers.len(), 29);
    let adds: Vec<&str> = config
        .layers
        .iter()
        .filter(|l| l.class == "Add")
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(adds, ["add", "add_1", "add_2"]);
    let at = |n: &str| names.iter().position(|m| m == n).unwrap();
    for (residual, shortcut, bn) in [
        ("conv2d_4", "conv2d_5", "batch_normalization_4"),
        ("conv2d_7", "conv2d_8", "batch_normalization_6"),
    ] {
        assert_eq!(at(shortcut), at(residual) + 1);
        assert_eq!(at(bn), at(shortcut) + 1);
    }
    // `add_1` reads the shortcut first, then the residual branch.
    let add_1 = &config.layers[at("add_1")];
    assert_eq!(
        add_1.calls,
        [vec![
            Source::Layer {
                layer: at("conv2d_5"),
                call: 0,
                output: 0
            },
            Source::Layer {
                layer: at("batch_normalization_4"),
                call: 0,
                output: 0
            }
        ]]
    );
    // tf.keras 2 writes BatchNormalization's axis as a list.
    assert_eq!(config.layers[1].config["axis"], serde_json::json!([3]));
}

#[test]
fn anomaly_detection_autoencoder_graph_and_weights() {
    let names = check("ad01");
    assert_eq!(names.len(), 28);
    assert_eq!(names.last().map(String::as_str), Some("dense_9"));
}

/// A declaration of the ResNet-8 graph as a user would write it — every BatchNormalization with
/// Keras 3's default `axis = -1` where the tf.keras 2 file says `[3]`, `center`/`scale` true —
/// built from Keras's own description of the model (the manifest), loads the real file; its
/// weights are Keras's.
#[test]
fn resnet8_loads_into_a_declared_graph() {
    let (file, manifest) = open("pretrainedResnet");
    let keras: Vec<(String, String)> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l[0].as_str().unwrap().into(), l[1].as_str().unwrap().into()))
        .filter(|(_, class)| class != "InputLayer")
        .collect();
    let index = |name: &str| keras.iter().position(|(n, _)| n == name);
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let mut layers = Vec::new();
    for (name, class) in &keras {
        let calls: Vec<&'static [Source]> = manifest["wiring"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|call| {
                let sources: Vec<Source> = call
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| match index(t[0].as_str().unwrap()) {
                        Some(layer) => Source::Layer {
                            layer,
                            call: t[1].as_u64().unwrap() as usize,
                            output: t[2].as_u64().unwrap() as usize,
                        },
                        None => Source::Input(0),
                    })
                    .collect();
                &*Box::leak(sources.into_boxed_slice())
            })
            .collect();
        let config: &'static [(&'static str, ConfigValue)] = match class.as_str() {
            "BatchNormalization" => &[
                ("axis", ConfigValue::Int(-1)),
                ("epsilon", ConfigValue::Float(1e-3)),
                ("center", ConfigValue::Bool(true)),
                ("scale", ConfigValue::Bool(true)),
            ],
            "Dense" => &[("units", ConfigValue::Int(10))],
            _ => &[],
        };
        let vars: Vec<Variable> = manifest["weights"][name]
            .as_array()
            .map(|w| {
                w.iter()
                    .map(|v| Variable {
                        name: leak(v[0].as_str().unwrap().rsplit('/').next().unwrap()),
                        shape: Box::leak(
                            serde_json::from_value::<Vec<usize>>(v[1].clone())
                                .unwrap()
                                .into_boxed_slice(),
                        ),
                    })
                    .collect()
            })
            .unwrap_or_default();
        layers.push(Held {
            info: LayerInfo {
                name: leak(name),
                class: leak(class),
                config,
                calls: Box::leak(calls.into_boxed_slice()),
            },
            vars: Box::leak(vars.into_boxed_slice()),
            values: Vec::new(),
        });
    }
    let mut net = Declared(layers);
    file.load_into(&mut net).unwrap();
    let loaded: Vec<f32> = net
        .0
        .iter()
        .flat_map(|l| l.values.iter().flatten().copied())
        .collect();
    let from_file: Vec<f32> = file
        .layer_weights()
        .unwrap()
        .into_iter()
        .flatten()
        .flat_map(|a| a.values)
        .collect();
    assert_eq!(loaded.len(), 78_666);
    assert!(loaded
        .iter()
        .zip(&from_file)
        .all(|(a, b)| a.to_bits() == b.to_bits()));

    // The axis is still checked: 1 is not the channel axis of these rank-4 tensors.
    let bn = net
        .0
        .iter()
        .position(|l| l.info.class == "BatchNormalization")
        .unwrap();
    net.0[bn].info.config = &[("axis", ConfigValue::Int(1))];
    let e = file.load_into(&mut net).unwrap_err().to_string();
    assert_eq!(e, "the file's model differs from the declared one: layer 1 `batch_normalization` (BatchNormalization): `axis` is [3] in the file but 1 in the declaration");
}

/// A test double of a generated model, built at run time: the loader sees `visit_layers` only.
struct Declared(Vec<Held>);

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
        self.values.resize(self.vars.len(), Vec::new());
        self.values[index] = values.collect();
    }
    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        self.values[index].iter().for_each(|&v| out(v));
    }
}

impl Model for Declared {
    type Input = ();
    type InputElem = f32;
    type Output = ();
    const INPUT_SHAPE: &'static [usize] = &[32, 32, 3];
    const OUTPUT_SHAPE: &'static [usize] = &[10];
    const PARAMS: usize = 78_666;
    const OUTPUT_LEN: usize = 10;
    fn input_from_slice(_: &[f32]) -> Result<(), static_keras_runtime::Error> {
        Ok(())
    }
    fn output_to_slice(_: &(), _: &mut [f32]) {}
    fn predict(&self, _: &()) {}
    fn zeroed() -> Self {
        Declared(Vec::new())
    }
    fn visit_layers_mut(
        &mut self,
        f: &mut dyn FnMut(LayerInfo, &mut dyn Weights) -> Result<(), static_keras_runtime::Error>,
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
