//! Host side of the firmware's fine-tuning tests (`examples/firmware`, `src/tune.rs`).
//!
//! Both sides include the same fine-tuning code and data (`examples/firmware/src/tune.rs`): a
//! frozen feature model in flash and a head trained in RAM. Here the host fine-tunes each head
//! with the portable kernels and checks the hash of the trained weights against the constant in
//! `tune.rs`; the firmware, under QEMU on a Cortex-M4F, checks its own trained weights against
//! the same constant. The sensor head, which draws no random numbers, is also compared with
//! Keras's head after the same steps (`tools/gen_mcu_train.py`).
#[macro_use]
#[allow(unused_macros)]
mod parity;

#[path = "../examples/firmware/src/golden.rs"]
#[allow(dead_code)]
mod golden;
#[path = "../examples/firmware/src/tune.rs"]
#[allow(dead_code)]
mod tune;

use static_keras::train::Trainable;
use static_keras::{Kernels, Model};
use tune::*;

/// A fine-tuning run: the held-back accuracy before and after, the loss of every step, and the
/// trained head.
struct Run<H> {
    before: usize,
    after: usize,
    losses: Vec<f32>,
    head: H,
}

fn digits_run() -> Run<DigitsHead> {
    static_keras::kernels::with(Kernels::Portable, || {
        let mut head = DIGITS_HEAD;
        let before = digits_correct(&head);
        let mut buffers = Box::new(DigitsBuffers::new());
        let mut losses = Vec::new();
        digits_fine_tune(&mut head, &mut buffers, DIGITS_STEPS, |_, loss| {
            losses.push(loss)
        })
        .unwrap();
        Run {
            before,
            after: digits_correct(&head),
            losses,
            head,
        }
    })
}

fn sensor_run() -> Run<SensorHead> {
    static_keras::kernels::with(Kernels::Portable, || {
        let mut head = SENSOR_HEAD;
        let before = sensor_correct(&head);
        let mut buffers = Box::new(SensorBuffers::new());
        let mut losses = Vec::new();
        sensor_fine_tune(&mut head, &mut buffers, SENSOR_STEPS, |_, loss| {
            losses.push(loss)
        })
        .unwrap();
        Run {
            before,
            after: sensor_correct(&head),
            losses,
            head,
        }
    })
}

/// Every weight in Keras's order and layout.
fn keras_values<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

fn report<H: Model>(name: &str, run: &Run<H>, held: usize, per_epoch: usize) {
    let (first, last) = first_and_last_epoch(&run.losses, per_epoch);
    println!(
        "{name}: held-back {}/{held} -> {}/{held}; mean loss first epoch {first}, last epoch \
         {last}; weights fnv 0x{:08x}",
        run.before,
        run.after,
        weights_hash(&run.head)
    );
}

/// The checks the firmware makes too: the loss falls, the held-back accuracy rises by the stated
/// amount, and the trained weights hash to the constant the firmware checks.
fn check<H: Model>(run: &Run<H>, per_epoch: usize, min_gain: usize, golden: u32, name: &str) {
    assert!(
        loss_fell(&run.losses, per_epoch),
        "the loss did not fall: {:?}",
        run.losses
    );
    assert!(
        run.after >= run.before + min_gain,
        "held-back {} -> {}, less than {min_gain} more",
        run.before,
        run.after
    );
    let got = weights_hash(&run.head);
    assert_eq!(
        got, golden,
        "host hash 0x{got:08x}: if a kernel change meant to change bits, update {name} in \
         examples/firmware/src/tune.rs (the firmware checks the same constant)"
    );
}

#[test]
fn workspaces_fit_exactly() {
    assert_eq!(DigitsHead::workspace_words(DIGITS_BATCH), DIGITS_WORKSPACE);
    assert_eq!(SensorHead::workspace_words(SENSOR_BATCH), SENSOR_WORKSPACE);
}

/// The split takes every weight of the trained model, features first.
#[test]
fn split_covers_the_weights() {
    let params = |bytes: &[u8]| bytes.len() / 4;
    assert_eq!(
        <DigitsFeatures as Model>::PARAMS + <DigitsHead as Model>::PARAMS,
        params(include_bytes!("../examples/data/digits_cnn.weights.bin"))
    );
    assert_eq!(
        <SensorFeatures as Model>::PARAMS + <SensorHead as Model>::PARAMS,
        params(include_bytes!("../examples/data/sensor.weights.bin"))
    );
}

#[test]
fn digits_head_fine_tunes_as_the_firmware() {
    let run = digits_run();
    report(
        "digits",
        &run,
        DIGITS_HELD_Y.len(),
        DIGITS_TUNE / DIGITS_BATCH,
    );
    check(
        &run,
        DIGITS_TUNE / DIGITS_BATCH,
        DIGITS_MIN_GAIN,
        DIGITS_TUNED_WEIGHTS,
        "DIGITS_TUNED_WEIGHTS",
    );
}

