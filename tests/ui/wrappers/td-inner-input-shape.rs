// Keras 3 ignores `input_shape` on a wrapped layer: it belongs on the wrapper.
use static_keras::keras_model;

keras_model! {
    struct Net {
        layers: [TimeDistributed(Dense(4, input_shape = (3,)))],
    }
}

fn main() {}
