// groups is positive, or -1 for one group per channel.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4, 6),
        layers: [GroupNormalization(groups = 0)],
    }
}

fn main() {}
