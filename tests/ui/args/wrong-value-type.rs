use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [Dense("ten"), Dense(2, use_bias = "no")],
    }
}

fn main() {}
