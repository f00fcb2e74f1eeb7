// The channels must split into groups of equal size.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 10),
        layers: [GroupNormalization(groups = 4)],
    }
}

fn main() {}
