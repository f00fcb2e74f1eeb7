// PReLU's shared_axes count from 1; axis 0 is the batch.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [PReLU(shared_axes = [0, 1])],
    }
}

fn main() {}
