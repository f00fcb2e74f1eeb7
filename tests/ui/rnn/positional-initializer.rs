// Keras's positional order stops being supported at the first initializer (which would be
// ignored anyway): pass it by keyword.
use static_keras::keras_model;

keras_model! {
    struct Positional {
        input_shape: (10, 8),
        layers: [LSTM(16, "tanh", "sigmoid", True, "glorot_uniform")],
    }
}

fn main() {}
