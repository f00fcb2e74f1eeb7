// Stacked RNNs: the first must pass its whole sequence on.
use static_keras::keras_model;

keras_model! {
    struct Stacked {
        input_shape: (10, 8),
        layers: [LSTM(16), LSTM(4)],
    }
}

fn main() {}
