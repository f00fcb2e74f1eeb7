// 10 filters cannot be split into 3 groups.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (9, 6),
        layers: [Conv1D(10, 3, groups = 3)],
    }
}

fn main() {}
