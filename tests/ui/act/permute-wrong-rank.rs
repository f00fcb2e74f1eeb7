// A permutation of three axes on a rank-2 input.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 4),
        layers: [Permute((2, 3, 1))],
    }
}

fn main() {}
