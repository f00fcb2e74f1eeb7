// GlobalMaxPooling2D on a sequence (steps, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 4),
        layers: [GlobalMaxPooling2D()],
    }
}

fn main() {}
