//! What both targets do with their bytes: every entry point of the loader.

use static_keras::keras_file::{load_bytes, KerasFile, LayerKey};
use static_keras::keras_model;

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
