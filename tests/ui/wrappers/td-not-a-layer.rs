// The wrapped layer is written as a call, as in Keras.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed("dense")],
    }
}

fn main() {}
