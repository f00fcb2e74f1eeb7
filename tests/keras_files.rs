//! Loading what real Keras saved: every file of `tests/fixtures/files/` (written by
//! `tools/gen_files.py` with Keras 3.15.1, Keras 3.3.3 and tf.keras 2.21, plus a synthetic
//! Keras-2.0-era legacy file) is loaded into the matching declared model; the loaded weights must
//! equal Keras's `model.weights` bit for bit and `predict` must match Keras's within 1e-5.
#![cfg(feature = "keras-file")]
#[macro_use]
#[allow(unused_macros)]
mod parity;

use std::path::Path;

use static_keras::{keras_model, Model};

keras_model! {
    struct Mlp {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct Shapes {
        input_shape: (2, 3, 4),
        layers: [
            Flatten(),
            Dense(12, activation = "selu"),
            Reshape((3, 4)),
            Dense(5, activation = "gelu"),
            Reshape((-1,)),
            Dense(3),
        ],
    }
}

keras_model! {
    struct Deep12 {
        input_shape: (5,),
        layers: [
            Dense(3, activation = "relu"),
            Dense(3, activation = "tanh"),
            Dense(3, activation = "sigmoid"),
            Dense(3, activation = "elu"),
            Dense(3, activation = "selu"),
            Dense(3, activation = "softplus"),
            Dense(3, activation = "softsign"),
            Dense(3, activation = "swish"),
            Dense(3, activation = "gelu"),
            Dense(3, activation = "linear"),
            Dense(3, activation = "exponential"),
            Dense(3, activation = "relu"),
        ],
    }
}

keras_model! {
    struct Cnn {
        input_shape: (8, 8, 2),
        layers: [
            Conv2D(4, 3, padding = "same", activation = "relu"),
            MaxPooling2D(2),
            AveragePooling2D(2, strides = 1, padding = "same"),
            Reshape((4, 16)),
            Conv1D(3, 2, padding = "causal", dilation_rate = 2),
            MaxPooling1D(2),
            Flatten(),
            Dense(3),
        ],
    }
}

keras_model! {
    struct Cnn3d {
        input_shape: (4, 4, 4, 1),
        layers: [
            Conv3D(2, 2, activation = "relu"),
            MaxPooling3D(1),
            AveragePooling3D(2, padding = "same"),
            Flatten(),
            Dense(2),
        ],
    }
}

keras_model! {
    struct Rnn {
        input_shape: (5, 3),
        layers: [
            GRU(4, return_sequences = True, reset_after = False),
            LSTM(4, return_sequences = True, go_backwards = True),
            SimpleRNN(3),
            Dense(2, activation = "softmax"),
        ],
    }
}

keras_model! {
    struct Gru {
        input_shape: (6, 2),
        layers: [GRU(5, return_sequences = True), GRU(3, activation = "relu")],
    }
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/files/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(DIR).join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every weight of `net`, in `model.weights` order.
fn stored<M: Model>(net: &M) -> Vec<f32> {
    let mut out = Vec::new();
    net.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

/// Loads every file listed in `<model>.manifest.json` as `M`; returns one report line per file.
fn check_model<M: Model<InputElem = f32>>(model: &str, lines: &mut Vec<String>) -> usize {
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&format!("{model}.manifest.json"))).unwrap();
    assert_eq!(
        manifest["params"].as_u64(),
        Some(M::PARAMS as u64),
        "{model}"
    );
    let x = parity::read_f32(&read(&format!("{model}.x.bin")));
    let weights = parity::read_f32(&read(&format!("{model}.w.bin")));
    let files = manifest["files"].as_object().unwrap();
    for (file, entry) in files {
        let net: M = static_keras::keras_file::load(Path::new(DIR).join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let got = stored(&net);
        assert!(
            got.len() == weights.len()
                && got
                    .iter()
                    .zip(&weights)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{file}: the loaded weights differ from what Keras stored"
        );
        let y = parity::read_f32(&read(entry["y"].as_str().unwrap()));
        let in_len: usize = M::INPUT_SHAPE.iter().product();
        let mut out = vec![0.0; M::OUTPUT_LEN];
        let mut worst = 0.0f32;
        for (sample, want) in x.chunks_exact(in_len).zip(y.chunks_exact(M::OUTPUT_LEN)) {
            M::output_to_slice(
                &net.predict(&M::input_from_slice(sample).unwrap()),
                &mut out,
            );
            for (&g, &w) in out.iter().zip(want) {
                worst = worst.max(parity::error(g, w));
            }
        }
        assert!(
            worst <= parity::TOLERANCE,
            "{file}: error {worst:e} against {}",
            entry["writer"]
        );
        lines.push(format!(
            "{file:<32} {:<28} max error {worst:.2e}",
            entry["writer"].as_str().unwrap()
        ));
    }
    files.len()
}

#[test]
fn every_saved_file_loads_and_predicts_like_keras() {
    let mut lines = Vec::new();
    let mut count = 0;
    count += check_model::<Mlp>("mlp", &mut lines);
    count += check_model::<Mlp>("mlp_functional", &mut lines);
    count += check_model::<Shapes>("shapes", &mut lines);
    count += check_model::<Deep12>("deep12", &mut lines);
    // Convolution and pooling of every rank, and every recurrent cell (GRU both reset_after).
    count += check_model::<Cnn>("cnn", &mut lines);
    count += check_model::<Cnn3d>("cnn3d", &mut lines);
    count += check_model::<Rnn>("rnn", &mut lines);
    count += check_model::<Gru>("gru", &mut lines);
    // Weights stored as float16, bfloat16 (HDF5 opaque + dtype attribute) and float64: the loaded
    // weights equal the stored values converted to f32 exactly, and the outputs match a float32
    // Keras model holding those same converted weights.
    count += check_model::<Mlp>("mlp_f16", &mut lines);
    count += check_model::<Mlp>("mlp_bf16", &mut lines);
    count += check_model::<Mlp>("mlp_f64", &mut lines);
    eprintln!("\nKeras files loaded ({count}):\n  {}", lines.join("\n  "));
    assert_eq!(
        count, 74,
        "a fixture file was added or removed: update this count"
    );
}
