// Keras accepts bicubic; static-keras does not compute it.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [UpSampling2D(interpolation = "bicubic")],
    }
}

fn main() {}
