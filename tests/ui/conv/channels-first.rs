// Every static-keras tensor is channels_last; channels_first is refused with the way out.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 32, 32),
        layers: [Conv2D(8, 3, data_format = "channels_first")],
    }
}

fn main() {}
