use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        y = Dense(3)(x);
    }
}

fn main() {}
