// Transposed convolutions take "valid" or "same".
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 3),
        layers: [Conv1DTranspose(2, 3, padding = "causal")],
    }
}

fn main() {}
