// Keras requires a strictly positive depth_multiplier.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 4),
        layers: [DepthwiseConv2D(3, depth_multiplier = 0)],
    }
}

fn main() {}
