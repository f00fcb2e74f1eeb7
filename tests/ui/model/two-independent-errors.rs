// Both mistakes are reported in one build: the unknown activation and the bad Reshape.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (10,),
        layers: [
            Dense(8, activation = "sigmoidd"),
            Reshape((3, 3)),
        ],
    }
}

fn main() {
    // No cascade: the struct and its API still exist after the errors above.
    let net = Net::zeroed();
    let _ = net.predict(&Net::input_from_slice(&[0.0; 10]).unwrap());
}
