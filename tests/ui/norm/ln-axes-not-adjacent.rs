// The normalized axes must be adjacent.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 3, 4),
        layers: [LayerNormalization(axis = (1, 3))],
    }
}

fn main() {}
