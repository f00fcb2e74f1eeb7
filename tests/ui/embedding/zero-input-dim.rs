// An empty vocabulary.
use static_keras::keras_model;

keras_model! {
    struct Empty {
        input_shape: (10,),
        layers: [Embedding(0, 8), LSTM(4)],
    }
}

fn main() {}
