// merge_mode = None gives two tensors: bind both (or pick one with `[i]`).
use static_keras::keras_model;

keras_model! {
    struct Net {
        x = Input(shape = (5, 3));
        y = Bidirectional(LSTM(4), merge_mode = None)(x);
        model = Model(inputs = x, outputs = Dense(2)(y));
    }
}

fn main() {}
