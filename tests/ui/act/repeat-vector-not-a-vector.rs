// RepeatVector takes (features,), here a sequence.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (3, 4),
        layers: [RepeatVector(2)],
    }
}

fn main() {}
