// Initial weights are not taken from the declaration.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4), "concat", [0.5, 0.5])],
    }
}

fn main() {}
