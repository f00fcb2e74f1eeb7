//! Stateful streaming: a recurrent model fed one chunk of a sensor stream at a time, its GRU and
//! LSTM carrying their states from chunk to chunk (Keras `stateful=True`), as a keyword spotter
//! or an activity classifier on a microcontroller runs. The weights and Keras's own outputs for
//! the same stream come from `tools/gen_rnn.py` (`gen_streaming`).
//!
//! ```text
//! cargo run --example streaming
//! ```

use static_keras::keras_model;

keras_model! {
    /// Three classes from a stream of 3-feature frames, 4 frames per chunk.
    pub struct Stream {
        input_shape: (4, 3),
        layers: [
            GRU(8, return_sequences = True, stateful = True),
            LSTM(6, stateful = True),
            Dense(3, activation = "softmax"),
        ],
    }
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn main() -> Result<(), static_keras::Error> {
    let net = Stream::from_le_bytes(include_bytes!("data/streaming.weights.bin"))?;
    let frames = f32s(include_bytes!("data/streaming_input.bin")); // 24 frames of 3 values
    let keras = f32s(include_bytes!("data/streaming_keras_chunks.bin"));

    // One state per stream; `Default` is Keras's zero initial state.
    let mut state = StreamState::default();
    for (k, chunk) in frames.chunks_exact(4 * 3).enumerate() {
        let x = Stream::input_from_slice(chunk)?;
        let p = net.predict_stateful(&mut state, &x);
        println!(
            "chunk {k}: {:.5?}   Keras {:.5?}",
            p.as_slice(),
            &keras[3 * k..3 * k + 3]
        );
    }

    // A new stream starts from zero states again (Keras `reset_state()`).
    state.reset();
    let first = net.predict_stateful(&mut state, &Stream::input_from_slice(&frames[..12])?);
    println!("after reset, chunk 0 again: {:.5?}", first.as_slice());
    Ok(())
}
