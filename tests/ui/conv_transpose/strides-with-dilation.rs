// Keras rejects strides > 1 together with dilation_rate > 1 for transposed convolutions.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 2),
        layers: [Conv2DTranspose(3, 3, strides = 2, dilation_rate = 2)],
    }
}

fn main() {}
