// Pooling takes "valid" or "same"; "causal" is a Conv1D padding only.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 4),
        layers: [MaxPooling1D(2, padding = "causal")],
    }
}

fn main() {}
