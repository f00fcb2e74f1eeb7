// Conv2DTranspose needs (rows, cols, channels); a sequence takes Conv1DTranspose.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 3),
        layers: [Conv2DTranspose(2, 3)],
    }
}

fn main() {}
