// padding must be "valid", "same" or (Conv1D only) "causal".
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 2),
        layers: [Conv1D(4, 3, padding = "full")],
    }
}

fn main() {}
