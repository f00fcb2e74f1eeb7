use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        h = Dense(4)(x);
        y = h(x);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
