use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        y = Dense(3)(x);
        model = Model(inputs = x, outputs = y);
        z = Dense(2)(y);
    }
}

fn main() {}
