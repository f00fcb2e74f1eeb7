// The wrapped layer's shape rule: a recurrent layer reads a sequence.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Flatten(), Bidirectional(GRU(4))],
    }
}

fn main() {}
