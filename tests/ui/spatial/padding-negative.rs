// ZeroPadding takes no negative amounts.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [ZeroPadding2D(((1, -1), (0, 0)))],
    }
}

fn main() {}
