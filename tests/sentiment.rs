//! The sentiment example's model computes Keras's probabilities and therefore its accuracy.

#[allow(unused_macros)]
// the parity harness: only its readers and tolerance are used here
mod parity;

use static_keras::keras_model;

keras_model! {
    struct Sentiment {
        input_shape: (16,),
        layers: [
            Embedding(45, 16, mask_zero = True),
            LSTM(16),
            Dense(1, activation = "sigmoid"),
        ],
    }
}

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");

fn keras_value(key: &str) -> String {
    let text = std::fs::read_to_string(format!("{DATA}sentiment_keras.txt")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing"))
        .to_string()
}

#[test]
fn probabilities_and_accuracy_equal_keras() {
    let read = |name: &str| std::fs::read(format!("{DATA}{name}")).unwrap();
    let net = Sentiment::from_le_bytes(&read("sentiment.weights.bin")).unwrap();
    assert_eq!(Sentiment::PARAMS.to_string(), keras_value("params"));
    let ids = parity::read_elems::<u32>(&read("sentiment_test_ids.bin"));
    let labels = read("sentiment_test_y.bin");
    let keras = parity::read_f32(&read("sentiment_keras_probs.bin"));
    assert_eq!(ids.len(), 16 * labels.len());
    assert_eq!(keras.len(), labels.len());
    assert!(
        ids.contains(&0),
        "the test split is padded, so the mask matters"
    );

    let (mut correct, mut worst) = (0, 0.0f32);
    for ((review, &label), &want) in ids.chunks_exact(16).zip(&labels).zip(&keras) {
        let p = net.predict(&Sentiment::input_from_slice(review).unwrap())[0];
        worst = worst.max(parity::error(p, want));
        correct += usize::from((p > 0.5) == (label == 1));
    }
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    let accuracy = format!("{:.6}", correct as f64 / labels.len() as f64);
    assert_eq!(accuracy, keras_value("keras_accuracy"));
}
