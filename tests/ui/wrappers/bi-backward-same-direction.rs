// A given backward layer must read the other way.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4), backward_layer = LSTM(4))],
    }
}

fn main() {}
