use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (5, 4));
        b = Input(shape = (5, 4));
        y = Concatenate(axis = 3)([a, b]);
        model = Model(inputs = [a, b], outputs = y);
    }
}

fn main() {}
