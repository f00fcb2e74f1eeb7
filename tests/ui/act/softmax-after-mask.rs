// Keras's Softmax broadcasts the (batch, steps) mask of Masking against the input's last axes: it raises (or mixes axes up), so this is a compile error.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 3),
        layers: [Masking(), Dense(3), Softmax()],
    }
}

fn main() {}
