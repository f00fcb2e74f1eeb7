// dims must be a permutation of 1..=rank.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 4),
        layers: [Permute((1, 3))],
    }
}

fn main() {}
