// "sum" adds the outputs value by value: they must have one shape.
use static_keras::keras_model;

keras_model! {
    struct Net {
        input_shape: (5, 3),
        layers: [Bidirectional(
            LSTM(4),
            merge_mode = "sum",
            backward_layer = LSTM(3, go_backwards = True),
        )],
    }
}

fn main() {}
