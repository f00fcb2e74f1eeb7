// DepthwiseConv2D has no filters (its output has channels x depth_multiplier channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [DepthwiseConv2D(3, filters = 8)],
    }
}

fn main() {}
