// center and scale are booleans (tf.keras 2's 0 and 1 are accepted, 2 is not).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6,),
        layers: [BatchNormalization(center = 2)],
    }
}

fn main() {}
