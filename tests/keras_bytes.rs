//! `from_keras_bytes`: the same model as `from_keras_file`, from bytes in memory.

use static_keras::keras_model;

keras_model! {
    struct DigitsCnn {
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

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data");

#[test]
fn bytes_load_the_same_model_as_the_file() {
    let path = format!("{DATA}/digits_cnn.keras");
    let from_file = DigitsCnn::from_keras_file(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let from_bytes = DigitsCnn::from_keras_bytes(bytes.as_slice()).unwrap();
    let pixels = std::fs::read(format!("{DATA}/digits_test_x.bin")).unwrap();
    let x: Vec<f32> = pixels[..256]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let x = DigitsCnn::input_from_slice(&x).unwrap();
    assert_eq!(
        from_file.predict(&x).as_slice(),
        from_bytes.predict(&x).as_slice()
    );
}

#[test]
fn another_models_bytes_are_refused_with_the_reason() {
    // The digits MLP: a different architecture from the CNN declared here.
    let bytes = std::fs::read(format!("{DATA}/digits.keras")).unwrap();
    let err = DigitsCnn::from_keras_bytes(bytes)
        .err()
        .expect("an MLP is not this CNN");
    let message = err.to_string();
    assert!(
        message.contains("(64,) in the file but (8, 8, 1) in the declaration"),
        "{message}"
    );
}

#[test]
fn bytes_that_are_no_keras_file_are_refused() {
    let err = DigitsCnn::from_keras_bytes(&b"GIF89a not a model"[..])
        .err()
        .expect("not a Keras file");
    let message = err.to_string();
    assert!(
        message.contains("not a Keras file") && message.contains("47 49 46 38"),
        "{message}"
    );
}
