// The wrapped layer's arguments are bound with its own signature, errors on its own tokens.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed(Dense(4, activaton = "relu"))],
    }
}

fn main() {}
