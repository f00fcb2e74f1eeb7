// An alias is its class: SeparableConvolution2D's shape rule, message and span.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (3, 3, 2),
        layers: [SeparableConvolution2D(4, 5)],
    }
}

fn main() {}
