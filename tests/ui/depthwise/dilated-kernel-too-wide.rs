// Dilation 4 spreads a kernel of 3 over 9 steps, more than the 8 of the input.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 2),
        layers: [DepthwiseConv1D(3, dilation_rate = 4)],
    }
}

fn main() {}
