// Axis 1 and axis -2 are the same axis of a (4, 3) input.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Softmax(axis = (1, -2))],
    }
}

fn main() {}
