use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (4,));
        b = Input(shape = (4,));
        c = Input(shape = (4,));
        y = Subtract()([a, b, c]);
        model = Model(inputs = [a, b, c], outputs = y);
    }
}

fn main() {}
