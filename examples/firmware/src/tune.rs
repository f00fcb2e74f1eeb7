//! On-device fine-tuning: frozen feature layers in flash, a head that trains in RAM.
//!
//! `Trainer` takes the model it trains by `&mut`, so a model trained in one piece lives in RAM
//! whole, frozen layers included. Each model is therefore split at its last frozen layer into
//! two `keras_model!` structs over the same Keras weights (`model.weights` order, the first
//! `Features::PARAMS` values to the features, the rest to the head):
//!
//! - the **feature model** (the layers Keras would mark `trainable = False`) is a `static` built
//!   by the compiler, so its weights stay in flash; each training step runs its `predict` on
//!   the batch, with its activations on the stack;
//! - the **head** (the layers that train) is copied from its pretrained constant into RAM, and
//!   trains there with its gradients, the optimizer's slots and the training workspace
//!   ([`DigitsBuffers`], [`SensorBuffers`]).
//!
//! Frozen layers at the front never run backward (nothing before them trains), so the split
//! computes what one model with `trainable = False` feature layers computes: the host test checks
//! that the digits head ends bit for bit as the Dense layer of the whole CNN trained with its
//! convolutions frozen. Keras's Dropout still drops in a frozen model's training, so it sits in
//! the digits head here.
//!
//! The data: the digits CNN meets images moved one pixel right (a camera mounted one pixel
//! off) and fine-tunes its `Dense` layer; the Conv1D → GRU sensor model meets readings three
//! times larger (a sensor whose range setting changed) and fine-tunes its GRU and `Dense`
//! layers, the Conv1D frozen. `tools/gen_mcu_train.py` writes the sensor windows and Keras's
//! reference. The host test `tests/embedded_train_golden.rs` includes this file, so host and
//! MCU run the same declarations, data and steps.

use static_keras::losses::SparseCategoricalCrossentropy;
use static_keras::optimizers::{Optimizer, Sgd};
use static_keras::train::{BatchError, Trainable, Trainer};
use static_keras::{keras_model, Model, Tensor};

use crate::golden::Fnv;

/// Samples per training step of the digits head.
pub const DIGITS_BATCH: usize = 16;
/// Samples per training step of the sensor head: the GRU keeps 2 417 words per sample for its
/// backward pass, so 16 samples (151 KiB) would not fit the MCU's 128 KiB of RAM; 8 take 76 KiB.
pub const SENSOR_BATCH: usize = 8;

/// The seed of the digits head's Dropout masks.
pub const DROPOUT_SEED: u64 = 7;

/// Why a fine-tuning run stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum TuneError {
    /// The workspace holds fewer words than a step needs.
    Workspace {
        /// Words a step needs (`workspace_words` of the batch size).
        need: usize,
        /// Words the buffer holds.
        have: usize,
    },
    /// The optimizer slots are not `slots_per_param() × TRAINABLE_PARAMS` values.
    Slots {
        /// Values the optimizer needs.
        need: usize,
        /// Values given.
        have: usize,
    },
    /// No samples to train on.
    NoSamples,
    /// A label the loss rejected (a class id out of range).
    Batch(BatchError),
}

impl TuneError {
    /// The error as a message and two numbers, to print over semihosting without `Debug`
    /// (whose float formatting would add about 20 KiB of flash).
    pub fn what(&self) -> (&'static str, usize, usize) {
        match *self {
            Self::Workspace { need, have } => ("workspace words: need, have", need, have),
            Self::Slots { need, have } => ("optimizer slots: need, have", need, have),
            Self::NoSamples => ("no samples to train on", 0, 0),
            Self::Batch(_) => ("a label the loss rejects", 0, 0),
        }
    }
}

/// The `N` bytes of `bytes` from `start`, at compile time: a binary then keeps only those in
/// flash, not the whole file.
pub const fn bytes<const N: usize>(bytes: &[u8], start: usize) -> [u8; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[start + i];
        i += 1;
    }
    out
}

