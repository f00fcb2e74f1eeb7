//! Loading what Keras saved for the depthwise, separable and transposed convolutions
//! (`tools/gen_convx.py`, Keras 3.15.1): the `.keras` archive, the `.weights.h5` and the legacy
//! `.h5` of one model with all of them load into the declared model with Keras's exact weights
//! and predict like Keras. A legacy file whose configs carry tf.keras 2's `"groups": 1` loads
//! too (KERAS_GRAPHS.md F4), by hand and declared from the file at compile time; `"groups": 2`
//! is refused.
#![cfg(feature = "keras-file")]
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model};

keras_model! {
    struct Convx {
        input_shape: (8, 8, 3),
        layers: [
            DepthwiseConv2D(3, padding = "same", depth_multiplier = 2, activation = "relu"),
            SeparableConv2D(4, 3, strides = 2, padding = "same"),
            Conv2DTranspose(3, 3, strides = 2, padding = "same", output_padding = 1),
            Reshape((64, 3)),
            SeparableConv1D(2, 3, use_bias = False),
            Conv1DTranspose(2, 2, strides = 2),
            DepthwiseConv1D(3),
        ],
    }
}

keras_model! {
    /// The same model declared from tf.keras 2's spelling of its configs (`groups = 1`).
    struct Imported from "tests/fixtures/files/convx.tf2groups.h5" with weights;
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/files/");

fn read(name: &str) -> Vec<f32> {
    let path = format!("{DIR}{name}");
    parity::read_f32(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
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

fn worst_error<M: Model<InputElem = f32>>(net: &M) -> f32 {
    let (x, y) = (read("convx.x.bin"), read("convx.k3151.y.bin"));
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

#[test]
fn every_saved_file_loads_and_predicts_like_keras() {
    let weights = read("convx.w.bin");
    for file in [
        "convx.k3151.keras",
        "convx.k3151.weights.h5",
        "convx.k3151.h5",
        "convx.tf2groups.h5",
    ] {
        let net = Convx::from_keras_file(format!("{DIR}{file}"))
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
        let worst = worst_error(&net);
        assert!(worst <= parity::TOLERANCE, "{file}: error {worst:e}");
    }
}

#[test]
fn the_model_declared_from_the_file_is_the_same() {
    assert_eq!(Imported::INPUT_SHAPE, Convx::INPUT_SHAPE);
    assert_eq!(Imported::OUTPUT_SHAPE, &[122, 2]);
    assert_eq!(Imported::PARAMS, Convx::PARAMS);
    assert_eq!(Convx::PARAMS, 286);
    let net = Imported::load_embedded().unwrap();
    assert_eq!(stored(&net), read("convx.w.bin"));
    let worst = worst_error(&net);
    assert!(worst <= parity::TOLERANCE, "error {worst:e}");
}

#[test]
fn a_depthwise_layer_with_groups_is_refused() {
    let error = Convx::from_keras_file(format!("{DIR}convx.groups2.keras"))
        .err()
        .expect("groups=2 on DepthwiseConv2D must not load");
    let message = error.to_string();
    assert!(
        message.contains("`groups` is 2 in the file but 1 in the declaration"),
        "{message}"
    );
}
