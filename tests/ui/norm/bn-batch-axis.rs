// static-keras has no batch axis to normalize along.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 5),
        layers: [BatchNormalization(axis = -3)],
    }
}

fn main() {}
