// The wrapped layer's shape rule runs on one slice, and its error points at its own argument.
use static_keras::keras_model;

keras_model! {
    struct Frames {
        input_shape: (5, 4, 4, 3),
        layers: [TimeDistributed(Conv2D(8, 5)), Flatten()],
    }
}

fn main() {}
