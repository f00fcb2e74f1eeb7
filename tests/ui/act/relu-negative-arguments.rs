// Keras rejects negative max_value, negative_slope and threshold (ValueError); all three are reported.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [ReLU(max_value = -1.0, negative_slope = -0.2, threshold = -0.5)],
    }
}

fn main() {}
