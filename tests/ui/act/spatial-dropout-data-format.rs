// data_format is "channels_last" or "channels_first".
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 4),
        layers: [SpatialDropout2D(0.2, data_format = "channels_middle")],
    }
}

fn main() {}