/// Little-endian f32 number `i` of raw bytes.
fn f32_at(bytes: &[u8], i: usize) -> f32 {
    let b = &bytes[4 * i..4 * i + 4];
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Trains `head` for `steps` steps of `B` samples with SGD and sparse categorical
/// cross-entropy: step `s` takes samples `s·B …` of the `samples` the closure `sample`
/// gives (input, label), in order, wrapping around. `after_step(s, loss)` runs after each step
/// with the batch's loss before the update (Keras's `train_on_batch` value).
#[allow(clippy::too_many_arguments)]
pub fn fine_tune<H: Trainable, const B: usize>(
    head: &mut H,
    grads: &mut H::Grads,
    slots: &mut [f32],
    workspace: &mut [f32],
    optimizer: Sgd,
    samples: usize,
    steps: usize,
    mut sample: impl FnMut(usize) -> (H::Input, u32),
    mut after_step: impl FnMut(usize, f32),
) -> Result<(), TuneError> {
    let need = H::workspace_words(B);
    if need > workspace.len() {
        return Err(TuneError::Workspace {
            need,
            have: workspace.len(),
        });
    }
    let need = optimizer.slots_per_param() * H::TRAINABLE_PARAMS;
    if slots.len() != need {
        return Err(TuneError::Slots {
            need,
            have: slots.len(),
        });
    }
    if samples == 0 {
        return Err(TuneError::NoSamples);
    }
    let mut trainer = Trainer::with_buffers(
        head,
        optimizer,
        SparseCategoricalCrossentropy::default(),
        grads,
        slots,
        workspace,
    );
    trainer.seed(DROPOUT_SEED);
    for step in 0..steps {
        let mut labels = [0u32; B];
        let inputs: [H::Input; B] = core::array::from_fn(|i| {
            let (x, y) = sample((step * B + i) % samples);
            labels[i] = y;
            x
        });
        let loss = trainer
            .try_train_on_batch(&inputs, &labels)
            .map_err(TuneError::Batch)?;
        after_step(step, loss);
    }
    Ok(())
}

/// How many of `samples` inputs the head classifies as labelled.
pub fn correct<H: Model<Output = Tensor<F, 1>>, const F: usize>(
    head: &H,
    samples: usize,
    mut sample: impl FnMut(usize) -> (H::Input, u32),
) -> usize {
    (0..samples)
        .filter(|&i| {
            let (x, label) = sample(i);
            head.predict(&x).argmax() == label as usize
        })
        .count()
}

/// The mean loss of the first and of the last `per_epoch` steps (one pass over the
/// fine-tuning set each); NaN when there are fewer than `per_epoch` losses, or none.
pub fn first_and_last_epoch(losses: &[f32], per_epoch: usize) -> (f32, f32) {
    if per_epoch == 0 || losses.len() < per_epoch {
        return (f32::NAN, f32::NAN);
    }
    let mean = |l: &[f32]| l.iter().sum::<f32>() / l.len() as f32;
    (
        mean(&losses[..per_epoch]),
        mean(&losses[losses.len() - per_epoch..]),
    )
}

/// Whether the loss fell: the last epoch's mean loss is below [`LOSS_RATIO`] times the first's.
pub fn loss_fell(losses: &[f32], per_epoch: usize) -> bool {
    let (first, last) = first_and_last_epoch(losses, per_epoch);
    last < LOSS_RATIO * first
}

/// The loss must fall at least this much, from the first epoch's mean to the last's.
pub const LOSS_RATIO: f32 = 0.5;

/// FNV-1a of every weight of `model`, in Keras's order and layout.
pub fn weights_hash<M: Model>(model: &M) -> u32 {
    let mut hash = Fnv::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| hash.push(v));
        }
    });
    hash.finish()
}

// ---------------------------------------------------------------------------------------------
// The digits CNN: Conv2D → MaxPooling2D → Conv2D → Flatten frozen, Dropout → Dense trains.

keras_model! {
    /// The digits CNN's feature layers (frozen: they run `predict` from flash).
    pub struct DigitsFeatures {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same", trainable = False),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu", trainable = False),
            Flatten(),
        ],
    }
}

