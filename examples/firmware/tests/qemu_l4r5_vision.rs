//! ResNet-8 and the visual wake words MobileNetV1-0.25, which do not fit the STM32F405's RAM, on
//! the memory of an STM32L4R5 (`memory-l4r5.x`: 2 MiB flash, 640 KiB SRAM): against Keras's
//! outputs (within `1e-5 · max(1, max |y|)`) and bit for bit against the host (`src/golden.rs`,
//! checked on the host by `tests/embedded_golden.rs`). The autoencoder is in `qemu_l4r5_ad.rs`:
//! the three models' weights together (2.3 MB) do not fit one 2 MiB part.
//!
//! `cargo test --release --no-default-features --features stm32l4r5` runs this under QEMU and
//! prints `N passed, N failed`; the exit status is 0 only if every test passed.
#![no_std]
#![no_main]

use firmware::golden;
use firmware::mlperf_l4r5::*;
use firmware::{compare, hprintln, Memo, Outcome};

/// The trained ResNet-8 (mlcommons/tiny `pretrainedResnet.h5`).
fn resnet8() -> Outcome {
    static OUTCOME: Memo<Outcome> = Memo::new();
    OUTCOME.get(|| {
        let workspace = firmware::static_workspace!(Resnet8Workspace);
        compare(
            |x| RESNET8.predict_in(x, workspace),
            RESNET8_X,
            RESNET8_KERAS_Y,
        )
    })
}

fn resnet8_matches_keras() -> bool {
    let outcome = resnet8();
    outcome.matches_keras_scaled() && outcome.same_argmax == outcome.samples
}

fn resnet8_bit_exact_vs_host() -> bool {
    resnet8().bit_exact(golden::RESNET8_OUTPUTS)
}

/// MobileNetV1-0.25 for visual wake words.
fn vww() -> Outcome {
    static OUTCOME: Memo<Outcome> = Memo::new();
    OUTCOME.get(|| {
        let workspace = firmware::static_workspace!(VwwMobileNetWorkspace);
        compare(|x| VWW.predict_in(x, workspace), VWW_X, VWW_KERAS_Y)
    })
}

fn vww_matches_keras() -> bool {
    let outcome = vww();
    outcome.matches_keras_scaled() && outcome.same_argmax == outcome.samples
}

fn vww_bit_exact_vs_host() -> bool {
    vww().bit_exact(golden::VWW_OUTPUTS)
}

/// The models are `static`s built at compile time: they must sit in flash, not in RAM.
fn weights_stay_in_flash() -> bool {
    const RAM: usize = 0x2000_0000;
    let addresses = [
        core::ptr::addr_of!(RESNET8) as usize,
        core::ptr::addr_of!(VWW) as usize,
    ];
    hprintln!("    model statics at {:08x?}", addresses);
    addresses.iter().all(|&a| a < RAM)
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::run_tests(&[
        ("weights_stay_in_flash", weights_stay_in_flash),
        ("resnet8_matches_keras", resnet8_matches_keras),
        ("resnet8_bit_exact_vs_host", resnet8_bit_exact_vs_host),
        ("vww_matches_keras", vww_matches_keras),
        ("vww_bit_exact_vs_host", vww_bit_exact_vs_host),
    ])
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
