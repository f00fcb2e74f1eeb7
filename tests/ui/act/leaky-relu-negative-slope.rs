// Keras rejects a negative LeakyReLU slope, under either name.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [LeakyReLU(alpha = -0.1)],
    }
}

fn main() {}
