// Keras requires output_padding < strides on every axis.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 2),
        layers: [Conv2DTranspose(3, 3, strides = (2, 1), output_padding = 1)],
    }
}

fn main() {}
