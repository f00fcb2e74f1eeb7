// static-keras supports scalar scale and offset.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Rescaling((0.5, 0.25, 1.0))],
    }
}

fn main() {}
