// BatchNormalization normalizes along one axis (a one-item list is accepted, as tf.keras 2 wrote it).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 5, 2),
        layers: [BatchNormalization(axis = (1, 2))],
    }
}

fn main() {}
