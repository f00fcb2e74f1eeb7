// An unknown merge_mode, with the nearest one.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4), merge_mode = "summ")],
    }
}

fn main() {}
