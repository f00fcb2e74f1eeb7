// Embedding reads the model's token ids and must come first.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [TimeDistributed(Embedding(10, 4))],
    }
}

fn main() {}
