// negative_slope and threshold cannot be None in Keras (max_value can).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [ReLU(max_value = None, negative_slope = None)],
    }
}

fn main() {}
