//! Saved Keras files with Bidirectional and TimeDistributed (`tools/gen_wrappers.py`, Keras
//! 3.15.1): each model loads from `.keras`, `.weights.h5` and legacy `.h5` with Keras's exact
//! weights (`layers/bidirectional/forward_layer/cell/vars`, `…/backward_layer/…`,
//! `layers/time_distributed/layer/vars`; legacy files by weight name) and predicts like Keras;
//! the `.keras` files also declare the models at compile time; a declaration whose wrapped layer
//! differs from the file's is refused, naming the entry; a stateful Bidirectional fed a stream
//! chunk by chunk gives Keras's outputs.
#![cfg(feature = "keras-file")]
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model};

keras_model! {
    struct WrappersSeq {
        input_shape: (7,),
        layers: [
            Embedding(24, 5, mask_zero = True),
            Bidirectional(LSTM(4, return_sequences = True)),
            TimeDistributed(Dense(3, activation = "tanh")),
            Bidirectional(
                GRU(3, reset_after = False),
                merge_mode = "sum",
                backward_layer = GRU(3, reset_after = False, go_backwards = True),
            ),
            Dense(2),
        ],
    }
}

keras_model! {
    struct WrappersCnn {
        input_shape: (3, 6, 6, 2),
        layers: [
            TimeDistributed(Conv2D(3, 3, activation = "relu")),
            TimeDistributed(BatchNormalization()),
            TimeDistributed(MaxPooling2D(2)),
            TimeDistributed(Flatten()),
            Bidirectional(SimpleRNN(4), merge_mode = "ave"),
            Dense(2),
        ],
    }
}

keras_model! {
    struct SeqImported from "tests/fixtures/wrappers_files/wrappers_seq.keras" with weights;
}

keras_model! {
    struct CnnImported from "tests/fixtures/wrappers_files/wrappers_cnn.keras";
}

// `wrappers_seq` with another number of units in the first Bidirectional's layer.
keras_model! {
    struct OtherUnits {
        input_shape: (7,),
        layers: [
            Embedding(24, 5, mask_zero = True),
            Bidirectional(LSTM(5, return_sequences = True)),
            TimeDistributed(Dense(3, activation = "tanh")),
            Bidirectional(
                GRU(3, reset_after = False),
                merge_mode = "sum",
                backward_layer = GRU(3, reset_after = False, go_backwards = True),
            ),
            Dense(2),
        ],
    }
}

// `wrappers_cnn` with another activation inside the first TimeDistributed.
keras_model! {
    struct OtherActivation {
        input_shape: (3, 6, 6, 2),
        layers: [
            TimeDistributed(Conv2D(3, 3, activation = "tanh")),
            TimeDistributed(BatchNormalization()),
            TimeDistributed(MaxPooling2D(2)),
            TimeDistributed(Flatten()),
            Bidirectional(SimpleRNN(4), merge_mode = "ave"),
            Dense(2),
        ],
    }
}

