//! The trained anomaly-detection autoencoder, whose 1.08 MB of f32 weights do not fit the
//! STM32F405's 1 MiB of flash, on the memory of an STM32L4R5 (`memory-l4r5.x`: 2 MiB flash,
//! 640 KiB SRAM): against Keras's outputs (within `1e-5 · max(1, max |y|)`: its outputs reach
//! ~45) and bit for bit against the host (`src/golden.rs`, checked on the host by
//! `tests/embedded_golden.rs`).
//!
//! `cargo test --release --no-default-features --features stm32l4r5` runs this under QEMU and
//! prints `N passed, N failed`; the exit status is 0 only if every test passed.
#![no_std]
#![no_main]

use firmware::golden;
use firmware::mlperf_l4r5::*;
use firmware::{compare, hprintln, Memo, Outcome};

/// The trained anomaly-detection autoencoder (mlcommons/tiny `ad01.h5`), outputs up to ~45.
fn ad01() -> Outcome {
    static OUTCOME: Memo<Outcome> = Memo::new();
    OUTCOME.get(|| {
        let workspace = firmware::static_workspace!(Ad01Workspace);
        compare(|x| AD01.predict_in(x, workspace), AD01_X, AD01_KERAS_Y)
    })
}

fn ad01_matches_keras() -> bool {
    ad01().matches_keras_scaled()
}

fn ad01_bit_exact_vs_host() -> bool {
    ad01().bit_exact(golden::AD01_OUTPUTS)
}

/// The models are `static`s built at compile time: they must sit in flash, not in RAM.
fn weights_stay_in_flash() -> bool {
    const RAM: usize = 0x2000_0000;
    let addresses = [core::ptr::addr_of!(AD01) as usize];
    hprintln!("    model statics at {:08x?}", addresses);
    addresses.iter().all(|&a| a < RAM)
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::run_tests(&[
        ("weights_stay_in_flash", weights_stay_in_flash),
        ("ad01_matches_keras", ad01_matches_keras),
        ("ad01_bit_exact_vs_host", ad01_bit_exact_vs_host),
    ])
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