#[test]
fn sensor_head_fine_tunes_as_the_firmware() {
    let run = sensor_run();
    report("sensor", &run, SENSOR_HELD, SENSOR_TUNE / SENSOR_BATCH);
    check(
        &run,
        SENSOR_TUNE / SENSOR_BATCH,
        SENSOR_MIN_GAIN,
        SENSOR_TUNED_WEIGHTS,
        "SENSOR_TUNED_WEIGHTS",
    );
}

/// The sensor head draws no random numbers, so its whole fine-tuning can equal Keras's: every
/// step's loss and the trained weights, within the parity tolerance.
#[test]
fn sensor_head_fine_tunes_as_keras() {
    let run = sensor_run();
    let worst = |ours: &[f32], keras: &[f32]| {
        assert_eq!(ours.len(), keras.len());
        ours.iter()
            .zip(keras)
            .map(|(&g, &w)| parity::error(g, w))
            .fold(0.0, f32::max)
    };
    let losses = worst(&run.losses, &parity::read_f32(SENSOR_KERAS_LOSSES));
    let weights = worst(
        &keras_values(&run.head),
        &parity::read_f32(SENSOR_KERAS_HEAD),
    );
    println!(
        "sensor vs Keras: worst error of the step losses {losses:e}, of the weights {weights:e}"
    );
    assert!(
        losses <= parity::TOLERANCE,
        "losses: worst error {losses:e}"
    );
    assert!(
        weights <= parity::TOLERANCE,
        "weights: worst error {weights:e}"
    );
}

static_keras::keras_model! {
    /// The whole digits CNN, its convolutions frozen: what the split into features and head
    /// stands for.
    struct DigitsCnnFrozen {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same", trainable = False),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu", trainable = False),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

/// Fine-tuning the head on the frozen features equals fine-tuning the whole CNN with its
/// convolutions frozen, bit for bit (the same steps, batches and Dropout masks).
#[test]
fn split_trains_as_one_model_with_frozen_layers() {
    static_keras::kernels::with(Kernels::Portable, || {
        let mut whole = DigitsCnnFrozen::from_le_bytes(include_bytes!(
            "../examples/data/digits_cnn.weights.bin"
        ))
        .unwrap();
        assert_eq!(
            DigitsCnnFrozen::TRAINABLE_PARAMS,
            DigitsHead::TRAINABLE_PARAMS
        );
        let mut grads = Box::new(DigitsCnnFrozen::zero_grads());
        let mut slots = vec![0.0; DigitsCnnFrozen::TRAINABLE_PARAMS];
        let mut workspace = vec![0.0; DigitsCnnFrozen::workspace_words(DIGITS_BATCH)];
        let mut losses = Vec::new();
        fine_tune::<_, DIGITS_BATCH>(
            &mut whole,
            &mut grads,
            &mut slots,
            &mut workspace,
            DIGITS_SGD,
            DIGITS_TUNE,
            DIGITS_STEPS,
            digits_tune_image,
            |_, loss| losses.push(loss),
        )
        .unwrap();
        let split = digits_run();
        assert_eq!(losses, split.losses);
        let whole = keras_values(&whole);
        let frozen = <DigitsFeatures as Model>::PARAMS;
        let original = parity::read_f32(include_bytes!("../examples/data/digits_cnn.weights.bin"));
        assert_eq!(
            whole[..frozen],
            original[..frozen],
            "a frozen layer changed"
        );
        assert_eq!(whole[frozen..], keras_values(&split.head)[..]);
    })
}

/// Bad buffers and data give errors, not panics.
#[test]
fn bad_buffers_are_errors() {
    let mut head = SENSOR_HEAD;
    let mut grads = Box::new(SensorHead::zero_grads());
    let mut slots = vec![0.0; SensorHead::TRAINABLE_PARAMS];
    let mut workspace = vec![0.0; SENSOR_WORKSPACE];
    let mut run = |slots: &mut [f32], workspace: &mut [f32], samples: usize| {
        fine_tune::<_, SENSOR_BATCH>(
            &mut head,
            &mut grads,
            slots,
            workspace,
            SENSOR_SGD,
            samples,
            1,
            sensor_tune_sample,
            |_, _| {},
        )
    };
    let (all, short) = (slots.len(), SENSOR_WORKSPACE - 1);
    assert_eq!(
        run(&mut slots, &mut workspace[..short], SENSOR_TUNE),
        Err(TuneError::Workspace {
            need: SENSOR_WORKSPACE,
            have: short
        })
    );
    assert_eq!(
        run(&mut slots[..all - 1], &mut workspace, SENSOR_TUNE),
        Err(TuneError::Slots {
            need: all,
            have: all - 1
        })
    );
    assert_eq!(
        run(&mut slots, &mut workspace, 0),
        Err(TuneError::NoSamples)
    );
    assert!(!loss_fell(&[1.0], 2));
    assert!(!loss_fell(&[], 0));
}
