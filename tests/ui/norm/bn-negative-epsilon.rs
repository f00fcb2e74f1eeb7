// epsilon must be a finite number >= 0.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6,),
        layers: [BatchNormalization(epsilon = -0.001)],
    }
}

fn main() {}
