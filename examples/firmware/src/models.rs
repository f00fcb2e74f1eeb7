//! The models the firmware runs, each built by the compiler inside a `static`.
//!
//! `from_le_bytes_const` turns the weight bytes into the model at compile time, so the `static`
//! sits in `.rodata` (flash) and nothing is copied into RAM at start-up; `.ci/embedded.sh` checks
//! that static RAM stays the same as the harness's. The host test `tests/embedded_golden.rs`
//! includes this same file, so host and MCU run the same declaration over the same bytes.
//!
//! Adding a model: declare it here with its `static`, add its fixtures' checks to `tests/qemu.rs`
//! and a three-line bench binary in `src/bin/` (with its `[[bin]]` entry in Cargo.toml).

use static_keras::keras_model;

keras_model! {
    /// The TensorFlow Lite Micro "hello world" sine regressor, trained in Keras by
    /// `tools/gen_embedded.py`: one input x in [0, 2π], one output ≈ sin(x).
    pub struct SineModel {
        input_shape: (1,),
        layers: [
            Dense(16, activation = "relu"),
            Dense(16, activation = "relu"),
            Dense(1),
        ],
    }
}

/// The trained sine model, in flash.
pub static SINE: SineModel =
    SineModel::from_le_bytes_const(include_bytes!("../../data/sine.weights.bin"));

/// The 64 test inputs Keras predicted on (`sine_x.bin`), and Keras's outputs (`sine_keras_y.bin`).
pub const SINE_X: &[u8] = include_bytes!("../../data/sine_x.bin");
/// Keras's `predict` on [`SINE_X`].
pub const SINE_KERAS_Y: &[u8] = include_bytes!("../../data/sine_keras_y.bin");

keras_model! {
    /// The MLP of `examples/digits.rs`: scikit-learn's 8×8 digits, trained in Keras by
    /// `tools/gen_fixtures.py`.
    pub struct DigitsMlp {
        input_shape: (64,),
        layers: [
            Dense(32, activation = "relu"),
            Dropout(0.2),
            Dense(10, activation = "softmax"),
        ],
    }
}

/// The trained digits MLP, in flash.
pub static DIGITS_MLP: DigitsMlp =
    DigitsMlp::from_le_bytes_const(include_bytes!("../../data/digits_mlp.weights.bin"));

/// 360 held-back images, 64 pixels each in [0, 1] (`digits_test_x.bin`).
pub const DIGITS_X: &[u8] = include_bytes!("../../data/digits_test_x.bin");
/// Keras's probabilities on [`DIGITS_X`], 10 per image.
pub const DIGITS_KERAS_PROBS: &[u8] = include_bytes!("../../data/digits_keras_probs.bin");
/// The true labels of [`DIGITS_X`], one byte each.
pub const DIGITS_Y: &[u8] = include_bytes!("../../data/digits_test_y.bin");

keras_model! {
    /// The CNN of `examples/digits.rs`: scikit-learn's 8×8 digits, trained in Keras by
    /// `tools/gen_fixtures.py digits_cnn`.
    pub struct DigitsCnn {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same"),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu"),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

/// The trained digits CNN, in flash.
pub static DIGITS_CNN: DigitsCnn =
    DigitsCnn::from_le_bytes_const(include_bytes!("../../data/digits_cnn.weights.bin"));

/// Keras's probabilities of the CNN on [`DIGITS_X`] (the same 8×8×1 images, row-major).
pub const DIGITS_CNN_KERAS_PROBS: &[u8] = include_bytes!("../../data/digits_cnn_keras_probs.bin");

keras_model! {
    /// A recurrent classifier of 3-axis sensor windows (still / periodic / bursts), trained in
    /// Keras by `tools/gen_embedded.py sensor`.
    pub struct SensorNet {
        input_shape: (32, 3),
        layers: [
            Conv1D(8, 5, strides = 2, activation = "relu"),
            GRU(16),
            Dense(3, activation = "softmax"),
        ],
    }
}

/// The trained sensor model, in flash.
pub static SENSOR: SensorNet =
    SensorNet::from_le_bytes_const(include_bytes!("../../data/sensor.weights.bin"));

/// 48 test windows of 32 × 3 values (`sensor_x.bin`).
pub const SENSOR_X: &[u8] = include_bytes!("../../data/sensor_x.bin");
/// Keras's probabilities on [`SENSOR_X`].
pub const SENSOR_KERAS_Y: &[u8] = include_bytes!("../../data/sensor_keras_y.bin");

keras_model! {
    /// The stateful stream of `examples/streaming.rs`: 4 frames of 3 values per chunk, the
    /// recurrent states carried from chunk to chunk (Keras `stateful=True`).
    pub struct Stream {
        input_shape: (4, 3),
        layers: [
            GRU(8, return_sequences = True, stateful = True),
            LSTM(6, stateful = True),
            Dense(3, activation = "softmax"),
        ],
    }
}

/// The streaming model, in flash; its state lives wherever the caller keeps it.
pub static STREAM: Stream =
    Stream::from_le_bytes_const(include_bytes!("../../data/streaming.weights.bin"));

/// 24 frames of 3 values, fed as 6 chunks of 4 frames (`streaming_input.bin`).
pub const STREAM_X: &[u8] = include_bytes!("../../data/streaming_input.bin");
/// Keras's stateful outputs, one per chunk.
pub const STREAM_KERAS_Y: &[u8] = include_bytes!("../../data/streaming_keras_chunks.bin");
