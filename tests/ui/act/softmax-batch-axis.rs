// Softmax over the batch axis would mix samples.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Softmax(axis = 0)],
    }
}

fn main() {}
