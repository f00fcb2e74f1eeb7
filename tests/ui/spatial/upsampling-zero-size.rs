// An up-sampling factor is positive.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 3),
        layers: [UpSampling2D((2, 0))],
    }
}

fn main() {}
