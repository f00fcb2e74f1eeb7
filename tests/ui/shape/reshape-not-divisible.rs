use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 5),
        layers: [Reshape((-1, 3))],
    }
}

fn main() {}
