// The two layers must agree on return_sequences.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(
            GRU(4, return_sequences = True),
            backward_layer = GRU(4, go_backwards = True),
        )],
    }
}

fn main() {}
