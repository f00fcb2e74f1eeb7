// Keras 3's Cropping1D has no data_format argument.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 3),
        layers: [Cropping1D(1, data_format = "channels_last")],
    }
}

fn main() {}
