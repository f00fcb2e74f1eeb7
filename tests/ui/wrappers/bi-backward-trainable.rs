// One of the two layers frozen: a layer is frozen or trained as a whole.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(
            GRU(4, trainable = False),
            backward_layer = GRU(4, go_backwards = True),
        )],
    }
}

fn main() {}
