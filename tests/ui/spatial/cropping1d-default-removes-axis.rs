// Keras 3's Cropping1D crops (1, 1) by default: nothing is left of 2 steps.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 3),
        layers: [Cropping1D()],
    }
}

fn main() {}
