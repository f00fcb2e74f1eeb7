// (1 - 1)·1 + (2 mod 2) + 0 = 0 steps: Keras would build an empty output.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (1, 3),
        layers: [Conv1DTranspose(2, 2, padding = "same", output_padding = 0)],
    }
}

fn main() {}
