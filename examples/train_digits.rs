//! Trains the digits CNN of `examples/digits.rs` from scratch: Keras's initial-weight
//! distributions (`DigitsCnn::init(seed)`), Adam and categorical cross-entropy, `fit` with
//! Keras-style epoch lines, then the accuracy on the held-back digits beside Keras's and the
//! trained model saved as a `.keras` file Keras loads.
//!
//! `tools/train_digits_keras.py` wrote the training split and trained the same model in Keras
//! (same split, epochs, batch size, optimizer and loss) from 3 seeds. Random initial weights and
//! shuffles cannot be Keras's bits, so the comparison is the mean test accuracy over 3 seeds on
//! each side, which must agree within 1 percentage point. The first seed's run prints its epoch
//! lines and is the model saved.
//!
//! Run: `cargo run --release --example train_digits -- OUT.keras`

use std::error::Error;
use std::path::Path;

use static_keras::losses::CategoricalCrossentropy;
use static_keras::optimizers::Adam;
use static_keras::{keras_model, FitOptions, Tensor};

keras_model! {
    /// A CNN for 8×8 grayscale digits (pixels scaled to [0, 1]).
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

/// Shared with `tools/train_digits_keras.py`.
const EPOCHS: usize = 20;
const BATCH_SIZE: usize = 32;
const SEEDS: [u64; 3] = [1, 2, 3];

fn read(path: &Path) -> Result<Vec<u8>, Box<dyn Error>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()).into())
}

type Image = Tensor<1, 64>;

fn images(pixels: impl Iterator<Item = f32>) -> Result<Vec<Image>, Box<dyn Error>> {
    let pixels: Vec<f32> = pixels.collect();
    pixels
        .chunks_exact(64)
        .map(|p| DigitsCnn::input_from_slice(p).map_err(Into::into))
        .collect()
}

fn one_hot(labels: &[u8]) -> Result<Vec<Tensor<10, 1>>, Box<dyn Error>> {
    labels
        .iter()
        .map(|&c| {
            let mut v = [0.0; 10];
            *v.get_mut(usize::from(c)).ok_or("label above 9")? = 1.0;
            DigitsCnn::output_from_slice(&v).map_err(Into::into)
        })
        .collect()
}

/// Trains from `DigitsCnn::init(seed)`; returns the model and its test accuracy.
fn train(
    seed: u64,
    verbose: u8,
    train: (&[Image], &[Tensor<10, 1>]),
    test: (&[Image], &[u8]),
) -> (Box<DigitsCnn>, f64) {
    let mut net = DigitsCnn::init_boxed(seed);
    let mut trainer = net
        .compile(Adam::default(), CategoricalCrossentropy::default())
        .with_metrics(&["accuracy"])
        .expect("accuracy is a known metric");
    trainer.fit(
        train.0,
        train.1,
        FitOptions {
            batch_size: BATCH_SIZE,
            epochs: EPOCHS,
            verbose,
            seed,
            ..Default::default()
        },
    );
    let correct = test
        .0
        .iter()
        .zip(test.1)
        .filter(|(x, &label)| net.predict(x).argmax() == usize::from(label))
        .count();
    (net, correct as f64 / test.1.len() as f64)
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: train_digits OUT.keras")?;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let x_train = images(
        read(&data.join("digits_train_x.u8"))?
            .into_iter()
            .map(|p| f32::from(p) / 16.0),
    )?;
    let y_train = one_hot(&read(&data.join("digits_train_y.u8"))?)?;
    let x_test = images(
        read(&data.join("digits_test_x.bin"))?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    )?;
    let y_test = read(&data.join("digits_test_y.bin"))?;
    if x_train.len() != y_train.len() || x_test.len() != y_test.len() {
        return Err("the digits files disagree on the number of samples".into());
    }
    println!(
        "{} training and {} held-back digits; {EPOCHS} epochs, batch size {BATCH_SIZE}, Adam, \
         categorical cross-entropy\n",
        x_train.len(),
        x_test.len()
    );

    let mut accuracies = Vec::new();
    for (i, &seed) in SEEDS.iter().enumerate() {
        let verbose = if i == 0 { 1 } else { 0 };
        if i == 0 {
            println!("seed {seed}:");
        }
        let (net, accuracy) = train(seed, verbose, (&x_train, &y_train), (&x_test, &y_test));
        println!("seed {seed}: test accuracy {accuracy:.6}");
        if i == 0 {
            net.save(&out)?;
            println!("saved {out}");
        }
        accuracies.push(accuracy);
    }
    let ours = accuracies.iter().sum::<f64>() / accuracies.len() as f64;

    let keras = std::fs::read_to_string(data.join("train_digits_keras.txt"))?;
    let keras_mean: f64 = keras
        .lines()
        .find_map(|l| l.strip_prefix("keras_accuracy_mean="))
        .ok_or("train_digits_keras.txt has no keras_accuracy_mean line")?
        .trim()
        .parse()?;
    println!(
        "\nmean test accuracy over seeds {SEEDS:?}: static-keras {ours:.4}, Keras {keras_mean:.4} \
         (difference {:+.2} points)",
        100.0 * (ours - keras_mean)
    );
    if (ours - keras_mean).abs() > 0.01 {
        return Err("more than 1 point from Keras's accuracy".into());
    }
    println!("within 1 point of Keras's accuracy");
    Ok(())
}
