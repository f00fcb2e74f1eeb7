// A stateful layer cannot be called once per slice.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (4, 5, 3),
        layers: [TimeDistributed(LSTM(4, stateful = True))],
    }
}

fn main() {}
