use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        side = Dense(3)(x);
        y = Dense(2)(x);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
