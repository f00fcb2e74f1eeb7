//! `from_keras_file` on one model with every normalization layer (Rescaling, BatchNormalization
//! with and without center on a positive axis, GroupNormalization, LayerNormalization over a
//! block of axes and with rms_scaling, Normalization adapted and from config), saved by Keras
//! 3.15.1 as `.keras`, `.weights.h5` and legacy `.h5` (`tools/gen_norm.py`), compared with
//! Keras's own predictions; and the same weights compiled into a `static`.
#![cfg(feature = "keras-file")]
#[allow(unused_macros)]
mod parity;

use static_keras::keras_model;

keras_model! {
    pub struct NormNet {
        input_shape: (6, 6, 3),
        layers: [
            Rescaling(1.0 / 4, offset = -0.5),
            Conv2D(4, 3, padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(6, 3),
            BatchNormalization(center = False, axis = 3),
            GroupNormalization(groups = 3),
            LayerNormalization(axis = (1, 2, 3)),
            Flatten(),
            Dense(5),
            LayerNormalization(rms_scaling = True),
            Normalization(),
            Normalization(
                mean = (0.5, -0.5, 1.0, 0.0, 2.0),
                variance = (1.0, 2.0, 0.5, 1.0, 4.0),
                invert = True,
            ),
        ],
    }
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/norm_files/");

/// The worst parity error of `net` on the saved inputs.
fn worst(net: &NormNet) -> f32 {
    let x = parity::read_f32(include_bytes!("fixtures/norm_files/norm.x.bin"));
    let keras = parity::read_f32(include_bytes!("fixtures/norm_files/norm.y.bin"));
    let mut worst = 0.0f32;
    for (sample, want) in x.chunks_exact(6 * 6 * 3).zip(keras.chunks_exact(5)) {
        let y = net.predict(&NormNet::input_from_slice(sample).unwrap());
        for (&g, &w) in y.as_slice().iter().zip(want) {
            worst = worst.max(parity::error(g, w));
        }
    }
    worst
}

#[test]
fn every_format_loads_and_predicts_like_keras() {
    assert_eq!(NormNet::PARAMS, 1073);
    for file in ["norm.keras", "norm.weights.h5", "norm.h5"] {
        let net = NormNet::from_keras_file(format!("{DIR}{file}"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let worst = worst(&net);
        assert!(worst <= parity::TOLERANCE, "{file}: worst error {worst:e}");
    }
}

static EMBEDDED: NormNet =
    NormNet::from_le_bytes_const(include_bytes!("fixtures/norm_files/norm.w.bin"));

#[test]
fn weights_compiled_in_give_the_same_model() {
    let loaded = NormNet::from_keras_file(format!("{DIR}norm.keras")).unwrap();
    let worst = worst(&EMBEDDED);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    // The folded BatchNormalization factors computed by the compiler are the loader's bits.
    let x = parity::read_f32(include_bytes!("fixtures/norm_files/norm.x.bin"));
    let input = NormNet::input_from_slice(&x[..6 * 6 * 3]).unwrap();
    assert_eq!(
        EMBEDDED.predict(&input).as_slice(),
        loaded.predict(&input).as_slice()
    );
}

#[test]
fn a_declaration_that_differs_from_the_file_is_refused() {
    keras_model! {
        struct OtherEpsilon {
            input_shape: (6, 6, 3),
            layers: [
                Rescaling(1.0 / 4, offset = -0.5),
                Conv2D(4, 3, padding = "same"),
                BatchNormalization(epsilon = 0.01),
                Activation("relu"),
                Conv2D(6, 3),
                BatchNormalization(center = False, axis = -1),
                GroupNormalization(groups = 3),
                LayerNormalization(axis = (1, 2, 3)),
                Flatten(),
                Dense(5),
                LayerNormalization(rms_scaling = True),
                Normalization(),
                Normalization(
                    mean = (0.5, -0.5, 1.0, 0.0, 2.0),
                    variance = (1.0, 2.0, 0.5, 1.0, 4.0),
                    invert = True,
                ),
            ],
        }
    }
    let message = OtherEpsilon::from_keras_file(format!("{DIR}norm.keras"))
        .err()
        .expect("a different epsilon must not load")
        .to_string();
    assert!(
        message.contains("layer 2 `batch_normalization` (BatchNormalization): `epsilon` is 0.001 in the file but 0.01 in the declaration"),
        "{message}"
    );

    keras_model! {
        struct OtherMean {
            input_shape: (6, 6, 3),
            layers: [
                Rescaling(1.0 / 4, offset = -0.5),
                Conv2D(4, 3, padding = "same"),
                BatchNormalization(),
                Activation("relu"),
                Conv2D(6, 3),
                BatchNormalization(center = False, axis = -1),
                GroupNormalization(groups = 3),
                LayerNormalization(axis = (-3, -2, -1)),
                Flatten(),
                Dense(5),
                LayerNormalization(rms_scaling = True),
                Normalization(),
                Normalization(
                    mean = (0.5, -0.5, 1.0, 0.0, 2.5),
                    variance = (1.0, 2.0, 0.5, 1.0, 4.0),
                    invert = True,
                ),
            ],
        }
    }
    // `axis = -1` and `axis = 3`, `(1, 2, 3)` and `(-3, -2, -1)` are the same axes; the mean is not.
    let message = OtherMean::from_keras_file(format!("{DIR}norm.keras"))
        .err()
        .expect("a different mean must not load")
        .to_string();
    assert!(
        message.contains("layer 12 `normalization_1` (Normalization): `mean` is [0.5,-0.5,1.0,0.0,2.0] in the file but [0.5, -0.5, 1.0, 0.0, 2.5] in the declaration"),
        "{message}"
    );
}
