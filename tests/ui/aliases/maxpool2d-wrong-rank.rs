// MaxPool2D is MaxPooling2D: it needs (rows, cols, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 3),
        layers: [MaxPool2D(2)],
    }
}

fn main() {}
