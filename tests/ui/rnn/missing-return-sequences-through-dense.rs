// The RNN that dropped the time axis is named even when a Dense sits in between.
use static_keras::keras_model;

keras_model! {
    struct Stacked {
        input_shape: (10, 8),
        layers: [GRU(16, name = "encoder"), Dense(8), Dropout(0.5), SimpleRNN(4)],
    }
}

fn main() {}
