// padding "causal" is only for Conv1D; Keras rejects it for DepthwiseConv1D.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 2),
        layers: [DepthwiseConv1D(3, padding = "causal")],
    }
}

fn main() {}
