// The backward copy sets go_backwards = True: the wrapped layer must read forwards (Keras
// raises the same error).
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(LSTM(4, go_backwards = True))],
    }
}

fn main() {}
