use static_keras::keras_model;

keras_model! {
    #[static_keras(krate = "static_keras")]
    pub struct Net {
        input_shape: (3,),
        layers: [Dense(2)],
    }
}

fn main() {}
