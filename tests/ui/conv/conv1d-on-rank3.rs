// An image (rows, cols, channels) given to Conv1D, which wants (steps, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (28, 28, 1),
        layers: [Conv1D(8, 3)],
    }
}

fn main() {}
