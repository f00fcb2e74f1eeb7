use static_keras::keras_model;

keras_model! {
    pub struct Net {
        p = Input(shape = (3, 4));
        q = Input(shape = (6, 5));
        y = Dot(axes = (2, 2))([p, q]);
        model = Model(inputs = [p, q], outputs = y);
    }
}

fn main() {}
