// LeakyReLU has one positional argument; `alpha` is keyword-only.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [LeakyReLU(0.1, 0.2)],
    }
}

fn main() {}
