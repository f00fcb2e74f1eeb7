// Keras 3's UpSampling1D takes an int size, not a tuple.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 3),
        layers: [UpSampling1D((2,))],
    }
}

fn main() {}
