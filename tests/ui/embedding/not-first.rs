// Embedding reads token ids, so it can only be the first layer.
use static_keras::keras_model;

keras_model! {
    struct Late {
        input_shape: (10,),
        layers: [Dense(10), Embedding(100, 8), LSTM(4)],
    }
}

fn main() {}
