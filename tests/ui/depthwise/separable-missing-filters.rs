// SeparableConv2D needs filters, as in Keras.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [SeparableConv2D(kernel_size = 3)],
    }
}

fn main() {}
