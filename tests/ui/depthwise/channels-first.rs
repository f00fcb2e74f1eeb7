// Every static-keras tensor is channels_last.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 4),
        layers: [SeparableConv2D(8, 3, data_format = "channels_first")],
    }
}

fn main() {}
