// An empty tuple of axes (Keras raises IndexError).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Softmax(axis = ())],
    }
}

fn main() {}
