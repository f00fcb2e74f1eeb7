//! Host side of the firmware's bit-exactness tests (`examples/firmware`).
//!
//! Both sides include the same model declarations (`examples/firmware/src/models.rs`) and the same
//! golden hashes (`examples/firmware/src/golden.rs`). Here the host computes the hash of every
//! output bit and checks it against the golden constant; the firmware, under QEMU on a Cortex-M4F,
//! checks its own outputs against the same constant. Equal hashes on both sides mean host and MCU
//! produce identical bits. Each side separately checks the outputs against Keras's numbers.
//!
//! The MLPerf Tiny models (`examples/firmware/src/mlperf.rs`, `mlperf_l4r5.rs`) run in a workspace (`predict_in`),
//! boxed here and a `static` on the MCU, and are compared with Keras at the scale of each sample's
//! outputs, `|Δ| ≤ 1e-5 · max(1, max |y|)`.
#[macro_use]
#[allow(unused_macros)]
mod parity;

#[path = "../examples/firmware/src/golden.rs"]
#[allow(dead_code)]
mod golden;
#[path = "../examples/firmware/src/mlperf.rs"]
#[allow(dead_code)]
#[macro_use]
mod mlperf;
#[path = "../examples/firmware/src/mlperf_l4r5.rs"]
#[allow(dead_code)]
mod mlperf_l4r5;
#[path = "../examples/firmware/src/models.rs"]
#[allow(dead_code)]
mod models;

use mlperf::*;
use mlperf_l4r5::*;
use models::*;
use static_keras::Kernels;

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
    static_keras::kernels::with(Kernels::Portable, || {
        let got = hash(&sine_outputs());
        assert_eq!(
            got,
            golden::SINE_OUTPUTS,
            "host hash 0x{got:08x}: if a kernel change meant to change bits, update SINE_OUTPUTS \
             in examples/firmware/src/golden.rs (the firmware checks the same constant)"
        );
    })
}

#[test]
fn digits_mlp_bits_equal_the_firmware_golden() {
    // The golden bits are the portable kernels' (the SIMD ones fuse multiply-adds).
    static_keras::kernels::with(Kernels::Portable, || {
        let got = hash(&digits_outputs());
        assert_eq!(
            got,
            golden::DIGITS_MLP_OUTPUTS,
            "host hash 0x{got:08x}: if a kernel change meant to change bits, update \
             DIGITS_MLP_OUTPUTS in examples/firmware/src/golden.rs (the firmware checks the same \
             constant)"
        );
    })
}

/// Built by the compiler, the static model equals the one loaded at run time.
#[test]
fn const_construction_equals_run_time_loading() {
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
    static_keras::kernels::with(Kernels::Portable, || {
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
    })
}

/// Every output of `predict_in` over a fixture, in order, with one boxed workspace.
macro_rules! outputs_in {
    ($net:expr, $model:ty, $workspace:ty, $x:expr) => {{
        let mut workspace = <$workspace>::boxed();
        outputs($x, <$model>::INPUT_SHAPE.iter().product(), |x| {
            $net.predict_in(&<$model>::input_from_slice(x).unwrap(), &mut workspace)
                .as_slice()
                .to_vec()
        })
    }};
}

fn kws_outputs() -> Vec<f32> {
    outputs_in!(KWS, KwsDsCnn, KwsDsCnnWorkspace, KWS_X)
}

fn resnet8_outputs() -> Vec<f32> {
    outputs_in!(RESNET8, Resnet8, Resnet8Workspace, RESNET8_X)
}

fn vww_outputs() -> Vec<f32> {
    outputs_in!(VWW, VwwMobileNet, VwwMobileNetWorkspace, VWW_X)
}

fn ad01_outputs() -> Vec<f32> {
    outputs_in!(AD01, Ad01, Ad01Workspace, AD01_X)
}

/// The largest `max |Δ| / max(1, max |y|)` over the samples of `len` outputs each.
fn worst_scaled_error(ours: &[f32], keras: &[u8], len: usize) -> f32 {
    let keras = parity::read_f32(keras);
    assert_eq!(ours.len(), keras.len());
    ours.chunks_exact(len)
        .zip(keras.chunks_exact(len))
        .map(|(got, want)| {
            let scale = want.iter().fold(1.0f32, |m, w| m.max(w.abs()));
            let diff = got
                .iter()
                .zip(want)
                .fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
            diff / scale
        })
        .fold(0.0, f32::max)
}

