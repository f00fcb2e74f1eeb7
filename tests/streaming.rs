//! Stateful streaming: chunk by chunk equals Keras's stateful layers chunk by chunk, and equals
//! the whole sequence at once.

#[allow(unused_macros)]
// the parity harness: only its readers and tolerance are used here
mod parity;

use static_keras::{keras_model, Model, StatefulModel};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

keras_model! {
    /// The streaming example's model: 4 frames per chunk.
    struct Chunk4 {
        input_shape: (4, 3),
        layers: [
            GRU(8, return_sequences = True, stateful = True),
            LSTM(6, stateful = True),
            Dense(3, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// The same layers, 12 frames per chunk.
    struct Chunk12 {
        input_shape: (12, 3),
        layers: [
            GRU(8, return_sequences = True, stateful = True),
            LSTM(6, stateful = True),
            Dense(3, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// The same layers on the whole 24-frame sequence, not stateful.
    struct Whole {
        input_shape: (24, 3),
        layers: [
            GRU(8, return_sequences = True),
            LSTM(6),
            Dense(3, activation = "softmax"),
        ],
    }
}

fn data(name: &str) -> Vec<f32> {
    parity::read_f32(&std::fs::read(format!("{DATA}{name}")).unwrap())
}

fn weights() -> Vec<u8> {
    std::fs::read(format!("{DATA}streaming.weights.bin")).unwrap()
}

fn assert_close(got: &[f32], want: &[f32]) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            parity::error(*g, *w) <= parity::TOLERANCE,
            "{got:?} vs Keras {want:?}"
        );
    }
}

#[test]
fn chunk_by_chunk_equals_keras_stateful() {
    let net = Chunk4::from_le_bytes(&weights()).unwrap();
    let (frames, keras) = (
        data("streaming_input.bin"),
        data("streaming_keras_chunks.bin"),
    );
    let mut state = Chunk4State::default();
    for (chunk, want) in frames.chunks_exact(12).zip(keras.chunks_exact(3)) {
        let y = net.predict_stateful(&mut state, &Chunk4::input_from_slice(chunk).unwrap());
        assert_close(y.as_slice(), want);
    }
    // reset_state starts a new stream: the first chunk's output again.
    <Chunk4 as StatefulModel>::reset_state(&mut state);
    let again = net.predict_stateful(
        &mut state,
        &Chunk4::input_from_slice(&frames[..12]).unwrap(),
    );
    assert_close(again.as_slice(), &keras[..3]);
    // Plain predict never carries state.
    let x = Chunk4::input_from_slice(&frames[12..24]).unwrap();
    assert_eq!(net.predict(&x), net.predict(&x));
    assert_eq!(
        net.predict(&x),
        net.predict_stateful(&mut Default::default(), &x)
    );
}

#[test]
fn two_chunks_equal_the_whole_sequence() {
    let frames = data("streaming_input.bin");
    let whole = Whole::from_le_bytes(&weights()).unwrap();
    let want = whole.predict(&Whole::input_from_slice(&frames).unwrap());
    assert_close(want.as_slice(), &data("streaming_keras_whole.bin"));

    let halves = Chunk12::from_le_bytes(&weights()).unwrap();
    let mut state = Chunk12State::default();
    let first = Chunk12::input_from_slice(&frames[..36]).unwrap();
    let second = Chunk12::input_from_slice(&frames[36..]).unwrap();
    halves.predict_stateful(&mut state, &first);
    let got = halves.predict_stateful(&mut state, &second);
    // The same operations in the same order: not just close, equal.
    assert_eq!(got, want);
    assert_ne!(state, Chunk12State::default());
    state.reset();
    assert_eq!(state, Chunk12State::default());
    assert_eq!(<Chunk12 as Model>::INPUT_SHAPE, &[12, 3]);
}
