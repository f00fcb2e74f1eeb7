// Transposed convolutions have no groups; only groups=1 (tf.keras 2 configs) is accepted.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 4, 2),
        layers: [Conv2DTranspose(4, 3, groups = 2)],
    }
}

fn main() {}
