// A 3x3 pool does not fit the 2x2 output of the convolution.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 1),
        layers: [
            Conv2D(4, 3),
            MaxPooling2D(3),
        ],
    }
}

fn main() {}
