// keepdims is True or False.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 4),
        layers: [GlobalAveragePooling1D(keepdims = "yes")],
    }
}

fn main() {}
