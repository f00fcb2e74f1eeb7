// AvgPool2D is AveragePooling2D: pool_size is required in Keras 3.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 8, 2),
        layers: [AvgPool2D(strides = 2)],
    }
}

fn main() {}
