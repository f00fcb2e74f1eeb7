// There is no SeparableConv3D: a rank-4 input gets no suggestion.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 6, 6, 3),
        layers: [SeparableConv2D(4, 3)],
    }
}

fn main() {}
