// Flatten leaves a vector; Conv2D needs (rows, cols, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 8, 1),
        layers: [
            Flatten(),
            Conv2D(8, 3),
        ],
    }
}

fn main() {}
