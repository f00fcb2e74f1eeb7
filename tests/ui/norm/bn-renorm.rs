// renorm=True adds variables static-keras does not load.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6,),
        layers: [BatchNormalization(renorm = True)],
    }
}

fn main() {}
