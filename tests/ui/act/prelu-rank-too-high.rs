// The runtime PRelu takes inputs of up to 4 axes.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 2, 2, 2, 2),
        layers: [PReLU()],
    }
}

fn main() {}
