// A model that starts with Embedding takes u32 token ids, not floats.
use static_keras::keras_model;

keras_model! {
    struct Text {
        input_shape: (4,),
        layers: [Embedding(100, 8, mask_zero = True), LSTM(4)],
    }
}

fn main() {
    let _ = Text::input_from_slice(&[1.0f32, 2.0, 3.0, 0.0]);
}
