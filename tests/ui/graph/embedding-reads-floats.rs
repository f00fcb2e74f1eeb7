use static_keras::keras_model;

keras_model! {
    pub struct Net {
        ids = Input(shape = (6,));
        y = LSTM(4)(Embedding(50, 8)(ids));
        model = Model(inputs = ids, outputs = y);
    }
}

fn main() {}
