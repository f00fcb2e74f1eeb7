#![allow(dead_code)] // each target uses a part
//! What the targets do with their bytes: every entry point of the loader.

use static_keras::keras_file::{load_bytes, KerasFile, LayerKey, ModelConfig};
use static_keras::keras_model;
use static_keras_file::{check_architecture, Source};

keras_model! {
    pub struct Mlp {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

pub fn run(data: &[u8]) {
    // The run-time loader, into a model that fits the seed files.
    let _ = load_bytes::<Mlp>(data.to_vec());
    // What the compile-time import and `static-keras inspect` call.
    if let Ok(file) = KerasFile::from_bytes(data.to_vec()) {
        let _ = file.weight_shapes();
        let _ = file.layer_weights();
        if let Some(config) = file.config() {
            graph(config);
        }
        let dense = LayerKey {
            class: "Dense",
            weighted: true,
        };
        let plain = LayerKey {
            class: "Dropout",
            weighted: false,
        };
        let _ = file.read_weights(&[dense, plain, dense]);
        let _ = file.read_weights(&[LayerKey {
            class: "LSTM",
            weighted: true,
        }]);
    }
}

/// A saved architecture as text (`config.json`, a legacy `model_config`): parsed, its graph's
/// invariants asserted, checked against a declared model.
pub fn config(text: &str) {
    if let Ok(config) = ModelConfig::parse(text, "fuzz") {
        graph(&config);
    }
}

fn graph(config: &ModelConfig) {
    // Every tensor reference points at an input or at an existing call of an existing layer.
    let valid = |s: &Source| match *s {
        Source::Input(i) => i < config.inputs.len(),
        Source::Layer { layer, call, .. } => config
            .layers
            .get(layer)
            .is_some_and(|l| call < l.calls.len()),
    };
    for layer in &config.layers {
        assert!(layer.calls.iter().flatten().all(valid), "{layer:?}");
        let _ = layer.weights.keras3_group("layers");
    }
    assert!(config.outputs.iter().all(valid), "{:?}", config.outputs);
    assert_eq!(
        config.input_shape,
        config.inputs.first().and_then(|i| i.shape.clone())
    );
    let _ = config.require_chain();
    let _ = check_architecture(&Mlp::zeroed(), config);
}
