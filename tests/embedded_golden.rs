//! Host side of the firmware's bit-exactness tests (`examples/firmware`).
//!
//! Both sides include the same model declarations (`examples/firmware/src/models.rs`) and the same
//! golden hashes (`examples/firmware/src/golden.rs`). Here the host computes the hash of every
//! output bit and checks it against the golden constant; the firmware, under QEMU on a Cortex-M4F,
//! checks its own outputs against the same constant. Equal hashes on both sides mean host and MCU
//! produce identical bits. Each side separately checks the outputs against Keras's numbers.
#[macro_use]
#[allow(unused_macros)]
mod parity;

#[path = "../examples/firmware/src/golden.rs"]
#[allow(dead_code)]
mod golden;
#[path = "../examples/firmware/src/models.rs"]
#[allow(dead_code)]
mod models;

use models::*;

/// Every output of `predict` over a fixture, in order.
fn outputs(inputs: &[u8], input_len: usize, predict: impl FnMut(&[f32]) -> Vec<f32>) -> Vec<f32> {
    let x = parity::read_f32(inputs);
    x.chunks_exact(input_len).flat_map(predict).collect()
}

fn hash(values: &[f32]) -> u32 {
    let mut h = golden::Fnv::new();
    values.iter().for_each(|&v| h.push(v));
    h.finish()
}

fn sine_outputs() -> Vec<f32> {
    outputs(SINE_X, 1, |x| {
        SINE.predict(&SineModel::input_from_slice(x).unwrap())
            .as_slice()
            .to_vec()
    })
}

fn digits_outputs() -> Vec<f32> {
    outputs(DIGITS_X, 64, |x| {
        DIGITS_MLP
            .predict(&DigitsMlp::input_from_slice(x).unwrap())
            .as_slice()
            .to_vec()
    })
}

fn worst_error(ours: &[f32], keras: &[u8]) -> f32 {
    let keras = parity::read_f32(keras);
    assert_eq!(ours.len(), keras.len());
    ours.iter()
        .zip(&keras)
        .map(|(&g, &w)| parity::error(g, w))
        .fold(0.0, f32::max)
}

#[test]
fn sine_matches_keras() {
    let worst = worst_error(&sine_outputs(), SINE_KERAS_Y);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn digits_mlp_matches_keras() {
    let worst = worst_error(&digits_outputs(), DIGITS_KERAS_PROBS);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn sine_bits_equal_the_firmware_golden() {
    // The golden bits are the portable kernels' (the SIMD ones fuse multiply-adds).
    static_keras::set_simd(false);
    let got = hash(&sine_outputs());
    assert_eq!(
        got,
        golden::SINE_OUTPUTS,
        "host hash 0x{got:08x}: if a kernel change meant to change bits, update SINE_OUTPUTS in \
         examples/firmware/src/golden.rs (the firmware checks the same constant)"
    );
}

#[test]
fn digits_mlp_bits_equal_the_firmware_golden() {
    // The golden bits are the portable kernels' (the SIMD ones fuse multiply-adds).
    static_keras::set_simd(false);
    let got = hash(&digits_outputs());
    assert_eq!(
        got,
        golden::DIGITS_MLP_OUTPUTS,
        "host hash 0x{got:08x}: if a kernel change meant to change bits, update \
         DIGITS_MLP_OUTPUTS in examples/firmware/src/golden.rs (the firmware checks the same \
         constant)"
    );
}

/// Built by the compiler, the static model equals the one loaded at run time.
#[test]
fn const_construction_equals_run_time_loading() {
    // Other tests of this file switch the SIMD kernels off for the whole process while this one
    // may be running: both predictions must run on the same kernels.
    static_keras::set_simd(false);
    let loaded =
        SineModel::from_le_bytes(include_bytes!("../examples/data/sine.weights.bin")).unwrap();
    for x in parity::read_f32(SINE_X) {
        let x = SineModel::input_from_slice(&[x]).unwrap();
        assert_eq!(loaded.predict(&x), SINE.predict(&x));
    }
}

fn digits_cnn_outputs() -> Vec<f32> {
    outputs(DIGITS_X, 64, |x| {
        DIGITS_CNN
            .predict(&DigitsCnn::input_from_slice(x).unwrap())
            .as_slice()
            .to_vec()
    })
}

fn sensor_outputs() -> Vec<f32> {
    outputs(SENSOR_X, 96, |x| {
        SENSOR
            .predict(&SensorNet::input_from_slice(x).unwrap())
            .as_slice()
            .to_vec()
    })
}

fn stream_outputs() -> Vec<f32> {
    let mut state = StreamState::default();
    outputs(STREAM_X, 12, |x| {
        STREAM
            .predict_stateful(&mut state, &Stream::input_from_slice(x).unwrap())
            .as_slice()
            .to_vec()
    })
}

#[test]
fn digits_cnn_matches_keras() {
    let worst = worst_error(&digits_cnn_outputs(), DIGITS_CNN_KERAS_PROBS);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn sensor_matches_keras() {
    let worst = worst_error(&sensor_outputs(), SENSOR_KERAS_Y);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn stream_matches_keras() {
    let worst = worst_error(&stream_outputs(), STREAM_KERAS_Y);
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
}

#[test]
fn cnn_sensor_and_stream_bits_equal_the_firmware_golden() {
    // The golden bits are the portable kernels' (the SIMD ones fuse multiply-adds).
    static_keras::set_simd(false);
    let mismatches: Vec<String> = [
        (
            "DIGITS_CNN_OUTPUTS",
            hash(&digits_cnn_outputs()),
            golden::DIGITS_CNN_OUTPUTS,
        ),
        (
            "SENSOR_OUTPUTS",
            hash(&sensor_outputs()),
            golden::SENSOR_OUTPUTS,
        ),
        (
            "STREAM_OUTPUTS",
            hash(&stream_outputs()),
            golden::STREAM_OUTPUTS,
        ),
    ]
    .into_iter()
    .filter(|(_, got, golden)| got != golden)
    .map(|(name, got, _)| format!("{name}: host hash 0x{got:08x}"))
    .collect();
    assert!(
        mismatches.is_empty(),
        "{}\nif a kernel change meant to change bits, update these in \
         examples/firmware/src/golden.rs (the firmware checks the same constants)",
        mismatches.join("\n")
    );
}
