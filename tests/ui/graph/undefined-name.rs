use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        h = Dense(8)(x);
        y = Dense(2)(hh);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
