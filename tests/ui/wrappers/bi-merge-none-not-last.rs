// merge_mode = None returns two tensors: in a layer list, only the last layer may.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4), merge_mode = None), Dense(2)],
    }
}

fn main() {}
