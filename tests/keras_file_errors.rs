//! What the loader says when a file does not fit the declaration, is not a Keras file, or is
//! damaged — and that damaged files give an error, never a panic or garbage.
#![cfg(feature = "keras-file")]

use std::path::Path;

use static_keras::keras_file::{load, load_bytes, Error};
use static_keras::keras_model;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/files/");

fn path(name: &str) -> std::path::PathBuf {
    Path::new(DIR).join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(path(name)).unwrap()
}

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
    struct WrongUnits {
        input_shape: (6,),
        layers: [
            Dense(9, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct WrongActivation {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "sigmoid", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct WrongInput {
        input_shape: (7,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct MissingLayer {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct ExtraBias {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh"),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct NoBias {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu", use_bias = False),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

keras_model! {
    struct FirstOnly {
        input_shape: (6,),
        layers: [Dense(8, activation = "relu")],
    }
}

keras_model! {
    struct TwoDense {
        input_shape: (4,),
        layers: [Dense(3), Dense(3)],
    }
}

keras_model! {
    struct Four {
        input_shape: (4,),
        layers: [Dense(3), Activation("linear")],
    }
}

fn message<T>(result: Result<T, Error>) -> String {
    let Err(error) = result else {
        panic!("the load must fail")
    };
    let text = error.to_string();
    // Errors are std errors with a useful Display.
    let _: &dyn std::error::Error = &error;
    text
}

#[test]
fn a_keras_archive_is_checked_against_the_declaration() {
    let m = message(load::<WrongUnits>(path("mlp.k3151.keras")));
    assert_eq!(
        m,
        "the file's model differs from the declared one: layer 0 `dense` (Dense): `units` is 8 in the file but 9 in the declaration"
    );
    let m = message(load::<WrongActivation>(path("mlp.k333.keras")));
    assert!(m.contains("layer 2 `dense_1` (Dense): `activation` is \"tanh\" in the file but \"sigmoid\" in the declaration"), "{m}");
    let m = message(load::<WrongInput>(path("mlp.tf2.keras")));
    assert!(
        m.contains("the input shape is (6,) in the file but (7,) in the declaration"),
        "{m}"
    );
    let m = message(load::<MissingLayer>(path("mlp.k3151.keras")));
    assert!(m.contains("layer 1 is a Dropout (`dropout`) in the file but a Dense (`dense_1`) in the declaration"), "{m}");
    // The legacy model_config is checked the same way, in every writer's dialect.
    for file in ["mlp.k3151.h5", "mlp.tf2.h5", "mlp.synth.h5"] {
        let m = message(load::<WrongUnits>(path(file)));
        assert!(
            m.contains("`units` is 8 in the file but 9 in the declaration"),
            "{file}: {m}"
        );
    }
}

#[test]
fn weights_only_files_are_checked_by_shape() {
    for file in ["mlp.k3151.weights.h5", "mlp.k333.weights.h5", "mlp.tf2w.h5"] {
        let m = message(load::<WrongUnits>(path(file)));
        assert!(
            m.contains("layer 0 `dense`: variable `kernel` has shape (6, 8) in the file")
                && m.contains("but the declared model needs (6, 9)"),
            "{file}: {m}"
        );
    }
    let m = message(load::<ExtraBias>(path("mlp.k3151.weights.h5")));
    assert_eq!(
        m,
        "layer 2 `dense_1`: variable `bias` is missing from the file (looked for layers/dense_1/vars/1)"
    );
    let m = message(load::<NoBias>(path("mlp.k3151.weights.h5")));
    assert!(
        m.contains("layers/dense/vars/1")
            && m.contains("has 2 variable(s) in the file but 1 declared (kernel)"),
        "{m}"
    );
    let m = message(load::<FirstOnly>(path("mlp.k3151.weights.h5")));
    assert!(
        m.contains("weights at layers/dense_1/vars that the declared model does not use"),
        "{m}"
    );
    let m = message(load::<FirstOnly>(path("mlp.tf2w.h5")));
    assert!(
        m.contains(
            "the file has weights for 2 layers (`dense`, `dense_1`) but the declared model has 1"
        ),
        "{m}"
    );
    // A model that fits loads from all of them.
    for file in ["mlp.k3151.weights.h5", "mlp.tf2w.h5"] {
        load::<Mlp>(path(file)).unwrap();
    }
}

#[test]
fn what_static_keras_cannot_load_is_named() {
    let m = message(load::<Four>(path("unsupported_layer.keras")));
    assert!(m.contains("layer 1 is a Lambda (`lambda`) in the file but an Activation (`activation`) in the declaration"), "{m}");
    // A graph is read, and checked call by call: in the file both Dense layers read the input.
    let m = message(load::<TwoDense>(path("branches.keras")));
    assert_eq!(
        m,
        "the file's model differs from the declared one: layer 1 `dense_1` (Dense) reads input 0 `input_layer` in the file but `dense` in the declaration"
    );
}

#[test]
fn files_that_are_not_keras_files() {
    let m = message(load::<Mlp>(path("no-such-file.keras")));
    assert!(
        m.starts_with("cannot read ") && m.contains("no-such-file.keras"),
        "{m}"
    );
    assert_eq!(
        message(load_bytes::<Mlp>(Vec::new())),
        "not a Keras file: expected a .keras archive (zip) or HDF5 (.weights.h5, .h5), found an empty file"
    );
    let m = message(load_bytes::<Mlp>(
        b"{\"class_name\": \"Sequential\"}".to_vec(),
    ));
    assert!(m.contains("found bytes 7b 22 63 6c"), "{m}");
    let m = message(load_bytes::<Mlp>(read("mlp.x.bin")));
    assert!(m.starts_with("not a Keras file"), "{m}");
}

/// Truncations at many points, and single-bit flips, of every kind of file. Every truncation
/// must fail. A flip must never panic; in a `.keras` archive every flip inside a member's data
/// fails the member's CRC-32, and a flip elsewhere (a zip header's time stamp, an HDF5 float) may
/// be harmless or change a weight, which no format without checksums can notice.
#[test]
fn damaged_files_give_errors_not_panics() {
    let files = [
        "mlp.k3151.keras",
        "mlp.k3151.weights.h5",
        "mlp.k3151.h5",
        "mlp.k333.keras",
        "mlp.tf2.h5",
        "mlp.tf2w.h5",
        "mlp.synth.h5",
        "mlp_bf16.k3151.keras",
    ];
    let mut runs = 0;
    for file in files {
        let bytes = read(file);
        let n = bytes.len();
        // Truncations: every byte of the first 512 and the last 512, and 400 points between.
        let mut cuts: Vec<usize> = (0..512.min(n)).chain(n.saturating_sub(512)..n).collect();
        cuts.extend((0..400).map(|i| i * n / 400));
        for cut in cuts {
            runs += 1;
            let got = load_bytes::<Mlp>(bytes[..cut].to_vec());
            assert!(
                got.is_err(),
                "{file} truncated to {cut} of {n} bytes loaded"
            );
        }
        // Bit flips: 1500 pseudo-random positions per file (a fixed LCG, so failures reproduce).
        let mut state = 0x2545_f491_4f6c_dd1du64 ^ n as u64;
        let data_ranges = if file.ends_with(".keras") {
            member_data(&bytes)
        } else {
            Vec::new()
        };
        for _ in 0..1500 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % n;
            let bit = (state >> 20) as u8 % 8;
            let mut damaged = bytes.clone();
            damaged[at] ^= 1 << bit;
            runs += 1;
            let got = load_bytes::<Mlp>(damaged);
            if data_ranges.iter().any(|r| r.contains(&at)) {
                assert!(
                    got.is_err(),
                    "{file}: bit {bit} of byte {at} flipped inside a member loaded"
                );
            }
        }
    }
    eprintln!("{runs} damaged files, no panic");
}

/// The byte ranges of the members' data in a stored zip (from the local headers).
fn member_data(zip: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at =
        |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 30 <= zip.len() && zip[at..at + 4] == *b"PK\x03\x04" {
        let start = at + 30 + u16_at(at + 26) + u16_at(at + 28);
        let end = start + u32_at(at + 18);
        out.push(start..end);
        at = end;
    }
    out
}
