// A misspelled wrapped layer is named, with the nearest layer the DSL knows.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed(Dens(4))],
    }
}

fn main() {}
