//! A `#![no_std]` library using `keras_model!`; if anything pulled in std, this would not build for
//! a bare-metal target.
#![no_std]

use static_keras::{keras_model, Model};

keras_model! {
    /// Every core layer once.
    pub struct Core {
        input_shape: (4, 6),
        layers: [
            Dense(8, activation = "gelu"),
            Dropout(0.1),
            Activation("softmax"),
            Reshape((-1, 4)),
            Dense(6, activation = "glu"),
            Flatten(),
            Dense(2, activation = "sparsemax", use_bias = False),
        ],
    }
}

/// Runs the model on raw weights and input; `None` on malformed data.
pub fn run(weights: &[u8], input: &[f32]) -> Option<[f32; 2]> {
    let net = Core::from_le_bytes(weights).ok()?;
    let x = Core::input_from_slice(input).ok()?;
    let mut out = [0.0; 2];
    Core::output_to_slice(&net.predict(&x), &mut out);
    Some(out)
}

keras_model! {
    /// Declared at compile time from a `.keras` file, its weights embedded: no file system needed.
    pub struct Digits from "../../examples/data/digits.keras" with weights;
}

/// The digit the embedded model sees in an 8x8 image (values in [0, 1], row-major).
pub fn digit(pixels: &[f32]) -> Option<usize> {
    let net = Digits::load_embedded().ok()?;
    let y = net.predict(&Digits::input_from_slice(pixels).ok()?);
    (0..10).max_by(|&a, &b| y[a].total_cmp(&y[b]))
}

keras_model! {
    /// A classifier small enough to fine-tune on the device.
    pub struct Tiny {
        input_shape: (4,),
        layers: [
            Dense(5, activation = "tanh"),
            Dense(3, activation = "softmax"),
        ],
    }
}

/// Trains `Tiny` for two epochs with `fit_in_place` over buffers on the stack (no allocator):
/// the samples are shuffled in place; returns the last epoch's loss and accuracy.
pub fn fine_tune(
    weights: &[u8],
    xs: &mut [static_keras::Tensor<4, 1>],
    ys: &mut [u32],
) -> Option<(f32, f32)> {
    use static_keras::losses::SparseCategoricalCrossentropy;
    use static_keras::optimizers::{Optimizer, Sgd};
    use static_keras::train::{Trainable, Trainer};
    use static_keras::FitOptions;

    let mut net = Tiny::from_le_bytes(weights).ok()?;
    let sgd = Sgd {
        learning_rate: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let mut grads = Tiny::zero_grads();
    let mut slots = [0.0f32; Tiny::TRAINABLE_PARAMS];
    let slots = &mut slots[..sgd.slots_per_param() * Tiny::TRAINABLE_PARAMS];
    let mut workspace = [0.0f32; 512];
    if Tiny::workspace_words(4) > workspace.len() {
        return None;
    }
    let mut trainer = Trainer::with_buffers(
        &mut net,
        sgd,
        SparseCategoricalCrossentropy::default(),
        &mut grads,
        slots,
        &mut workspace,
    )
    .with_metrics(&["accuracy"])
    .ok()?;
    let options = FitOptions {
        batch_size: 4,
        epochs: 2,
        seed: 7,
        ..Default::default()
    };
    let logs = trainer.fit_in_place(xs, ys, options).ok()?;
    Some((logs.get("loss")?, logs.get("accuracy")?))
}
