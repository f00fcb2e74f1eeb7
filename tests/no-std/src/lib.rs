//! A `#![no_std]` library using `keras_model!`; if anything pulled in std, this would not build for
//! a bare-metal target.
#![no_std]

use static_keras::{keras_model, Model};

keras_model! {
    /// Every core layer once.
    pub struct Core {
        input_shape: (4, 6),
        layers: [
            Dense(8, activation = "gelu"),
            Dropout(0.1),
            Activation("softmax"),
            Reshape((-1, 4)),
            Dense(6, activation = "glu"),
            Flatten(),
            Dense(2, activation = "sparsemax", use_bias = False),
        ],
    }
}

/// Runs the model on raw weights and input; `None` on malformed data.
pub fn run(weights: &[u8], input: &[f32]) -> Option<[f32; 2]> {
    let net = Core::from_le_bytes(weights).ok()?;
    let x = Core::input_from_slice(input).ok()?;
    let mut out = [0.0; 2];
    Core::output_to_slice(&net.predict(&x), &mut out);
    Some(out)
}

keras_model! {
    /// Declared at compile time from a `.keras` file, its weights embedded: no file system needed.
    pub struct Digits from "../../examples/data/digits.keras" with weights;
}

/// The digit the embedded model sees in an 8x8 image (values in [0, 1], row-major).
pub fn digit(pixels: &[f32]) -> Option<usize> {
    let net = Digits::load_embedded().ok()?;
    let y = net.predict(&Digits::input_from_slice(pixels).ok()?);
    (0..10).max_by(|&a, &b| y[a].total_cmp(&y[b]))
}
