// ELU's alpha must be a number.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [ELU(alpha = None)],
    }
}

fn main() {}
