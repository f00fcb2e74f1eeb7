use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [Dense(5, activation = "glu")],
    }
}

fn main() {}
