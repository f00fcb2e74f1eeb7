// Keras 2's input_length gives the input shape; it must agree with input_shape.
use static_keras::keras_model;

keras_model! {
    struct Lengths {
        input_shape: (10,),
        layers: [Embedding(100, 8, input_length = 12), GRU(4)],
    }
}

fn main() {}
