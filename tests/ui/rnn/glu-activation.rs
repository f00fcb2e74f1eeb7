// glu halves the last axis, which a recurrent state cannot do.
use static_keras::keras_model;

keras_model! {
    struct Glu {
        input_shape: (10, 8),
        layers: [GRU(16, activation = "glu")],
    }
}

fn main() {}
