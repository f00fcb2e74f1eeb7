//! A 30-layer model of every family, for the compile-time figures of BENCHMARKS.md: how long
//! `cargo build` takes for a deep `keras_model!` cold and after a one-line change.
//!
//! ```sh
//! cargo run --release --example deep
//! ```
//!
//! The weights are deterministic pseudo-random values (the model is not trained); the example
//! prints the summary and one prediction.

use static_keras::keras_model;

keras_model! {
    /// Thirty layers: a 1D convolutional front end, two recurrent layers and a dense head.
    pub struct Deep {
        input_shape: (64, 6),
        layers: [
            Conv1D(16, 3, padding = "same", activation = "relu"),
            Conv1D(16, 3, padding = "same", activation = "relu"),
            MaxPooling1D(2),
            Dropout(0.1),
            Conv1D(24, 3, padding = "same", activation = "relu"),
            Conv1D(24, 3, padding = "same", activation = "relu"),
            AveragePooling1D(2),
            Dropout(0.1),
            Conv1D(32, 3, padding = "same", activation = "elu"),
            Conv1D(32, 3, dilation_rate = 2, padding = "causal", activation = "relu"),
            MaxPooling1D(2),
            Activation("tanh"),
            GRU(32, return_sequences = True),
            Dropout(0.1),
            LSTM(32, return_sequences = True),
            Reshape((8, 32, 1)),
            Conv2D(4, (3, 3), padding = "same", activation = "relu"),
            MaxPooling2D((2, 2)),
            Conv2D(8, (2, 2), activation = "relu"),
            AveragePooling2D((1, 3)),
            Flatten(),
            Dense(64, activation = "relu"),
            Dropout(0.2),
            Dense(64, activation = "gelu"),
            Dense(48, activation = "relu"),
            Dropout(0.2),
            Dense(32, activation = "swish"),
            Dense(16, activation = "relu"),
            Activation("relu6"),
            Dense(3, activation = "softmax"),
        ],
    }
}

fn main() {
    // Deterministic weights in [-0.25, 0.25), in Keras order.
    let mut state = 0x2545_f491_u32;
    let bytes: Vec<u8> = (0..Deep::PARAMS)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            ((state >> 8) as f32 / (1u32 << 24) as f32 * 0.5 - 0.25).to_le_bytes()
        })
        .collect();
    let net = Box::new(Deep::from_le_bytes(&bytes).expect("exactly PARAMS weights"));
    println!("{}", Deep::summary());
    let x: Vec<f32> = (0..64 * 6).map(|i| (i as f32 * 0.37).sin()).collect();
    let y = net.predict(&Deep::input_from_slice(&x).expect("64 × 6 values"));
    println!("prediction: {:?}", y.as_slice());
}
