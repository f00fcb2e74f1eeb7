// A merge layer takes a list of tensors; TimeDistributed has one tensor's slices.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed(Add())],
    }
}

fn main() {}
