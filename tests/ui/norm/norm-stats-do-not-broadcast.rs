// A mean vector lines up with the last kept axis.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 4),
        layers: [Normalization(mean = (1.0, 2.0, 3.0), variance = (1.0, 1.0, 1.0))],
    }
}

fn main() {}
