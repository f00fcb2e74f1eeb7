use static_keras::keras_model;

keras_model! {
    pub struct Net {
        a = Input(shape = (4,));
        b = Input(shape = (6,));
        shared = Dense(3);
        y = Concatenate()([shared(a), shared(b)]);
        model = Model(inputs = [a, b], outputs = y);
    }
}

fn main() {}
