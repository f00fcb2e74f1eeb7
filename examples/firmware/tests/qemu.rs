//! Every model on the MCU: against Keras's outputs (the parity tolerance), and bit for bit against
//! the host (`src/golden.rs`, checked on the host by `tests/embedded_golden.rs`).
//!
//! `cargo test --release` runs this under QEMU and prints `N passed, N failed`; the exit status is
//! 0 only if every test passed (1 on a failure or panic, 3 on a HardFault, 124 on a hang).
#![no_std]
#![no_main]

use firmware::golden;
use firmware::models::*;
use firmware::{compare, f32_at, hprintln, Outcome};

fn sine() -> Outcome {
    compare(|x| SINE.predict(x), SINE_X, SINE_KERAS_Y)
}

fn sine_matches_keras() -> bool {
    sine().matches_keras()
}

fn sine_bit_exact_vs_host() -> bool {
    sine().bit_exact(golden::SINE_OUTPUTS)
}

fn digits_mlp() -> Outcome {
    compare(|x| DIGITS_MLP.predict(x), DIGITS_X, DIGITS_KERAS_PROBS)
}

fn digits_mlp_matches_keras() -> bool {
    digits_mlp().matches_keras()
}

fn digits_mlp_bit_exact_vs_host() -> bool {
    digits_mlp().bit_exact(golden::DIGITS_MLP_OUTPUTS)
}

/// The same accuracy as Keras on the held-back digits (Keras: `digits_keras.txt`).
fn digits_mlp_accuracy() -> bool {
    let mut correct = 0;
    for (i, &label) in DIGITS_Y.iter().enumerate() {
        let y = DIGITS_MLP.predict(&firmware::input(DIGITS_X, i));
        let mut best = 0;
        for (j, &p) in y.iter().enumerate() {
            best = if p > y[best] { j } else { best };
        }
        correct += usize::from(best == usize::from(label));
    }
    let mut keras_correct = 0;
    for (i, &label) in DIGITS_Y.iter().enumerate() {
        let mut best = 0;
        for j in 0..10 {
            let p = |j| f32_at(DIGITS_KERAS_PROBS, 10 * i + j);
            best = if p(j) > p(best) { j } else { best };
        }
        keras_correct += usize::from(best == usize::from(label));
    }
    hprintln!(
        "    {}/{} correct, Keras {}/{}",
        correct,
        DIGITS_Y.len(),
        keras_correct,
        DIGITS_Y.len()
    );
    correct == keras_correct
}

/// The models are `static`s built at compile time: they must sit in flash, not in RAM.
fn weights_stay_in_flash() -> bool {
    const RAM: usize = 0x2000_0000;
    let sine = core::ptr::addr_of!(SINE) as usize;
    let digits = core::ptr::addr_of!(DIGITS_MLP) as usize;
    hprintln!("    SINE at 0x{:08x}, DIGITS_MLP at 0x{:08x}", sine, digits);
    sine < RAM && digits < RAM
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::run_tests(&[
        ("weights_stay_in_flash", weights_stay_in_flash),
        ("sine_matches_keras", sine_matches_keras),
        ("sine_bit_exact_vs_host", sine_bit_exact_vs_host),
        ("digits_mlp_matches_keras", digits_mlp_matches_keras),
        ("digits_mlp_accuracy", digits_mlp_accuracy),
        ("digits_mlp_bit_exact_vs_host", digits_mlp_bit_exact_vs_host),
    ])
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
