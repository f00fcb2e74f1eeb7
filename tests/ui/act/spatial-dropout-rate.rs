// Rates are in [0, 1), as for Dropout.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 4),
        layers: [SpatialDropout1D(1.0)],
    }
}

fn main() {}
