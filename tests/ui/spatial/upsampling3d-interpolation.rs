// Keras 3's UpSampling3D has no interpolation argument (nearest only).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (2, 6, 6, 3),
        layers: [UpSampling3D(interpolation = "nearest")],
    }
}

fn main() {}
