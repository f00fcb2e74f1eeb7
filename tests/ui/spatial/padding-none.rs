// padding=None is not a padding in Keras either.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 3),
        layers: [ZeroPadding1D(None)],
    }
}

fn main() {}
