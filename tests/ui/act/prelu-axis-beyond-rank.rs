// A shared axis the input does not have.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Dense(5), PReLU(shared_axes = [1, 3])],
    }
}

fn main() {}
