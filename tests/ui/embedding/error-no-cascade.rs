// After an error, token-id code using the model adds no errors of its own.
use static_keras::keras_model;

keras_model! {
    struct Text {
        input_shape: (4,),
        layers: [Embedding(100, 8, mask_zero = True), LSTM(4, activation = "rleu")],
    }
}

fn main() {
    let net = Text::zeroed();
    let x = Text::input_from_slice(&[1u32, 2, 3, 0]).unwrap();
    let _ = net.predict(&x);
}
