// ZeroPadding2D takes an int, 2 items (one per axis) or 2 pairs, not 3 items.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [ZeroPadding2D((1, 2, 3))],
    }
}

fn main() {}
