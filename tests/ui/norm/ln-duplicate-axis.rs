// An axis named twice (1 and -2 are the same axis of a rank-3 input).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 4),
        layers: [LayerNormalization(axis = (1, -2))],
    }
}

fn main() {}
