// Cropping3D after Flatten: a vector has no spatial axes.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 4, 2),
        layers: [Flatten(), Cropping3D()],
    }
}

fn main() {}
