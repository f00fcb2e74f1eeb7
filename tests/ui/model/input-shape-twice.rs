use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [Dense(4, input_shape = (8,)), Dense(2, input_dim = 4)],
    }
}

fn main() {}
