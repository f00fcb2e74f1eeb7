// RepeatVector's n must be positive.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [RepeatVector(0)],
    }
}

fn main() {}
