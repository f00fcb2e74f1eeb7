// TimeDistributed needs an axis to step over besides the slices.
use static_keras::keras_model;

keras_model! {
    struct Flat {
        input_shape: (8,),
        layers: [TimeDistributed(Dense(3))],
    }
}

fn main() {}
