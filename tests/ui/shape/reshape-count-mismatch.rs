// The mistake of the original Keras layer guide: 16 values cannot become (3, 3).
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (16,),
        layers: [
            Dense(16, activation = "relu"),
            Reshape((3, 3)),
            Dense(4),
        ],
    }
}

fn main() {}
