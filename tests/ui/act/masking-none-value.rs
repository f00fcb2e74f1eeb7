// Masking compares with a number.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Masking(None)],
    }
}

fn main() {}
