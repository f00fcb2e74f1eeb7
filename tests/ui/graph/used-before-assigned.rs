use static_keras::keras_model;

// A model cannot feed a layer with a later layer's output: that would be a cycle.
keras_model! {
    pub struct Net {
        x = Input(shape = (4,));
        a = Dense(4)(b);
        b = Dense(4)(a);
        model = Model(inputs = x, outputs = b);
    }
}

fn main() {}
