// `alpha` is Keras 2's name of LeakyReLU's slope: giving both is ambiguous.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (8,),
        layers: [LeakyReLU(negative_slope = 0.1, alpha = 0.2)],
    }
}

fn main() {}
