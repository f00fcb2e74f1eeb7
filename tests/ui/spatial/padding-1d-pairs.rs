// ZeroPadding1D takes (left, right), not a tuple of pairs (Keras rejects it too).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 3),
        layers: [ZeroPadding1D(((1, 2),))],
    }
}

fn main() {}
