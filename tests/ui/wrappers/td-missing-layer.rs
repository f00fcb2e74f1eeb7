// TimeDistributed without the layer it wraps.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed()],
    }
}

fn main() {}
