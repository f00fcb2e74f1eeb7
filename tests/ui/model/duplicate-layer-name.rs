use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [Dense(4, name = "hidden"), Dense(4, name = "hidden"), Dense(2, name = "not a field")],
    }
}

fn main() {}
