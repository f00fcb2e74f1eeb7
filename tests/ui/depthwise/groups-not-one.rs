// Depthwise layers have no groups; tf.keras 2 configs say groups=1, which alone is accepted.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 4),
        layers: [DepthwiseConv2D(3, groups = 2)],
    }
}

fn main() {}
