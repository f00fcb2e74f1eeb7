//! Models declared from a saved file at compile time (`struct Net from "net.keras";`), with and
//! without embedded weights: the generated model equals the hand-declared one and predicts like
//! Keras.
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model};

keras_model! {
    /// The digits MLP of the example, from its `.keras` file, weights embedded.
    pub struct Digits from "examples/data/digits.keras" with weights;
}

keras_model! {
    struct Mlp from "tests/fixtures/files/mlp.k3151.keras" with weights;
}

keras_model! {
    struct MlpFunctional from "tests/fixtures/files/mlp_functional.k333.keras" with weights;
}

keras_model! {
    struct Shapes from "tests/fixtures/files/shapes.k333.keras";
}

keras_model! {
    struct Deep12Legacy from "tests/fixtures/files/deep12.tf2.h5" with weights;
}

keras_model! {
    struct MlpBf16 from "tests/fixtures/files/mlp_bf16.k3151.keras" with weights;
}

keras_model! {
    struct MlpDeclared {
        input_shape: (6,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.3),
            Dense(4, activation = "tanh", use_bias = False),
            Activation("softmax"),
        ],
    }
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/files/");

fn read(name: &str) -> Vec<f32> {
    parity::read_f32(&std::fs::read(format!("{DIR}{name}")).unwrap())
}

