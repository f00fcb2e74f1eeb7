use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (12,),
        layers: [Reshape((-1, -1))],
    }
}

fn main() {}
