#![allow(dead_code)] // each target uses a part
//! What the targets do with their bytes: every entry point of the loader.

use static_keras::keras_file::{
    keras_bytes, load_bytes, weights_h5_bytes, KerasFile, LayerKey, ModelConfig,
};
use static_keras::{keras_model, Model};
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

// A functional graph (the `two_in` fixtures): two inputs, a layer called twice, two outputs.
keras_model! {
    pub struct TwoIn {
        a = Input(shape = (5,), name = "a");
        b = Input(shape = (5,), name = "b");
        shared = Dense(units = 3, activation = "linear", use_bias = True, name = "shared");
        shared_call0 = shared(a);
        shared_call1 = shared(b);
        inner1 = Dense(units = 4, activation = "relu", use_bias = True, name = "inner1")(shared_call1);
        cat = Concatenate(axis = -1, name = "cat")([shared_call0, shared_call1]);
        inner_bn = BatchNormalization(axis = -1, momentum = 0.99, epsilon = 0.001, center = True, scale = True, renorm = False, name = "inner_bn")(inner1);
        o1 = Dense(units = 1, activation = "linear", use_bias = True, name = "o1")(cat);
        inner2 = Dense(units = 2, activation = "linear", use_bias = True, name = "inner2")(inner_bn);
        model = Model(inputs = [a, b], outputs = [o1, inner2]);
    }
}

pub fn run(data: &[u8]) {
    // The run-time loader, into models that fit the seed files.
    let _ = load_bytes::<Mlp>(data.to_vec());
    let _ = load_bytes::<TwoIn>(data.to_vec());
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
    let _ = check_architecture(&TwoIn::zeroed(), config);
}

/// Every variable's values, as bits (so NaN equals itself), in the model's visit order.
fn weights<M: Model>(model: &M) -> Vec<Vec<u32>> {
    let mut all = Vec::new();
    model.visit_layers(&mut |_, w| {
        for i in 0..w.variables().len() {
            let mut values = Vec::new();
            w.store_variable(i, &mut |v| values.push(v.to_bits()));
            all.push(values);
        }
    });
    all
}

/// A file that loads into `M` is written back by both savers, and what they write loads again
/// with the same weights, bit for bit.
fn round_trip<M: Model>(data: &[u8]) {
    let Ok(model) = load_bytes::<M>(data.to_vec()) else {
        return;
    };
    let expected = weights(&model);
    let h5 = weights_h5_bytes(&model).expect("weights_h5_bytes failed on a loaded model");
    let back = load_bytes::<M>(h5).expect("the written .weights.h5 does not load");
    assert_eq!(weights(&back), expected, ".weights.h5 round trip");
    let keras = keras_bytes(&model).expect("keras_bytes failed on a loaded model");
    let back = load_bytes::<M>(keras).expect("the written .keras does not load");
    assert_eq!(weights(&back), expected, ".keras round trip");
}

/// The round trip through the savers, for a sequential and a functional model.
pub fn save(data: &[u8]) {
    round_trip::<Mlp>(data);
    round_trip::<TwoIn>(data);
}
