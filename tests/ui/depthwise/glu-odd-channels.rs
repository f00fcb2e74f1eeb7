// glu halves the channels: 3 channels times depth_multiplier 1 is odd.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [DepthwiseConv2D(3, activation = "glu")],
    }
}

fn main() {}
