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
//! This file declares the keyword spotter; the three that do not fit are in `mlperf_l4r5.rs`,
//! built only for the memory of an STM32L4R5 (Cortex-M4F, 2 MiB flash, 640 KiB SRAM;
//! `memory-l4r5.x`, cargo feature `stm32l4r5`), where they run.
//!
//! Both files are shared verbatim with the host test `tests/embedded_golden.rs`. A `from` path
//! is relative to the manifest of the crate being built (the firmware, or the repository root for
//! the host test), so `from_file!` gives each side its own path to the same file; the
//! declaration comes from the file alone, so both sides get the same model.

// The compiler builds each model from up to 1 MB of weights: a long (a few seconds) const
// evaluation, which this lint would otherwise stop.
#![allow(long_running_const_eval)]

/// `keras_model! { pub struct $ident from "…" with weights; }` with the firmware's path on the
/// microcontroller and the repository root's on the host. (`#[macro_use]` on this module makes
/// it available to `mlperf_l4r5.rs`.)
macro_rules! from_file {
    ($(#[doc = $doc:tt])* $ident:ident, firmware = $firmware:tt, host = $host:tt) => {
        #[cfg(target_os = "none")]
        static_keras::keras_model! {
            $(#[doc = $doc])*
            pub struct $ident from $firmware with weights;
        }
        #[cfg(not(target_os = "none"))]
        static_keras::keras_model! {
            $(#[doc = $doc])*
            pub struct $ident from $host with weights;
        }
    };
}

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
