//! Text classification with token ids in and a probability out: `Embedding(mask_zero=True)` →
//! `LSTM` → `Dense(sigmoid)`, trained in Keras on a small synthetic review corpus
//! (`tools/gen_rnn.py`, `gen_sentiment`).
//!
//! ```text
//! cargo run --example sentiment
//! ```

use static_keras::{keras_model, Model};

keras_model! {
    /// Positive (1) or negative (0) review, from up to 16 word ids padded with 0 at the front.
    pub struct Sentiment {
        input_shape: (16,),
        layers: [
            Embedding(45, 16, mask_zero = True),
            LSTM(16),
            Dense(1, activation = "sigmoid"),
        ],
    }
}

/// Word ids for `text`, padded with 0 at the front to 16 (Keras `pad_sequences`' default);
/// unknown words are left out.
fn encode(vocab: &[&str], text: &str) -> Vec<u32> {
    let mut ids: Vec<u32> = text
        .split_whitespace()
        .filter_map(|w| vocab.iter().position(|v| *v == w))
        .map(|id| id as u32)
        .collect();
    let keep = ids.len().saturating_sub(16);
    ids.drain(..keep); // truncated at the front too
    let mut padded = vec![0; 16 - ids.len()];
    padded.extend(ids);
    padded
}

fn main() -> Result<(), static_keras::Error> {
    let net = Sentiment::from_le_bytes(include_bytes!("data/sentiment.weights.bin"))?;
    let vocab: Vec<&str> = include_str!("data/sentiment_vocab.txt").lines().collect();

    for text in [
        "the movie was not good",
        "i really love this film",
        "boring plot but the music was great and the ending brilliant",
        "never boring",
    ] {
        let ids = encode(&vocab, text);
        let x = Sentiment::input_from_slice(&ids)?;
        let p = net.predict(&x)[0];
        println!("{p:.3}  {text:?}  ids {ids:?}");
    }

    // The held-out split Keras was evaluated on.
    let ids: Vec<u32> = include_bytes!("data/sentiment_test_ids.bin")
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let labels = include_bytes!("data/sentiment_test_y.bin");
    let mut correct = 0;
    for (review, &label) in ids.chunks_exact(16).zip(labels) {
        let p = net.predict(&Sentiment::input_from_slice(review)?)[0];
        correct += usize::from((p > 0.5) == (label == 1));
    }
    let keras = include_str!("data/sentiment_keras.txt")
        .lines()
        .find_map(|l| l.strip_prefix("keras_accuracy="))
        .unwrap_or("?");
    println!(
        "test accuracy {:.6} on {} reviews (Keras: {keras}), {} parameters",
        correct as f64 / labels.len() as f64,
        labels.len(),
        <Sentiment as Model>::PARAMS
    );
    Ok(())
}
