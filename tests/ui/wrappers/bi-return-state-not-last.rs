// return_state returns the states too: in a layer list, only the last layer may.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(GRU(4, return_state = True)), Dense(2)],
    }
}

fn main() {}
