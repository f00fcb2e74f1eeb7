// TimeDistributed stacks one output per slice, not a tuple.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (4, 5, 3),
        layers: [TimeDistributed(GRU(4, return_state = True))],
    }
}

fn main() {}
