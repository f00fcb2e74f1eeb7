use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        y = Add()(x);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
