// SpatialDropout2D takes (rows, cols, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 4),
        layers: [SpatialDropout2D(0.2)],
    }
}

fn main() {}
