// An RNN needs (timesteps, features); a flat vector is not one.
use static_keras::keras_model;

keras_model! {
    struct Flat {
        input_shape: (4, 6),
        layers: [Flatten(), LSTM(4)],
    }
}

fn main() {}
