//! Saved Keras files with the activation, shape and identity layers, Masking and the aliases of
//! the seed layers (`tools/gen_act.py`, Keras 3.15.1): each loads from `.keras`, `.weights.h5`
//! and legacy `.h5` into the declared model and predicts like Keras; the `.keras` files also
//! declare the model at compile time; a declaration that differs from the file is refused.
#![cfg(feature = "keras-file")]
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model};

keras_model! {
    struct ActSeq {
        input_shape: (6, 3),
        layers: [
            Masking(mask_value = -1.0),
            Dense(8),
            PReLU(shared_axes = [1]),
            LeakyReLU(0.2),
            ELU(0.5),
            ReLU(4.0, 0.1, 0.5),
            SpatialDropout1D(0.2),
            GaussianNoise(0.1),
            GaussianDropout(0.2),
            AlphaDropout(0.1),
            LSTM(5),
            RepeatVector(3),
            Permute((2, 1)),
            Softmax(axis = 1),
            Identity(),
        ],
    }
}

keras_model! {
    struct ActCnn {
        input_shape: (6, 6, 2),
        layers: [
            Convolution2D(4, 3, padding = "same"),
            PReLU(shared_axes = [1, 2]),
            MaxPool2D(2),
            SpatialDropout2D(0.1),
            AvgPool2D(1),
            Flatten(),
            Dense(6),
            Softmax(axis = (1,)),
            Identity(),
        ],
    }
}

keras_model! {
    struct ActSeqImported from "tests/fixtures/act_files/act_seq.keras" with weights;
}

keras_model! {
    struct ActCnnImported from "tests/fixtures/act_files/act_cnn.keras";
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/act_files/");

fn read(name: &str) -> Vec<f32> {
    parity::read_f32(&std::fs::read(format!("{DIR}{name}")).unwrap())
}

fn worst_error<M: Model<InputElem = f32>>(net: &M, model: &str) -> f32 {
    let (x, y) = (
        read(&format!("{model}.x.bin")),
        read(&format!("{model}.y.bin")),
    );
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    assert_eq!(x.len() / in_len * M::OUTPUT_LEN, y.len());
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
    worst
}

fn every_format<M: Model<InputElem = f32>>(model: &str) {
    for format in ["keras", "weights.h5", "h5"] {
        let net: M = static_keras::keras_file::load(format!("{DIR}{model}.{format}"))
            .unwrap_or_else(|e| panic!("{model}.{format}: {e}"));
        let worst = worst_error(&net, model);
        assert!(
            worst <= parity::TOLERANCE,
            "{model}.{format}: error {worst:e}"
        );
    }
}

#[test]
fn every_layer_loads_from_every_format_and_predicts_like_keras() {
    every_format::<ActSeq>("act_seq");
    every_format::<ActCnn>("act_cnn");
}

#[test]
fn the_files_declare_the_same_models_at_compile_time() {
    assert_eq!(ActSeqImported::PARAMS, ActSeq::PARAMS);
    assert_eq!(ActCnnImported::OUTPUT_SHAPE, ActCnn::OUTPUT_SHAPE);
    let net = ActSeqImported::load_embedded().unwrap();
    assert!(worst_error(&net, "act_seq") <= parity::TOLERANCE);
    let net = ActCnnImported::from_keras_file(format!("{DIR}act_cnn.keras")).unwrap();
    assert!(worst_error(&net, "act_cnn") <= parity::TOLERANCE);
    // The file's classes, not the aliases the model was written with.
    let mut classes = Vec::new();
    net.visit_layers(&mut |info, _| classes.push(info.class));
    assert_eq!(&classes[..3], ["Conv2D", "PReLU", "MaxPooling2D"]);
}

#[test]
fn a_declaration_that_differs_from_the_file_is_refused() {
    keras_model! {
        struct OtherRelu {
            input_shape: (6, 3),
            layers: [
                Masking(mask_value = -1.0),
                Dense(8),
                PReLU(shared_axes = [1]),
                LeakyReLU(0.2),
                ELU(0.5),
                ReLU(3.0, 0.1, 0.5),
                SpatialDropout1D(0.2),
                GaussianNoise(0.1),
                GaussianDropout(0.2),
                AlphaDropout(0.1),
                LSTM(5),
                RepeatVector(3),
                Permute((2, 1)),
                Softmax(axis = 1),
                Identity(),
            ],
        }
    }
    let message = OtherRelu::from_keras_file(format!("{DIR}act_seq.keras"))
        .err()
        .expect("max_value 3 against the file's 4")
        .to_string();
    assert!(message.contains("max_value"), "{message}");

    keras_model! {
        struct OtherShare {
            input_shape: (6, 6, 2),
            layers: [
                Conv2D(4, 3, padding = "same"),
                PReLU(shared_axes = [1]),
                MaxPooling2D(2),
                SpatialDropout2D(0.1),
                AveragePooling2D(1),
                Flatten(),
                Dense(6),
                Softmax(axis = (1,)),
                Identity(),
            ],
        }
    }
    // Shared axes (1,) need alpha (1, 6, 4); the file's is (1, 1, 4): its config and its weight
    // disagree with the declaration.
    let message = OtherShare::from_keras_file(format!("{DIR}act_cnn.keras"))
        .err()
        .expect("shared_axes [1] against the file's [1, 2]")
        .to_string();
    assert!(message.contains("shared_axes"), "{message}");
    let message = OtherShare::from_keras_file(format!("{DIR}act_cnn.weights.h5"))
        .err()
        .expect("alpha (1, 6, 4) against the file's (1, 1, 4)")
        .to_string();
    assert!(message.contains("alpha"), "{message}");
}