keras_model! {
    /// Keras's stateful stream: `Input(batch_shape = (1, 4, 3))`.
    struct Stream {
        input_shape: (4, 3),
        layers: [
            Bidirectional(GRU(4, return_sequences = True, stateful = True)),
            Bidirectional(LSTM(3, stateful = True), merge_mode = "sum"),
        ],
    }
}

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/wrappers_files/"
);

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{DIR}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> Vec<f32> {
    parity::read_f32(&bytes(name))
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

fn worst_error<M: Model>(net: &M, model: &str) -> f32
where
    M::InputElem: parity::FixtureElem,
{
    let x = parity::read_elems::<M::InputElem>(&bytes(&format!("{model}.x.bin")));
    let y = read(&format!("{model}.y.bin"));
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

fn loads_every_format<M: Model>(model: &str, load: impl Fn(&str) -> M)
where
    M::InputElem: parity::FixtureElem,
{
    let weights = read(&format!("{model}.w.bin"));
    for format in ["keras", "weights.h5", "h5"] {
        let file = format!("{model}.{format}");
        let net = load(&format!("{DIR}{file}"));
        let got = stored(&net);
        assert!(
            got.len() == weights.len()
                && got
                    .iter()
                    .zip(&weights)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{file}: the loaded weights differ from what Keras stored"
        );
        let worst = worst_error(&net, model);
        assert!(worst <= parity::TOLERANCE, "{file}: error {worst:e}");
    }
}

#[test]
fn every_saved_file_loads_and_predicts_like_keras() {
    loads_every_format("wrappers_seq", |path| {
        WrappersSeq::from_keras_file(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    });
    loads_every_format("wrappers_cnn", |path| {
        WrappersCnn::from_keras_file(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    });
}

#[test]
fn the_models_declared_from_the_files_are_the_same() {
    assert_eq!(SeqImported::PARAMS, WrappersSeq::PARAMS);
    assert_eq!(SeqImported::OUTPUT_SHAPE, WrappersSeq::OUTPUT_SHAPE);
    let net = SeqImported::load_embedded().unwrap();
    assert_eq!(stored(&net), read("wrappers_seq.w.bin"));
    let worst = worst_error(&net, "wrappers_seq");
    assert!(worst <= parity::TOLERANCE, "error {worst:e}");

    assert_eq!(CnnImported::PARAMS, WrappersCnn::PARAMS);
    let net = CnnImported::from_keras_file(format!("{DIR}wrappers_cnn.keras")).unwrap();
    let worst = worst_error(&net, "wrappers_cnn");
    assert!(worst <= parity::TOLERANCE, "error {worst:e}");
    assert_eq!(
        CnnImported::summary().replace("CnnImported", "WrappersCnn"),
        WrappersCnn::summary()
    );
}

#[test]
fn a_wrapped_layer_that_differs_is_refused() {
    let error = OtherUnits::from_keras_file(format!("{DIR}wrappers_seq.keras"))
        .err()
        .expect("another number of units must not load");
    assert!(
        error
            .to_string()
            .contains("`layer.units` is 4 in the file but 5 in the declaration"),
        "{error}"
    );
    let error = OtherActivation::from_keras_file(format!("{DIR}wrappers_cnn.h5"))
        .err()
        .expect("another activation must not load");
    assert!(
        error.to_string().contains(
            "layer 0 `time_distributed` (TimeDistributed): `layer.activation` is \"relu\" in the file but \"tanh\" in the declaration"
        ),
        "{error}"
    );
    // Without a saved architecture, the shapes still catch the units.
    let error = OtherUnits::from_keras_file(format!("{DIR}wrappers_seq.weights.h5"))
        .err()
        .expect("another number of units must not load");
    assert!(
        error
            .to_string()
            .contains("layers/bidirectional/forward_layer/cell/vars/0"),
        "{error}"
    );
}

#[test]
fn a_stateful_bidirectional_streams_like_keras() {
    let net = Stream::from_le_bytes(&bytes("stream.w.bin")).unwrap();
    let (stream, want) = (read("stream.x.bin"), read("stream.y.bin"));
    let mut state = StreamState::default();
    for (chunk, want) in stream.chunks_exact(12).zip(want.chunks_exact(3)) {
        let y = net.predict_stateful(&mut state, &Stream::input_from_slice(chunk).unwrap());
        for (&g, &w) in y.as_slice().iter().zip(want) {
            assert!(parity::error(g, w) <= parity::TOLERANCE, "{g} vs Keras {w}");
        }
    }
    // From zero states the first chunk again.
    state.reset();
    let first = net.predict_stateful(
        &mut state,
        &Stream::input_from_slice(&stream[..12]).unwrap(),
    );
    assert_eq!(
        first,
        net.predict(&Stream::input_from_slice(&stream[..12]).unwrap())
    );
}
