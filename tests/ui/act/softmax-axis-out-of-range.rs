// A (4, 3) input has axes 1 and 2 (or -1 and -2) after the batch axis 0.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Softmax(axis = (1, 3))],
    }
}

fn main() {}
