// A 5x5 kernel cannot slide over the 4x4 output of the pooling layer without padding.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(8, 3, padding = "same"),
            MaxPooling2D(2, name = "pool1"),
            Conv2D(16, 5),
        ],
    }
}

fn main() {}
