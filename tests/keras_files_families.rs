//! `from_keras_file` on archives Keras saved for every layer family: the digits CNN (Conv2D,
//! MaxPooling2D, Flatten, Dropout, Dense) and the sentiment classifier (Embedding with mask_zero,
//! LSTM, Dense), each compared with Keras's own predictions.
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model};

keras_model! {
    pub struct DigitsCnn {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same"),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu"),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

keras_model! {
    pub struct Sentiment {
        input_shape: (16,),
        layers: [
            Embedding(45, 16, mask_zero = True),
            LSTM(16),
            Dense(1, activation = "sigmoid"),
        ],
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

#[test]
fn convolutional_archive_loads_and_predicts_like_keras() {
    let net = DigitsCnn::from_keras_file(format!("{DATA}digits_cnn.keras")).unwrap();
    let x = parity::read_f32(include_bytes!("../examples/data/digits_test_x.bin"));
    let keras = parity::read_f32(include_bytes!(
        "../examples/data/digits_cnn_keras_probs.bin"
    ));
    let mut worst = 0.0f32;
    for (image, want) in x.chunks_exact(64).zip(keras.chunks_exact(10)) {
        let y = net.predict(&DigitsCnn::input_from_slice(image).unwrap());
        for (&g, &w) in y.iter().zip(want) {
            worst = worst.max(parity::error(g, w));
        }
    }
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn recurrent_archive_loads_and_predicts_like_keras() {
    let net = Sentiment::from_keras_file(format!("{DATA}sentiment.keras")).unwrap();
    let ids: Vec<u32> = include_bytes!("../examples/data/sentiment_test_ids.bin")
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let keras = parity::read_f32(include_bytes!("../examples/data/sentiment_keras_probs.bin"));
    assert_eq!(ids.len(), keras.len() * 16);
    let mut worst = 0.0f32;
    for (row, &want) in ids.chunks_exact(16).zip(&keras) {
        let y = net.predict(&Sentiment::input_from_slice(row).unwrap());
        worst = worst.max(parity::error(y[0], want));
    }
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn a_declaration_that_differs_from_the_archive_is_refused() {
    keras_model! {
        struct WrongCnn {
            input_shape: (8, 8, 1),
            layers: [
                Conv2D(16, 3, activation = "relu", padding = "valid"),
                MaxPooling2D(2),
                Conv2D(32, 3, activation = "relu", padding = "same"),
                Flatten(),
                Dense(10, activation = "softmax"),
            ],
        }
    }
    let error = WrongCnn::from_keras_file(format!("{DATA}digits_cnn.keras"))
        .err()
        .expect("a different architecture must not load");
    let message = error.to_string();
    assert!(
        message.contains("padding") || message.contains("conv2d"),
        "{message}"
    );
    let _ = <WrongCnn as Model>::PARAMS;
}
