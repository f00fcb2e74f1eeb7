//! Files Keras saved with padding, cropping, up-sampling and global pooling layers between
//! convolutions (`tools/gen_spatial.py files`, Keras 3.15.1): each loads in every format
//! (`.keras`, `.weights.h5`, legacy `.h5`), holds exactly Keras's weights and predicts like
//! Keras; a declaration whose arguments differ from the saved config is refused; and the same
//! models declared from the files at compile time are the declared ones.
#![cfg(feature = "keras-file")]
#[macro_use]
#[allow(unused_macros)]
mod parity;

use std::path::Path;

use static_keras::{keras_model, Model};

keras_model! {
    struct Spatial2d {
        input_shape: (7, 6, 3),
        layers: [
            ZeroPadding2D(((1, 2), (0, 1))),
            Conv2D(4, 3, activation = "relu"),
            Cropping2D(((1, 0), (0, 2))),
            UpSampling2D((2, 1), interpolation = "bilinear"),
            Conv2D(3, 2),
            GlobalAveragePooling2D(keepdims = True),
            Flatten(),
            Dense(2),
        ],
    }
}

keras_model! {
    struct Spatial1d {
        input_shape: (8, 3),
        layers: [
            ZeroPadding1D(2),
            Cropping1D((0, 3)),
            UpSampling1D(3),
            Conv1D(4, 3),
            GlobalMaxPooling1D(),
            Dense(2),
        ],
    }
}

keras_model! {
    struct Spatial3d {
        input_shape: (3, 3, 4, 2),
        layers: [
            ZeroPadding3D((1, 1, 0)),
            Cropping3D(),
            UpSampling3D((2, 1, 1)),
            Conv3D(2, 2),
            GlobalAveragePooling3D(),
            Dense(3),
        ],
    }
}

keras_model! {
    struct Imported2d from "tests/fixtures/files/spatial2d.k3151.keras" with weights;
}

keras_model! {
    struct Imported3dLegacy from "tests/fixtures/files/spatial3d.k3151.h5" with weights;
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

fn worst_error<M: Model<InputElem = f32>>(net: &M, x: &[f32], y: &[f32]) -> f32 {
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

/// Loads every file of `<model>.manifest.json` as `M`; returns how many.
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
        let worst = worst_error(&net, &x, &y);
        assert!(worst <= parity::TOLERANCE, "{file}: error {worst:e}");
        lines.push(format!("{file:<32} max error {worst:.2e}"));
    }
    files.len()
}

#[test]
fn saved_files_load_and_predict_like_keras() {
    let mut lines = Vec::new();
    let mut count = 0;
    count += check_model::<Spatial2d>("spatial2d", &mut lines);
    count += check_model::<Spatial1d>("spatial1d", &mut lines);
    count += check_model::<Spatial3d>("spatial3d", &mut lines);
    eprintln!("\nKeras files loaded ({count}):\n  {}", lines.join("\n  "));
    assert_eq!(count, 9, "a fixture file was added or removed");
}

/// The error of loading `file` as `M`, which must fail.
fn refusal<M: Model>(file: &str) -> String {
    match static_keras::keras_file::load::<M>(Path::new(DIR).join(file)) {
        Ok(_) => panic!("{file} loaded into a model that differs from it"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_declaration_with_other_arguments_is_refused() {
    // Every layer as saved but one argument: the saved config names the difference.
    keras_model! {
        struct OtherPadding {
            input_shape: (7, 6, 3),
            layers: [
                ZeroPadding2D(((2, 1), (0, 1))),
                Conv2D(4, 3, activation = "relu"),
                Cropping2D(((1, 0), (0, 2))),
                UpSampling2D((2, 1), interpolation = "bilinear"),
                Conv2D(3, 2),
                GlobalAveragePooling2D(keepdims = True),
                Flatten(),
                Dense(2),
            ],
        }
    }
    keras_model! {
        struct Nearest {
            input_shape: (7, 6, 3),
            layers: [
                ZeroPadding2D(((1, 2), (0, 1))),
                Conv2D(4, 3, activation = "relu"),
                Cropping2D(((1, 0), (0, 2))),
                UpSampling2D((2, 1)),
                Conv2D(3, 2),
                GlobalAveragePooling2D(keepdims = True),
                Flatten(),
                Dense(2),
            ],
        }
    }
    keras_model! {
        struct NoKeepdims {
            input_shape: (7, 6, 3),
            layers: [
                ZeroPadding2D(((1, 2), (0, 1))),
                Conv2D(4, 3, activation = "relu"),
                Cropping2D(((1, 0), (0, 2))),
                UpSampling2D((2, 1), interpolation = "bilinear"),
                Conv2D(3, 2),
                GlobalAveragePooling2D(),
                Flatten(),
                Dense(2),
            ],
        }
    }
    keras_model! {
        struct OtherCropping {
            input_shape: (8, 3),
            layers: [
                ZeroPadding1D(2),
                Cropping1D((1, 2)),
                UpSampling1D(3),
                Conv1D(4, 3),
                GlobalMaxPooling1D(),
                Dense(2),
            ],
        }
    }
    keras_model! {
        struct OtherSize {
            input_shape: (3, 3, 4, 2),
            layers: [
                ZeroPadding3D((1, 1, 0)),
                Cropping3D(),
                UpSampling3D((1, 2, 1)),
                Conv3D(2, 2),
                GlobalAveragePooling3D(),
                Dense(3),
            ],
        }
    }
    let cases = [
        (
            refusal::<OtherPadding>("spatial2d.k3151.keras"),
            "`padding`",
        ),
        (refusal::<OtherPadding>("spatial2d.k3151.h5"), "`padding`"),
        (
            refusal::<Nearest>("spatial2d.k3151.keras"),
            "`interpolation`",
        ),
        (refusal::<NoKeepdims>("spatial2d.k3151.keras"), "`keepdims`"),
        (
            refusal::<OtherCropping>("spatial1d.k3151.keras"),
            "`cropping`",
        ),
        (refusal::<OtherSize>("spatial3d.k3151.keras"), "`size`"),
    ];
    for (message, key) in cases {
        assert!(message.contains(key), "{key}: {message}");
    }
}

#[test]
fn models_declared_from_the_files_are_the_declared_ones() {
    assert_eq!(
        Imported2d::summary().replace("Imported2d", "Spatial2d"),
        Spatial2d::summary()
    );
    assert_eq!(Imported3dLegacy::PARAMS, Spatial3d::PARAMS);
    assert_eq!(Imported3dLegacy::OUTPUT_SHAPE, Spatial3d::OUTPUT_SHAPE);
    let net = Imported2d::load_embedded().unwrap();
    let x = parity::read_f32(&read("spatial2d.x.bin"));
    let y = parity::read_f32(&read("spatial2d.k3151.y.bin"));
    assert!(worst_error(&net, &x, &y) <= parity::TOLERANCE);
    let net = Imported3dLegacy::load_embedded().unwrap();
    let x = parity::read_f32(&read("spatial3d.x.bin"));
    let y = parity::read_f32(&read("spatial3d.k3151.y.bin"));
    assert!(worst_error(&net, &x, &y) <= parity::TOLERANCE);
}
