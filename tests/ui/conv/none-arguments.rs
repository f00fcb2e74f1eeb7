// An explicit None where Keras needs a value is an error, not a silent default.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16, 4),
        layers: [
            Conv1D(8, None),
            Conv1D(8, 3, padding = None),
            AveragePooling1D(pool_size = None),
        ],
    }
}

fn main() {}
