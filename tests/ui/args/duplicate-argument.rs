use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [Dense(4, units = 4)],
    }
}

fn main() {}
