// Identity takes no argument.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [Identity(3)],
    }
}

fn main() {}
