// Bidirectional wraps a recurrent layer.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(Dense(4))],
    }
}

fn main() {}
