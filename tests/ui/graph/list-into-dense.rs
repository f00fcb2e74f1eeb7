use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (4,));
        b = Input(shape = (4,));
        y = Dense(3)([a, b]);
        model = Model(inputs = [a, b], outputs = y);
    }
}

fn main() {}
