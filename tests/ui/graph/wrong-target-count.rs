use static_keras::keras_model;

keras_model! {
    pub struct Net {
        x = Input(shape = (5, 3));
        out, h, c = GRU(4, return_state = True)(x);
        model = Model(inputs = x, outputs = [out, h]);
    }
}

fn main() {}
