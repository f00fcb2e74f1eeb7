// Dilation widens the window: kernel 3 with dilation_rate 4 spans 9 steps, the input has 8.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8, 2),
        layers: [Conv1D(4, 3, dilation_rate = 4)],
    }
}

fn main() {}
