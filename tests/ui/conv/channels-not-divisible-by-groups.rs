// The 4 input channels (from the first layer's filters) cannot be split into 3 groups.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 8, 3),
        layers: [
            Conv2D(4, 3, name = "stem"),
            Conv2D(6, 3, groups = 3),
        ],
    }
}

fn main() {}
