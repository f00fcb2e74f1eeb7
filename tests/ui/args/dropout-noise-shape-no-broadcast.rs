// Each noise_shape entry is None, 1 or the input's size on that axis (Keras broadcasts the
// noise to the input).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 8),
        layers: [Dropout(0.5, noise_shape = (None, 2, 8))],
    }
}

fn main() {}
