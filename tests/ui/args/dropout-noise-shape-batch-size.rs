// The batch size is not part of the model, so noise_shape's batch entry is None or 1.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 8),
        layers: [Dropout(0.5, noise_shape = (32, 1, 8))],
    }
}

fn main() {}
