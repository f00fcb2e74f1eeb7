// Keras's default of 32 groups does not divide 6 channels.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 6),
        layers: [GroupNormalization()],
    }
}

fn main() {}
