use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        head = Dense(2);
        y = Dense(3)(x);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
