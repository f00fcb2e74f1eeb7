use static_keras::keras_model;

keras_model! {
    pub struct Net {
        ids = Input(shape = (6,), dtype = "int32");
        y = Dense(2)(ids);
        model = Model(inputs = ids, outputs = y);
    }
}

fn main() {}
