use static_keras::keras_model;

// Both branches are checked; each error names its call and the shape it was given.
keras_model! {
    pub struct Net {
        x = Input(shape = (16,));
        a = Reshape((3, 3))(x);
        b = Conv1D(4, 3)(x);
        model = Model(inputs = x, outputs = [a, b]);
    }
}

fn main() {}
