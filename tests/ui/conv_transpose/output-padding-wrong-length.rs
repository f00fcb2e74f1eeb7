// output_padding is an int or one value per spatial axis, none negative.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 2),
        layers: [Conv2DTranspose(3, 3, strides = 2, output_padding = (1, -1))],
    }
}

fn main() {}
