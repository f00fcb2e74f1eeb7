// Keras checks GaussianNoise's stddev is in [0, 1].
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [GaussianNoise(1.5)],
    }
}

fn main() {}
