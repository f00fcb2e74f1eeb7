// MaxPooling3D on a sequence (steps, channels).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 4),
        layers: [
            Conv1D(8, 3, padding = "same"),
            MaxPooling3D(),
        ],
    }
}

fn main() {}
