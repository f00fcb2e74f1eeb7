// None where Keras needs a value.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [DepthwiseConv2D(kernel_size = None, depth_multiplier = None)],
    }
}

fn main() {}
