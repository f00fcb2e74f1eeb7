// The suggestion for an unknown layer knows Keras's other names of the classes.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 4, 3),
        layers: [GlobalAvgPool2d()],
    }
}

fn main() {}
