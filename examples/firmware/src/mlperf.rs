//! The MLPerf Tiny reference models, each declared from its Keras file with its weights embedded
//! (`from "…" with weights`), built by the compiler in a `static` (`Net::EMBEDDED`), so every
//! weight stays in flash.
//!
//! Their activations run in a planned workspace (`predict_in`), which the firmware keeps in a
//! `static` (`.bss`): `Net::ACTIVATION_BYTES` of RAM, fixed at compile time.
//!
//! | model | file | fits the STM32F405 (1 MiB flash, 128 KiB RAM) |
//! |---|---|---|
//! | KWS DS-CNN | `tests/fixtures/refmodels/kws_dscnn.keras` (real Keras, seeded weights) | yes |
//! | VWW MobileNetV1-0.25 | `tests/fixtures/refmodels/vww_mobilenet.keras` (same) | no: RAM |
//! | ResNet-8 | `tests/fixtures/files/real/pretrainedResnet.h5` (trained, tf.keras 2.4) | no: RAM |
//! | AD autoencoder | `tests/fixtures/files/real/ad01.h5` (trained, tf.keras 2.4) | no: flash |
//!
//! The three that do not fit run on the memory of an STM32L4R5 (Cortex-M4F, 2 MiB flash,
//! 640 KiB SRAM; `memory-l4r5.x`, cargo feature `stm32l4r5`).
//!
//! Shared verbatim with the host test `tests/embedded_golden.rs`. A `from` path is relative to
//! the manifest of the crate being built (the firmware, or the repository root for the host
//! test), so [`from_file!`] gives each side its own path to the same file; the declaration comes
//! from the file alone, so both sides get the same model.

// The compiler builds each model from up to 1 MB of weights: a long (a few seconds) const
// evaluation, which this lint would otherwise stop.
#![allow(long_running_const_eval)]

use static_keras::keras_model;

/// `keras_model! { pub struct $ident from "…" with weights; }` with the firmware's path on the
/// microcontroller and the repository root's on the host.
macro_rules! from_file {
    ($(#[doc = $doc:tt])* $ident:ident, firmware = $firmware:tt, host = $host:tt) => {
        #[cfg(target_os = "none")]
        keras_model! {
            $(#[doc = $doc])*
            pub struct $ident from $firmware with weights;
        }
        #[cfg(not(target_os = "none"))]
        keras_model! {
            $(#[doc = $doc])*
            pub struct $ident from $host with weights;
        }
    };
}

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
    /// MLPerf Tiny keyword spotting: the DS-CNN, 49×10×1 MFCC → 12 words, built by Keras 3.15.1
    /// with seeded weights (`tools/gen_refmodels.py`).
    KwsDsCnn,
    firmware = "../../tests/fixtures/refmodels/kws_dscnn.keras",
    host = "tests/fixtures/refmodels/kws_dscnn.keras"
}

/// The keyword spotter, in flash.
pub static KWS: KwsDsCnn = KwsDsCnn::EMBEDDED;
/// Seeded inputs, 49×10×1 each.
pub const KWS_X: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/kws_dscnn.x.bin");
/// Keras 3.15.1's `predict` on [`KWS_X`].
pub const KWS_KERAS_Y: &[u8] = include_bytes!("../../../tests/fixtures/refmodels/kws_dscnn.y.bin");

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
