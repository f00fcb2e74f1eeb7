// return_state makes the states extra model outputs: only the last layer can do that.
use static_keras::keras_model;

keras_model! {
    struct States {
        input_shape: (10, 8),
        layers: [LSTM(16, return_state = True), Dense(2)],
    }
}

fn main() {}
