// The depthwise step of a separable convolution must fit its input too.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 2, 3),
        layers: [SeparableConv2D(4, 3, strides = 2)],
    }
}

fn main() {}
