// A wrapped recurrent layer reads each slice as a sequence: here a slice is a vector.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed(LSTM(4))],
    }
}

fn main() {}