fn worst_error<M: Model<InputElem = f32>>(net: &M, x: &[f32], y: &[f32]) -> f32 {
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let mut out = vec![0.0; M::OUTPUT_LEN];
    let mut worst = 0.0f32;
    assert_eq!(x.len() / in_len * M::OUTPUT_LEN, y.len());
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
fn imported_models_equal_the_declared_ones() {
    assert_eq!(Mlp::INPUT_SHAPE, MlpDeclared::INPUT_SHAPE);
    assert_eq!(Mlp::OUTPUT_SHAPE, MlpDeclared::OUTPUT_SHAPE);
    assert_eq!(Mlp::PARAMS, MlpDeclared::PARAMS);
    assert_eq!(
        Mlp::summary().replace("\"Mlp\"", "\"MlpDeclared\""),
        MlpDeclared::summary()
    );
    assert_eq!(MlpFunctional::PARAMS, MlpDeclared::PARAMS);
    assert_eq!(Shapes::OUTPUT_SHAPE, &[3]);
    assert_eq!(Deep12Legacy::PARAMS, 5 * 3 + 3 + 11 * (3 * 3 + 3));
    assert_eq!(
        Digits::summary(),
        include_str!("../examples/data/digits_summary.txt")
            .trim_end()
            .replace("DigitsMlp", "Digits")
    );
}

/// Built by the compiler: no run-time check, no copy.
static MLP: Mlp = Mlp::EMBEDDED;

#[test]
fn the_const_embedded_model_is_the_loaded_one() {
    let x = read("mlp.x.bin");
    let loaded = Mlp::load_embedded().unwrap();
    for sample in x.chunks_exact(Mlp::INPUT_SHAPE.iter().product()) {
        let input = Mlp::input_from_slice(sample).unwrap();
        assert_eq!(
            MLP.predict(&input).as_slice(),
            loaded.predict(&input).as_slice()
        );
    }
}

#[test]
fn embedded_weights_predict_like_keras() {
    let x = read("mlp.x.bin");
    let cases: [(&str, f32); 4] = [
        (
            "mlp",
            worst_error(&Mlp::load_embedded().unwrap(), &x, &read("mlp.k3151.y.bin")),
        ),
        (
            "mlp_functional",
            worst_error(
                &MlpFunctional::load_embedded().unwrap(),
                &x,
                &read("mlp_functional.k333.y.bin"),
            ),
        ),
        (
            "mlp_bf16",
            worst_error(
                &MlpBf16::load_embedded().unwrap(),
                &x,
                &read("mlp_bf16.k3151.y.bin"),
            ),
        ),
        (
            "deep12",
            worst_error(
                &Deep12Legacy::load_embedded().unwrap(),
                &read("deep12.x.bin"),
                &read("deep12.tf2.y.bin"),
            ),
        ),
    ];
    for (name, worst) in cases {
        assert!(worst <= parity::TOLERANCE, "{name}: {worst:e}");
    }
    let digits = Digits::load_embedded().unwrap();
    let x = parity::read_f32(include_bytes!("../examples/data/digits_test_x.bin"));
    let y = parity::read_f32(include_bytes!("../examples/data/digits_keras_probs.bin"));
    let worst = worst_error(&digits, &x, &y);
    assert!(worst <= parity::TOLERANCE, "digits: {worst:e}");
}

#[cfg(feature = "keras-file")]
#[test]
fn an_imported_model_loads_files_at_run_time_too() {
    let net = Shapes::from_keras_file(format!("{DIR}shapes.k3151.keras")).unwrap();
    let worst = worst_error(&net, &read("shapes.x.bin"), &read("shapes.k3151.y.bin"));
    assert!(worst <= parity::TOLERANCE, "{worst:e}");
    // The same weights, embedded and loaded, are the same bits.
    let a = Mlp::load_embedded().unwrap();
    let b = Mlp::from_keras_file(format!("{DIR}mlp.k3151.keras")).unwrap();
    let x = Mlp::input_from_slice(&read("mlp.x.bin")[..6]).unwrap();
    assert_eq!(a.predict(&x), b.predict(&x));
}

#[test]
fn embedded_shapes_are_checked_at_load() {
    let bytes = vec![0u8; MlpDeclared::PARAMS * 4];
    let mut net = MlpDeclared::zeroed();
    static_keras::load_le_bytes_checked(&mut net, &bytes, &[&[6, 8], &[8], &[8, 4]]).unwrap();
    let e = static_keras::load_le_bytes_checked(&mut net, &bytes, &[&[6, 8], &[8], &[4, 8]]);
    assert_eq!(
        e.unwrap_err().to_string(),
        "layer `dense_1`: variable `kernel` has shape [4, 8] in the weights but the model needs [8, 4]"
    );
    let e = static_keras::load_le_bytes_checked(&mut net, &bytes, &[&[6, 8], &[8]]);
    assert!(e.is_err());
}

keras_model! {
    /// Convolution and pooling, declared from a Keras 3.3.3 archive.
    struct CnnImported from "tests/fixtures/files/cnn.k333.keras" with weights;
}

keras_model! {
    /// GRU (reset_after both ways), LSTM going backwards and SimpleRNN, from a tf.keras 2 file.
    struct RnnImported from "tests/fixtures/files/rnn.tf2.h5" with weights;
}

keras_model! {
    /// The sentiment classifier: Embedding with mask_zero, LSTM, Dense.
    struct SentimentImported from "examples/data/sentiment.keras" with weights;
}

/// The conv and recurrent files, declared at compile time with embedded weights, predict like
/// the Keras that wrote them.
#[test]
fn conv_and_recurrent_files_import_and_predict_like_keras() {
    fn check<M: Model<InputElem = f32>>(net: &M, x: &[u8], y: &[u8]) {
        let (x, y) = (parity::read_f32(x), parity::read_f32(y));
        let n: usize = M::INPUT_SHAPE.iter().product();
        let mut out = vec![0.0; M::OUTPUT_LEN];
        for (sample, want) in x.chunks_exact(n).zip(y.chunks_exact(M::OUTPUT_LEN)) {
            M::output_to_slice(
                &net.predict(&M::input_from_slice(sample).unwrap()),
                &mut out,
            );
            for (&g, &w) in out.iter().zip(want) {
                assert!(parity::error(g, w) <= parity::TOLERANCE, "{g} vs Keras {w}");
            }
        }
    }
    let cnn = CnnImported::load_embedded().unwrap();
    check(
        &cnn,
        include_bytes!("fixtures/files/cnn.x.bin"),
        include_bytes!("fixtures/files/cnn.k333.y.bin"),
    );
    let rnn = RnnImported::load_embedded().unwrap();
    check(
        &rnn,
        include_bytes!("fixtures/files/rnn.x.bin"),
        include_bytes!("fixtures/files/rnn.tf2.y.bin"),
    );
    let sentiment = SentimentImported::load_embedded().unwrap();
    let ids: Vec<u32> = include_bytes!("../examples/data/sentiment_test_ids.bin")
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let keras = parity::read_f32(include_bytes!("../examples/data/sentiment_keras_probs.bin"));
    for (row, &want) in ids.chunks_exact(16).zip(&keras) {
        let p = sentiment.predict(&SentimentImported::input_from_slice(row).unwrap());
        assert!(parity::error(p[0], want) <= parity::TOLERANCE);
    }
}
