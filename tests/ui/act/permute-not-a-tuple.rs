// dims is a tuple, even for one axis (Keras raises TypeError on an int).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [Permute(1)],
    }
}

fn main() {}
