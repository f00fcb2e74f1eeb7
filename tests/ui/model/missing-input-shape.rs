use static_keras::keras_model;

keras_model! {
    pub struct Net {
        layers: [Dense(4)],
    }
}

fn main() {}
