// DepthwiseConv2D needs (rows, cols, channels); a sequence takes DepthwiseConv1D.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 3),
        layers: [DepthwiseConv2D(3)],
    }
}

fn main() {}