keras_model! {
    /// The digits CNN's head, which fine-tunes in RAM.
    pub struct DigitsHead {
        input_shape: (128,),
        layers: [
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

const DIGITS_CNN_WEIGHTS: &[u8] = include_bytes!("../../data/digits_cnn.weights.bin");
const DIGITS_FEATURE_BYTES: usize = 4 * <DigitsFeatures as Model>::PARAMS;

/// The frozen feature layers, in flash.
pub static DIGITS_FEATURES: DigitsFeatures =
    DigitsFeatures::from_le_bytes_const(DIGITS_CNN_WEIGHTS.split_at(DIGITS_FEATURE_BYTES).0);

/// The pretrained head, a constant in flash; `let mut head = DIGITS_HEAD;` copies it into RAM
/// (the models are not `Clone`).
pub const DIGITS_HEAD: DigitsHead =
    DigitsHead::from_le_bytes_const(DIGITS_CNN_WEIGHTS.split_at(DIGITS_FEATURE_BYTES).1);

/// Fine-tuning images: the first 320 of the training split (`digits_train_x.u8`).
pub const DIGITS_TUNE: usize = 320;
/// Fine-tuning steps: 3 passes over [`DIGITS_TUNE`].
pub const DIGITS_STEPS: usize = 60;
/// The digits head's optimizer.
pub const DIGITS_SGD: Sgd = Sgd {
    learning_rate: 0.05,
    momentum: 0.9,
    nesterov: false,
    weight_decay: None,
    clipnorm: None,
    clipvalue: None,
    global_clipnorm: None,
    schedule: None,
};

const DIGITS_TRAIN_X: &[u8] = include_bytes!("../../data/digits_train_x.u8");
const DIGITS_TRAIN_Y: &[u8] = include_bytes!("../../data/digits_train_y.u8");
/// The fine-tuning images' pixels, integers 0..=16, 64 per image.
pub static DIGITS_TUNE_X: [u8; 64 * DIGITS_TUNE] = bytes(DIGITS_TRAIN_X, 0);
/// Their labels.
pub static DIGITS_TUNE_Y: [u8; DIGITS_TUNE] = bytes(DIGITS_TRAIN_Y, 0);
/// The 360 held-back images (f32 in [0, 1]) and their labels, the inference tests' split.
pub const DIGITS_HELD_X: &[u8] = include_bytes!("../../data/digits_test_x.bin");
/// Labels of [`DIGITS_HELD_X`].
pub const DIGITS_HELD_Y: &[u8] = include_bytes!("../../data/digits_test_y.bin");

/// An image moved one pixel right, the first column 0: `pixel(row, col)` gives the original.
fn shift_right(pixel: impl Fn(usize, usize) -> f32) -> Tensor<1, 64> {
    let mut t = Tensor::zeros();
    for (i, v) in t.iter_mut().enumerate() {
        let (row, col) = (i / 8, i % 8);
        *v = if col == 0 { 0.0 } else { pixel(row, col - 1) };
    }
    t
}

/// Fine-tuning image `i`, shifted, and its label.
pub fn digits_tune_image(i: usize) -> (Tensor<1, 64>, u32) {
    let x = shift_right(|r, c| f32::from(DIGITS_TUNE_X[64 * i + 8 * r + c]) / 16.0);
    (x, u32::from(DIGITS_TUNE_Y[i]))
}

/// Fine-tuning sample `i`: the shifted image's features and its label.
pub fn digits_tune_sample(i: usize) -> (Tensor<128, 1>, u32) {
    let (x, label) = digits_tune_image(i);
    (DIGITS_FEATURES.predict(&x), label)
}

/// Held-back sample `i`: the shifted image's features and its label.
pub fn digits_held_sample(i: usize) -> (Tensor<128, 1>, u32) {
    let x = shift_right(|r, c| f32_at(DIGITS_HELD_X, 64 * i + 8 * r + c));
    (DIGITS_FEATURES.predict(&x), u32::from(DIGITS_HELD_Y[i]))
}

/// Held-back images the head gets right (of [`DIGITS_HELD_Y`]`.len()`).
pub fn digits_correct(head: &DigitsHead) -> usize {
    correct(head, DIGITS_HELD_Y.len(), digits_held_sample)
}

/// The least gain in held-back images right that fine-tuning must bring: 90 of 360 (25
/// points). The run gets 232 → 332 (64.4 % → 92.2 %; Keras, whose Dropout masks differ: the
/// same 92.2 %, `mcu_train_keras.txt`).
pub const DIGITS_MIN_GAIN: usize = 90;

/// FNV-1a of the digits head's weights after [`DIGITS_STEPS`] steps ([`weights_hash`]), the
/// portable kernels' bits: the host test and the firmware check the same constant.
pub const DIGITS_TUNED_WEIGHTS: u32 = 0x30e6_3a11;

/// Words of training workspace the digits head needs for a step of [`DIGITS_BATCH`].
pub const DIGITS_WORKSPACE: usize = 4576;

/// What the digits head trains with besides its weights: gradients, SGD's momentum (one slot
/// per weight) and the step's workspace (activations and caches of [`DIGITS_BATCH`] samples).
pub struct DigitsBuffers {
    /// Gradients, in the head's layout.
    pub grads: <DigitsHead as Trainable>::Grads,
    /// SGD's momentum.
    pub slots: [f32; DigitsHead::TRAINABLE_PARAMS],
    /// Activations and caches of a step.
    pub workspace: [f32; DIGITS_WORKSPACE],
}

impl DigitsBuffers {
    /// Zeroed buffers.
    pub fn new() -> Self {
        Self {
            grads: DigitsHead::zero_grads(),
            slots: [0.0; DigitsHead::TRAINABLE_PARAMS],
            workspace: [0.0; DIGITS_WORKSPACE],
        }
    }
}

impl Default for DigitsBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// Fine-tunes `head` for `steps` steps on the shifted images ([`fine_tune`]).
pub fn digits_fine_tune(
    head: &mut DigitsHead,
    buffers: &mut DigitsBuffers,
    steps: usize,
    after_step: impl FnMut(usize, f32),
) -> Result<(), TuneError> {
    fine_tune::<_, DIGITS_BATCH>(
        head,
        &mut buffers.grads,
        &mut buffers.slots[..DIGITS_SGD.slots_per_param() * DigitsHead::TRAINABLE_PARAMS],
        &mut buffers.workspace,
        DIGITS_SGD,
        DIGITS_TUNE,
        steps,
        digits_tune_sample,
        after_step,
    )
}

// ---------------------------------------------------------------------------------------------
// The sensor model: Conv1D frozen, GRU → Dense trains.

keras_model! {
    /// The sensor model's Conv1D (frozen: it runs `predict` from flash).
    pub struct SensorFeatures {
        input_shape: (32, 3),
        layers: [
            Conv1D(8, 5, strides = 2, activation = "relu", trainable = False),
        ],
    }
}

keras_model! {
    /// The sensor model's GRU and Dense, which fine-tune in RAM.
    pub struct SensorHead {
        input_shape: (14, 8),
        layers: [
            GRU(16),
            Dense(3, activation = "softmax"),
        ],
    }
}

const SENSOR_WEIGHTS: &[u8] = include_bytes!("../../data/sensor.weights.bin");
const SENSOR_FEATURE_BYTES: usize = 4 * <SensorFeatures as Model>::PARAMS;

/// The frozen Conv1D, in flash.
pub static SENSOR_FEATURES: SensorFeatures =
    SensorFeatures::from_le_bytes_const(SENSOR_WEIGHTS.split_at(SENSOR_FEATURE_BYTES).0);

/// The pretrained GRU and Dense, a constant in flash; `let mut head = SENSOR_HEAD;` copies
/// them into RAM.
pub const SENSOR_HEAD: SensorHead =
    SensorHead::from_le_bytes_const(SENSOR_WEIGHTS.split_at(SENSOR_FEATURE_BYTES).1);

/// Fine-tuning windows: the first 128 of `sensor_tune_x.bin`.
pub const SENSOR_TUNE: usize = 128;
/// Held-back windows: the 96 after them.
pub const SENSOR_HELD: usize = 96;
/// Fine-tuning steps: 4 passes over [`SENSOR_TUNE`].
pub const SENSOR_STEPS: usize = 64;
/// The drift: every reading times this.
pub const SENSOR_GAIN: f32 = 3.0;
/// The sensor head's optimizer.
pub const SENSOR_SGD: Sgd = Sgd {
    learning_rate: 0.02,
    ..DIGITS_SGD
};

const WINDOW: usize = 32 * 3;
const SENSOR_X: &[u8] = include_bytes!("../../data/sensor_tune_x.bin");
/// The windows to fine-tune on, f32, 32 × 3 each (the first of `sensor_tune_x.bin`).
pub static SENSOR_TUNE_X: [u8; 4 * WINDOW * SENSOR_TUNE] = bytes(SENSOR_X, 0);
/// The held-back windows (the rest of `sensor_tune_x.bin`).
pub static SENSOR_HELD_X: [u8; 4 * WINDOW * SENSOR_HELD] =
    bytes(SENSOR_X, 4 * WINDOW * SENSOR_TUNE);
/// The labels of the windows to fine-tune on, then of the held-back ones.
pub const SENSOR_TUNE_Y: &[u8] = include_bytes!("../../data/sensor_tune_y.bin");
/// Keras's head after the same fine-tuning (`model.weights` order).
pub const SENSOR_KERAS_HEAD: &[u8] = include_bytes!("../../data/sensor_tune_keras_head.bin");

/// Window `i` of `windows`, drifted: its Conv1D features.
fn sensor_features(windows: &[u8], i: usize) -> Tensor<8, 14> {
    let mut x = Tensor::<3, 32>::zeros();
    for (j, v) in x.iter_mut().enumerate() {
        *v = f32_at(windows, WINDOW * i + j) * SENSOR_GAIN;
    }
    SENSOR_FEATURES.predict(&x)
}

/// Fine-tuning window `i`: its features and its label.
pub fn sensor_tune_sample(i: usize) -> (Tensor<8, 14>, u32) {
    (
        sensor_features(&SENSOR_TUNE_X, i),
        u32::from(SENSOR_TUNE_Y[i]),
    )
}

/// Held-back window `i`: its features and its label.
pub fn sensor_held_sample(i: usize) -> (Tensor<8, 14>, u32) {
    (
        sensor_features(&SENSOR_HELD_X, i),
        u32::from(SENSOR_TUNE_Y[SENSOR_TUNE + i]),
    )
}

/// Held-back windows the head gets right (of [`SENSOR_HELD`]).
pub fn sensor_correct(head: &SensorHead) -> usize {
    correct(head, SENSOR_HELD, sensor_held_sample)
}

/// The least gain in held-back windows right that fine-tuning must bring: 30 of 96 (31
/// points). The run gets 62 → 96 (64.6 % → 100 %, as Keras).
pub const SENSOR_MIN_GAIN: usize = 30;

/// FNV-1a of the sensor head's weights after [`SENSOR_STEPS`] steps ([`weights_hash`]).
pub const SENSOR_TUNED_WEIGHTS: u32 = 0x37e6_9612;

/// Keras's `train_on_batch` loss of each of the [`SENSOR_STEPS`] steps.
pub const SENSOR_KERAS_LOSSES: &[u8] = include_bytes!("../../data/sensor_tune_keras_losses.bin");

/// Words of training workspace the sensor head needs for a step of [`SENSOR_BATCH`].
pub const SENSOR_WORKSPACE: usize = 19336;

/// What the sensor head trains with besides its weights (see [`DigitsBuffers`]).
pub struct SensorBuffers {
    /// Gradients, in the head's layout.
    pub grads: <SensorHead as Trainable>::Grads,
    /// SGD's momentum.
    pub slots: [f32; SensorHead::TRAINABLE_PARAMS],
    /// Activations and caches of a step.
    pub workspace: [f32; SENSOR_WORKSPACE],
}

impl SensorBuffers {
    /// Zeroed buffers.
    pub fn new() -> Self {
        Self {
            grads: SensorHead::zero_grads(),
            slots: [0.0; SensorHead::TRAINABLE_PARAMS],
            workspace: [0.0; SENSOR_WORKSPACE],
        }
    }
}

impl Default for SensorBuffers {
    fn default() -> Self {
        Self::new()
    }
}

/// Fine-tunes `head` for `steps` steps on the drifted windows ([`fine_tune`]).
pub fn sensor_fine_tune(
    head: &mut SensorHead,
    buffers: &mut SensorBuffers,
    steps: usize,
    after_step: impl FnMut(usize, f32),
) -> Result<(), TuneError> {
    fine_tune::<_, SENSOR_BATCH>(
        head,
        &mut buffers.grads,
        &mut buffers.slots[..SENSOR_SGD.slots_per_param() * SensorHead::TRAINABLE_PARAMS],
        &mut buffers.workspace,
        SENSOR_SGD,
        SENSOR_TUNE,
        steps,
        sensor_tune_sample,
        after_step,
    )
}
