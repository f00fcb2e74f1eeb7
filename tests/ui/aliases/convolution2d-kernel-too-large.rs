// An alias builds the canonical layer: the message speaks of Conv2D.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 3, 1),
        layers: [Convolution2D(4, 5)],
    }
}

fn main() {}
