//! Classifies scikit-learn's 8×8 handwritten digits with a small CNN trained in Keras.
//!
//! `tools/gen_fixtures.py digits_cnn` trained the model in Keras and saved it
//! (`model.save("digits_cnn.keras")`), a held-back test split and Keras's own accuracy on it.
//! This example declares the same model with `keras_model!`, loads the `.keras` file, classifies
//! the test split and prints its accuracy beside Keras's.
//!
//! Run: `cargo run --release --example digits`

use std::error::Error;
use std::path::Path;

use static_keras::keras_model;

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

fn read_f32(path: &Path) -> Result<Vec<f32>, Box<dyn Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn main() -> Result<(), Box<dyn Error>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    // The archive Keras's `model.save("digits_cnn.keras")` wrote: its config is checked against
    // the declaration above, then its weights are loaded.
    let net = DigitsCnn::from_keras_file(data.join("digits_cnn.keras"))?;
    println!("{}\n", DigitsCnn::summary());

    let pixels = read_f32(&data.join("digits_test_x.bin"))?;
    let labels = std::fs::read(data.join("digits_test_y.bin"))?;
    let mut correct = 0;
    for (i, (image, &label)) in pixels.chunks_exact(64).zip(&labels).enumerate() {
        let x = DigitsCnn::input_from_slice(image)?;
        let y = net.predict(&x);
        let predicted = y.argmax(); // the most probable class
        correct += usize::from(predicted == usize::from(label));
        if i < 5 {
            println!(
                "sample {i}: label {label}, predicted {predicted} (p = {:.4})",
                y[predicted]
            );
        }
    }
    let accuracy = correct as f64 / labels.len() as f64;

    let keras = std::fs::read_to_string(data.join("digits_cnn_keras.txt"))?;
    let keras_accuracy: f64 = keras
        .lines()
        .find_map(|l| l.strip_prefix("keras_accuracy="))
        .ok_or("digits_cnn_keras.txt has no keras_accuracy line")?
        .trim()
        .parse()?;
    println!(
        "\naccuracy on {} held-back digits: static-keras {accuracy:.6}, Keras {keras_accuracy:.6}",
        labels.len()
    );
    if (accuracy - keras_accuracy).abs() > 1e-6 {
        return Err("accuracy differs from Keras's".into());
    }
    println!("equal to Keras's accuracy");
    Ok(())
}
