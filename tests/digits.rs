//! The main example's model against what Keras saved: every probability, the accuracy, and the
//! `model.summary()` table.
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::keras_model;

keras_model! {
    pub struct DigitsMlp {
        input_shape: (64,),
        layers: [
            Dense(32, activation = "relu"),
            Dropout(0.2),
            Dense(10, activation = "softmax"),
        ],
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

fn argmax(values: &[f32]) -> usize {
    (0..values.len()).fold(0, |best, i| if values[i] > values[best] { i } else { best })
}

#[test]
fn probabilities_and_accuracy_equal_keras() {
    let net = DigitsMlp::from_le_bytes(include_bytes!("../examples/data/digits_mlp.weights.bin"))
        .unwrap();
    let x = parity::read_f32(include_bytes!("../examples/data/digits_test_x.bin"));
    let keras = parity::read_f32(include_bytes!("../examples/data/digits_keras_probs.bin"));
    let labels = include_bytes!("../examples/data/digits_test_y.bin");
    assert_eq!(x.len(), labels.len() * 64);
    let (mut ours_correct, mut keras_correct, mut worst) = (0, 0, 0.0f32);
    for ((image, want), &label) in x.chunks_exact(64).zip(keras.chunks_exact(10)).zip(labels) {
        let y = net.predict(&DigitsMlp::input_from_slice(image).unwrap());
        for (&g, &w) in y.iter().zip(want) {
            worst = worst.max(parity::error(g, w));
        }
        assert_eq!(
            y.argmax(),
            argmax(want),
            "the predicted class differs from Keras's"
        );
        ours_correct += usize::from(y.argmax() == usize::from(label));
        keras_correct += usize::from(argmax(want) == usize::from(label));
    }
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    assert_eq!(ours_correct, keras_correct);
    let recorded = std::fs::read_to_string(format!("{DATA}digits_keras.txt")).unwrap();
    let keras_accuracy: f64 = recorded
        .lines()
        .find_map(|l| l.strip_prefix("keras_accuracy="))
        .unwrap()
        .parse()
        .unwrap();
    let accuracy = ours_correct as f64 / labels.len() as f64;
    assert!(
        (accuracy - keras_accuracy).abs() < 5e-7,
        "{accuracy} vs Keras {keras_accuracy}"
    );
}

#[test]
fn summary_is_keras_model_summary() {
    let keras = std::fs::read_to_string(format!("{DATA}digits_summary.txt")).unwrap();
    assert_eq!(DigitsMlp::summary(), keras.trim_end_matches('\n'));
    assert_eq!(DigitsMlp::PARAMS, 2410);
}
