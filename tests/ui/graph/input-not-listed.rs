use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (4,));
        b = Input(shape = (4,));
        y = Add()([a, b]);
        model = Model(inputs = a, outputs = y);
    }
}

fn main() {}
