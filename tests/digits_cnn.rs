//! The digits CNN trained in Keras (`tools/gen_fixtures.py digits_cnn`): declared with
//! `keras_model!`, it gives Keras's probabilities on every test image, the same accuracy, and the
//! same `summary()`.

#[allow(unused_macros)] // the harness's helpers only
mod parity;

use static_keras::keras_model;

keras_model! {
    /// Classifies scikit-learn's 8x8 digits with two small convolutions.
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

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `key=value` from the generator's text report.
fn keras_value(key: &str) -> String {
    let text = String::from_utf8(read("digits_cnn_keras.txt")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing"))
        .to_string()
}

fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap()
}

#[test]
fn matches_keras_on_every_test_image() {
    let net = DigitsCnn::from_le_bytes(&read("digits_cnn.weights.bin")).unwrap();
    assert_eq!(
        DigitsCnn::PARAMS.to_string(),
        keras_value("params"),
        "PARAMS vs Keras count_params()"
    );
    let x = parity::read_f32(&read("digits_test_x.bin"));
    let labels = read("digits_test_y.bin");
    let keras = parity::read_f32(&read("digits_cnn_keras_probs.bin"));
    assert_eq!(x.len(), labels.len() * 64);
    assert_eq!(keras.len(), labels.len() * 10);

    let (mut correct, mut worst) = (0usize, 0.0f32);
    for ((image, &label), want) in x.chunks_exact(64).zip(&labels).zip(keras.chunks_exact(10)) {
        let probs = net.predict(&DigitsCnn::input_from_slice(image).unwrap());
        for (&got, &want) in probs.iter().zip(want) {
            worst = worst.max(parity::error(got, want));
        }
        assert_eq!(
            argmax(probs.as_slice()),
            argmax(want),
            "class differs from Keras"
        );
        correct += usize::from(argmax(probs.as_slice()) == usize::from(label));
    }
    let accuracy = correct as f64 / labels.len() as f64;
    eprintln!(
        "digits CNN: accuracy {accuracy:.6} (Keras {}), worst probability error {worst:.2e}",
        keras_value("keras_accuracy")
    );
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    assert_eq!(format!("{accuracy:.6}"), keras_value("keras_accuracy"));
}

#[test]
fn summary_is_keras_byte_for_byte() {
    // The captured file is what `print` wrote: the table plus one newline.
    let keras = String::from_utf8(read("digits_cnn_summary.txt")).unwrap();
    assert_eq!(format!("{}\n", DigitsCnn::summary()), keras);
}
