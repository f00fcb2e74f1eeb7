// mean and variance are given together or not at all.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [Normalization(mean = (1.0, 2.0, 3.0, 4.0))],
    }
}

fn main() {}
