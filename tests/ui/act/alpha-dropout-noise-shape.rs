// noise_shape has one entry per axis, batch included.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 4),
        layers: [AlphaDropout(0.1, noise_shape = (None, 4))],
    }
}

fn main() {}
