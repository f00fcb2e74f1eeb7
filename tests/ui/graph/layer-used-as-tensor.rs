use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        d = Dense(3);
        y = Add()([x, d]);
        model = Model(inputs = x, outputs = y);
    }
}

fn main() {}