#[test]
fn mlperf_models_match_keras() {
    let cases = [
        ("kws", kws_outputs(), KWS_KERAS_Y, 12),
        ("resnet8", resnet8_outputs(), RESNET8_KERAS_Y, 10),
        ("vww", vww_outputs(), VWW_KERAS_Y, 2),
        ("ad01", ad01_outputs(), AD01_KERAS_Y, 640),
    ];
    for (name, ours, keras, len) in cases {
        let worst = worst_scaled_error(&ours, keras, len);
        println!("{name}: worst error {worst:.2e} of max(1, max |y|)");
        assert!(worst <= parity::TOLERANCE, "{name}: worst error {worst:e}");
    }
}

/// `predict_in` (the firmware's form) computes the bits of `predict`.
#[test]
fn mlperf_predict_in_equals_predict() {
    static_keras::kernels::with(Kernels::Portable, || {
        let x = parity::read_f32(AD01_X);
        let x = Ad01::input_from_slice(&x[..640]).unwrap();
        let mut workspace = Ad01Workspace::boxed();
        assert_eq!(AD01.predict_in(&x, &mut workspace), AD01.predict(&x));
        let x = parity::read_f32(KWS_X);
        let x = KwsDsCnn::input_from_slice(&x[..490]).unwrap();
        let mut workspace = KwsDsCnnWorkspace::boxed();
        assert_eq!(KWS.predict_in(&x, &mut workspace), KWS.predict(&x));
    })
}

/// The budget the firmware's memory layouts rest on (BENCHMARKS.md, embedded): the weights in
/// flash and the planned activations in RAM, against the STM32F405's 1 MiB / 128 KiB.
#[test]
fn mlperf_weights_and_workspaces() {
    use std::mem::size_of;
    let rows = [
        (
            "kws",
            KwsDsCnn::PARAMS,
            size_of::<KwsDsCnn>(),
            KwsDsCnn::ACTIVATION_BYTES,
        ),
        (
            "resnet8",
            Resnet8::PARAMS,
            size_of::<Resnet8>(),
            Resnet8::ACTIVATION_BYTES,
        ),
        (
            "vww",
            VwwMobileNet::PARAMS,
            size_of::<VwwMobileNet>(),
            VwwMobileNet::ACTIVATION_BYTES,
        ),
        (
            "ad01",
            Ad01::PARAMS,
            size_of::<Ad01>(),
            Ad01::ACTIVATION_BYTES,
        ),
    ];
    for (name, params, bytes, activations) in rows {
        println!(
            "{name}: {params} params ({} B as f32), the model {bytes} B, activations {activations} B",
            4 * params
        );
    }
    assert_eq!(rows.map(|r| r.1), [24_908, 78_666, 221_794, 269_992]);
    // Keras's variables and, per BatchNormalization channel, the two folded factors.
    assert_eq!(rows.map(|r| r.2), [105_216, 317_312, 911_360, 1_089_024]);
    const {
        // The autoencoder's f32 weights alone exceed the STM32F405's 1 MiB of flash.
        assert!(4 * Ad01::PARAMS > 1 << 20);
        // ResNet-8's and VWW's activations alone exceed its 128 KiB of RAM; KWS's fit.
        assert!(Resnet8::ACTIVATION_BYTES > 128 << 10);
        assert!(VwwMobileNet::ACTIVATION_BYTES > 128 << 10);
        assert!(KwsDsCnn::ACTIVATION_BYTES + size_of::<[f32; 490]>() < 128 << 10);
    }
    assert_eq!(rows.map(|r| r.3), [64_000, 196_608, 221_184, 3_072]);
}

#[test]
fn mlperf_bits_equal_the_firmware_golden() {
    // The golden bits are the portable kernels' (the SIMD ones fuse multiply-adds).
    static_keras::kernels::with(Kernels::Portable, || {
        let mismatches: Vec<String> = [
            ("KWS_OUTPUTS", hash(&kws_outputs()), golden::KWS_OUTPUTS),
            (
                "RESNET8_OUTPUTS",
                hash(&resnet8_outputs()),
                golden::RESNET8_OUTPUTS,
            ),
            ("VWW_OUTPUTS", hash(&vww_outputs()), golden::VWW_OUTPUTS),
            ("AD01_OUTPUTS", hash(&ad01_outputs()), golden::AD01_OUTPUTS),
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
    })
}
