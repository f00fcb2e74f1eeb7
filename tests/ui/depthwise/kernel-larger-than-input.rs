// A 5x5 depthwise kernel does not fit a 4x4 input without padding.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 3),
        layers: [DepthwiseConv2D(5)],
    }
}

fn main() {}
