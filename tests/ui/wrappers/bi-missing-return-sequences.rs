// A Bidirectional without return_sequences returns the last outputs only: the hint names it.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4)), Bidirectional(LSTM(2))],
    }
}

fn main() {}
