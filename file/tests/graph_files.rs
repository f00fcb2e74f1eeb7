//! Functional models saved by real Keras (3.15.1, 3.3.3, tf.keras 2.21; `tools/gen_graph_files.py`)
//! parse into the graph Keras describes: the layers in Keras's order, inputs, outputs, the wiring
//! of every call, and every variable found where Keras put it, with Keras's values. What is
//! expected comes from each manifest, written by Keras (for nested models: from the same graph
//! built without nesting).

use std::path::{Path, PathBuf};

use serde_json::Value;
use static_keras_file::{Array, KerasFile, LayerKey, ModelConfig, Source};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/files/graph/"
);
const MODELS: &[&str] = &["resblock", "two_in", "nested_fn", "lstm_state"];

fn path(name: &str) -> PathBuf {
    Path::new(DIR).join(name)
}

fn manifest(model: &str) -> Value {
    let text = std::fs::read(path(&format!("{model}.manifest.json"))).unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn floats(name: &str) -> Vec<f32> {
    std::fs::read(path(name))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// `[layer, call, tensor]` as the manifests write a tensor (an input is its InputLayer's node 0).
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

/// The leaf layers of the flat twin, in Keras's order: (name, class).
fn flat_order(manifest: &Value) -> Vec<(String, String)> {
    manifest["flat_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
        .filter(|(_, class)| class != "InputLayer")
        .collect()
}

/// Checks `arrays` (per layer in flat order) against the manifest's paths, shapes and values.
fn check_arrays(model: &str, file: &str, manifest: &Value, arrays: &[Vec<Array>]) {
    let order = flat_order(manifest);
    let expected = floats(&format!("{model}.w.bin"));
    let mut at = 0;
    assert_eq!(arrays.len(), order.len(), "{file}");
    for ((name, _), arrays) in order.iter().zip(arrays) {
        let paths = &manifest["files"][file]["paths"][name];
        let want: Vec<&str> = paths
            .as_array()
            .map(|p| p.iter().map(|p| p.as_str().unwrap()).collect())
            .unwrap_or_default();
        let got: Vec<&str> = arrays
            .iter()
            .map(|a| a.path.trim_start_matches('/'))
            .collect();
        assert_eq!(got, want, "{file}: paths of `{name}`");
        let shapes: Vec<Vec<usize>> = manifest["weights"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| serde_json::from_value(w[1].clone()).unwrap())
            .collect();
        let got: Vec<Vec<usize>> = arrays.iter().map(|a| a.shape.clone()).collect();
        assert_eq!(got, shapes, "{file}: shapes of `{name}`");
        for array in arrays {
            let n = array.values.len();
            assert!(
                array
                    .values
                    .iter()
                    .zip(&expected[at..at + n])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{file}: values of {}",
                array.path
            );
            at += n;
        }
    }
    assert_eq!(at, expected.len(), "{file}: every value read");
}

fn check_graph(file: &str, manifest: &Value, config: &ModelConfig) {
    let order = flat_order(manifest);
    let got: Vec<(String, String)> = config
        .layers
        .iter()
        .map(|l| (l.name.clone(), l.class.clone()))
        .collect();
    assert_eq!(got, order, "{file}: layers in Keras's order");
    let inputs: Vec<Value> = config
        .inputs
        .iter()
        .map(|i| {
            let shape: Vec<usize> = i.shape.clone().unwrap().into_iter().flatten().collect();
            serde_json::json!([i.name, shape, i.dtype])
        })
        .collect();
    assert_eq!(Value::from(inputs), manifest["inputs"], "{file}: inputs");
    let outputs: Vec<Value> = config.outputs.iter().map(|s| triple(config, s)).collect();
    assert_eq!(Value::from(outputs), manifest["outputs"], "{file}: outputs");
    for layer in &config.layers {
        let calls: Vec<Value> = layer
            .calls
            .iter()
            .map(|c| c.iter().map(|s| triple(config, s)).collect())
            .collect();
        assert_eq!(
            Value::from(calls),
            manifest["wiring"][&layer.name],
            "{file}: wiring of `{}`",
            layer.name
        );
    }
    assert_eq!(
        config.input_shape, config.inputs[0].shape,
        "{file}: the single-input view"
    );
}

#[test]
fn every_saved_graph_parses_as_keras_describes_it() {
    let mut seen = Vec::new();
    for model in MODELS {
        let manifest = manifest(model);
        for (file, entry) in manifest["files"].as_object().unwrap() {
            let keras = KerasFile::open(path(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            match keras.config() {
                Some(config) => {
                    check_graph(file, &manifest, config);
                    check_arrays(model, file, &manifest, &keras.layer_weights().unwrap());
                }
                None => {
                    // Weights only: every dataset is listed (a legacy file's root-level
                    // datasets with their absolute path, `/c1/c1/kernel:0`).
                    let mut listed: Vec<String> = keras
                        .weight_shapes()
                        .unwrap()
                        .into_iter()
                        .map(|(p, _)| p.trim_start_matches('/').to_string())
                        .collect();
                    let mut want: Vec<String> = entry["paths"]
                        .as_object()
                        .unwrap()
                        .values()
                        .flat_map(|p| p.as_array().unwrap().iter())
                        .map(|p| p.as_str().unwrap().to_string())
                        .collect();
                    listed.sort();
                    want.sort();
                    assert_eq!(listed, want, "{file}: listed weights");
                }
            }
            seen.push(format!("{file} ({})", entry["writer"].as_str().unwrap()));
        }
    }
    eprintln!(
        "graph files parsed ({}):\n  {}",
        seen.len(),
        seen.join("\n  ")
    );
    assert_eq!(
        seen.len(),
        36,
        "a fixture was added or removed: update this count"
    );
}

/// Without nested models, Keras's own `model.layers` (as every writer lists it) is the order.
#[test]
fn keras_lists_unnested_models_in_the_flat_order() {
    for model in ["resblock", "lstm_state"] {
        let manifest = manifest(model);
        let flat = &manifest["flat_order"];
        for (writer, layers) in manifest["layers"].as_object().unwrap() {
            assert_eq!(layers, flat, "{model} by {writer}");
        }
    }
    // The residual block's shortcut, created first, is listed after the residual conv `c1`
    // and stored as the second Conv2D.
    let manifest = manifest("resblock");
    let names: Vec<String> = flat_order(&manifest).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["c1", "short", "c2", "add", "act"]);
    let file = KerasFile::open(path("resblock.k3151.keras")).unwrap();
    let short = &file.config().unwrap().layers[1];
    assert_eq!(short.weights.keras3, ["conv2d_1"]);
    assert_eq!(short.weights.keras3_group("layers"), "layers/conv2d_1");
}

/// Weights-only files of models without nesting are read by class counters (Keras 3) or by
/// order (legacy), in the declared Keras order.
#[test]
fn weights_only_files_by_class_and_order() {
    for model in ["resblock", "lstm_state"] {
        let manifest = manifest(model);
        let weights = &manifest["weights"];
        let keys: Vec<(String, bool)> = flat_order(&manifest)
            .into_iter()
            .map(|(name, class)| (class, !weights[&name].as_array().unwrap().is_empty()))
            .collect();
        let keys: Vec<LayerKey> = keys
            .iter()
            .map(|(class, weighted)| LayerKey {
                class,
                weighted: *weighted,
            })
            .collect();
        for (file, entry) in manifest["files"].as_object().unwrap() {
            let format = entry["format"].as_str().unwrap();
            if format != "weights.h5" && format != "legacy weights" {
                continue;
            }
            let keras = KerasFile::open(path(file)).unwrap();
            check_arrays(model, file, &manifest, &keras.read_weights(&keys).unwrap());
        }
    }
    // A nested model's weights-only file cannot be matched to a flat list of classes: the
    // nested groups are reported, not skipped.
    let keras = KerasFile::open(path("two_in.k3151.weights.h5")).unwrap();
    let dense = LayerKey {
        class: "Dense",
        weighted: true,
    };
    let plain = |class| LayerKey {
        class,
        weighted: false,
    };
    let e = keras
        .read_weights(&[
            dense,
            plain("Concatenate"),
            dense,
            dense,
            LayerKey {
                class: "BatchNormalization",
                weighted: true,
            },
            dense,
        ])
        .unwrap_err()
        .to_string();
    assert!(e.contains("layers/sequential"), "{e}");
}

/// With an architecture, the compile-time import's `read_weights` reads where the file says,
/// nested models included, and refuses a list of layers that is not the file's.
#[test]
fn read_weights_follows_the_saved_architecture() {
    let manifest = manifest("nested_fn");
    let order = flat_order(&manifest);
    let keys: Vec<LayerKey> = order
        .iter()
        .map(|(_, class)| LayerKey {
            class,
            weighted: true,
        })
        .collect();
    for file in [
        "nested_fn.k3151.keras",
        "nested_fn.tf2.h5",
        "nested_fn.k333.h5",
    ] {
        let keras = KerasFile::open(path(file)).unwrap();
        check_arrays(
            "nested_fn",
            file,
            &manifest,
            &keras.read_weights(&keys).unwrap(),
        );
        let e = keras.read_weights(&keys[1..]).unwrap_err().to_string();
        assert!(e.contains("the file's layers are [Dense, Dense, BatchNormalization, Dense, Add], not [Dense, BatchNormalization, Dense, Add]"), "{e}");
    }
}

#[test]
fn raw_operations_are_refused_by_name() {
    for (file, what) in [
        (
            "errors/raw_op.k3151.keras",
            "`add` (Add from keras.src.ops.numpy) is a raw operation on tensors",
        ),
        (
            "errors/raw_op.k3151.h5",
            "`add` (Add) is a raw operation on tensors",
        ),
        (
            "errors/tf_op.tf2.h5",
            "`tf.__operators__.add` (TFOpLambda) wraps a raw TensorFlow operation",
        ),
    ] {
        let e = KerasFile::open(path(file)).unwrap_err().to_string();
        assert!(
            e.starts_with("unsupported: ") && e.contains(what),
            "{file}: {e}"
        );
    }
}

/// A bounded, deterministic version of the fuzz targets on the graph fixtures: truncated files
/// are errors, bit flips and edited configs give results or errors, never a panic.
#[test]
fn damaged_graph_files_give_errors_not_panics() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n.max(1)
    };
    let mut runs = 0;
    for file in [
        "two_in.tf2.h5",
        "nested_fn.k3151.keras",
        "nested_fn.k333.h5",
    ] {
        let bytes = std::fs::read(path(file)).unwrap();
        let n = bytes.len();
        for cut in (0..n).step_by(n / 300) {
            runs += 1;
            let got = KerasFile::from_bytes(bytes[..cut].to_vec()).and_then(|f| f.layer_weights());
            assert!(got.is_err(), "{file} truncated to {cut} of {n} bytes read");
        }
        for _ in 0..600 {
            let mut damaged = bytes.clone();
            damaged[next(n)] ^= 1 << next(8);
            runs += 1;
            let _ = KerasFile::from_bytes(damaged).and_then(|f| f.layer_weights());
        }
    }
    // Configs edited where the graph lives: node and tensor indices, names, brackets.
    for file in ["nested_fn.tf2.h5", "two_in.k3151.h5", "lstm_state.k333.h5"] {
        let text = model_config(file);
        ModelConfig::parse(&text, file).unwrap();
        let bytes = text.as_bytes();
        for _ in 0..1500 {
            let mut edited = bytes.to_vec();
            let at = next(edited.len());
            match next(4) {
                0 => edited[at] = b"0123456789"[next(10)],
                1 => edited[at] = b"[]{},\""[next(6)],
                2 => {
                    edited.remove(at);
                }
                _ => {
                    let from = next(edited.len());
                    let piece: Vec<u8> = edited[from..(from + 12).min(edited.len())].to_vec();
                    edited.splice(at..at, piece);
                }
            }
            runs += 1;
            if let Ok(text) = String::from_utf8(edited) {
                let _ = ModelConfig::parse(&text, "edited");
            }
        }
    }
    eprintln!("{runs} damaged graph files and configs, no panic");
}

/// The `model_config` attribute of a legacy file: stored uncompressed, it is the JSON object
/// in the file's bytes that starts with the model's class.
fn model_config(file: &str) -> String {
    let bytes = std::fs::read(path(file)).unwrap();
    let start = find(&bytes, b"{\"class_name\": \"Functional\"").expect("model_config");
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for (i, &b) in bytes[start..].iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'{' if !in_string => depth += 1,
            b'}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return String::from_utf8(bytes[start..=start + i].to_vec()).unwrap();
                }
            }
            _ => {}
        }
    }
    panic!("{file}: no complete model_config")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
