//! The MLPerf Tiny models that do not fit the STM32F405 (see `mlperf.rs`), built only for
//! the STM32L4R5's memory (cargo feature `stm32l4r5`): ResNet-8 and the visual wake words
//! MobileNetV1 need more than its 128 KiB of RAM for their activations, the autoencoder more than
//! its 1 MiB of flash for its weights. Declared as in `mlperf.rs`, and shared verbatim with
//! the host test `tests/embedded_golden.rs` in the same way.

// The compiler builds each model from up to 1 MB of weights: a long (a few seconds) const
// evaluation, which this lint would otherwise stop.
#![allow(long_running_const_eval)]

from_file! {
    /// MLPerf Tiny image classification: ResNet-8 (`resnet_v1_eembc`, 16 filters), CIFAR-10
    /// 32×32×3 → 10, with its REAL trained weights (mlcommons/tiny `pretrainedResnet.h5`).
    Resnet8,
    firmware = "../../tests/fixtures/files/real/pretrainedResnet.h5",
    host = "tests/fixtures/files/real/pretrainedResnet.h5"
}

/// The trained ResNet-8, in flash.
pub static RESNET8: Resnet8 = Resnet8::EMBEDDED;
/// Seeded inputs, 32×32×3 each (raw little-endian f32).
pub const RESNET8_X: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/real_resnet8.x.bin");
/// Keras 3.15.1's `predict` on [`RESNET8_X`].
pub const RESNET8_KERAS_Y: &[u8] =
    include_bytes!("../../../tests/fixtures/refmodels/real_resnet8.y.bin");

from_file! {
    /// MLPerf Tiny anomaly detection: the Dense + BatchNormalization autoencoder, 640 → 640, with
    /// its REAL trained weights (mlcommons/tiny `ad01.h5`).
    Ad01,
    firmware = "../../tests/fixtures/files/real/ad01.h5",
    host = "tests/fixtures/files/real/ad01.h5"
}

/// The trained autoencoder, in flash.
pub static AD01: Ad01 = Ad01::EMBEDDED;
/// Seeded inputs, 640 values each.
pub const AD01_X: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/real_ad01.x.bin");
/// Keras 3.15.1's `predict` on [`AD01_X`].
pub const AD01_KERAS_Y: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/real_ad01.y.bin");

from_file! {
    /// MLPerf Tiny visual wake words: MobileNetV1 α = 0.25, 96×96×3 → 2, built by Keras 3.15.1
    /// with seeded weights (`tools/gen_refmodels.py`).
    VwwMobileNet,
    firmware = "../../tests/fixtures/refmodels/vww_mobilenet.keras",
    host = "tests/fixtures/refmodels/vww_mobilenet.keras"
}

/// The visual wake words model, in flash.
pub static VWW: VwwMobileNet = VwwMobileNet::EMBEDDED;
/// Seeded inputs, 96×96×3 each.
pub const VWW_X: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/vww_mobilenet.x.bin");
/// Keras 3.15.1's `predict` on [`VWW_X`].
pub const VWW_KERAS_Y: &[u8] =
    include_bytes!("../../../tests/fixtures/refmodels/vww_mobilenet.y.bin");
