use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (5, 4));
        b = Input(shape = (6, 3));
        y = Concatenate()([a, b]);
        model = Model(inputs = [a, b], outputs = y);
    }
}

fn main() {}
