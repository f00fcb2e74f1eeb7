use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (4,));
        b = Input(shape = (3,));
        y = Dense(2)(a);
        model = Model(inputs = [a, b], outputs = y);
    }
}

fn main() {}
