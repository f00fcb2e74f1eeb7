// Keras rejects strides > 1 together with dilation_rate > 1 (ValueError), so do we.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 16, 3),
        layers: [Conv2D(8, 3, strides = (2, 1), dilation_rate = 2)],
    }
}

fn main() {}
