// Cropping 2 + 2 of 4 rows leaves nothing.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 5, 3),
        layers: [Cropping2D(((2, 2), (0, 0)))],
    }
}

fn main() {}
