// Argument errors name the layer as written.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 3),
        layers: [AvgPool1D(2, pading = "same")],
    }
}

fn main() {}
