// Keras 3's AveragePooling layers have no default pool_size (MaxPooling's is 2).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 8, 2),
        layers: [AveragePooling2D(strides = 2)],
    }
}

fn main() {}
