// With return_state, Keras counts the forward layer's states twice: an LSTM (two states) with a
// GRU (one) cannot be built.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(
            LSTM(4, return_state = True),
            backward_layer = GRU(4, go_backwards = True, return_state = True),
        )],
    }
}

fn main() {}
