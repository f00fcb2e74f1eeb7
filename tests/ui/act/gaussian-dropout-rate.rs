// Rates are in [0, 1).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [GaussianDropout(-0.1)],
    }
}

fn main() {}
