//! Every model that fits the STM32F405 (`memory-f405.x`) on the MCU: against Keras's outputs (the parity tolerance), and bit for bit against
//! the host (`src/golden.rs`, checked on the host by `tests/embedded_golden.rs`).
//!
//! `cargo test --release` runs this under QEMU and prints `N passed, N failed`; the exit status is
//! 0 only if every test passed (1 on a failure or panic, 3 on a HardFault, 124 on a hang).
#![no_std]
#![no_main]

use firmware::golden;
use firmware::mlperf::{KwsDsCnnWorkspace, KWS, KWS_KERAS_Y, KWS_X};
use firmware::models::*;
use firmware::{compare, f32_at, hprintln, Memo, Outcome};

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

fn digits_cnn() -> Outcome {
    compare(|x| DIGITS_CNN.predict(x), DIGITS_X, DIGITS_CNN_KERAS_PROBS)
}

fn digits_cnn_matches_keras() -> bool {
    let outcome = digits_cnn();
    // Every image gets Keras's class, so the accuracy is Keras's too.
    outcome.matches_keras() && outcome.same_argmax == outcome.samples
}

fn digits_cnn_bit_exact_vs_host() -> bool {
    digits_cnn().bit_exact(golden::DIGITS_CNN_OUTPUTS)
}

fn sensor() -> Outcome {
    compare(|x| SENSOR.predict(x), SENSOR_X, SENSOR_KERAS_Y)
}

fn sensor_matches_keras() -> bool {
    let outcome = sensor();
    outcome.matches_keras() && outcome.same_argmax == outcome.samples
}

fn sensor_bit_exact_vs_host() -> bool {
    sensor().bit_exact(golden::SENSOR_OUTPUTS)
}

/// Chunk by chunk with the state carried over, as Keras's `stateful=True` layers.
fn stream() -> Outcome {
    let mut state = StreamState::default();
    compare(
        |x| STREAM.predict_stateful(&mut state, x),
        STREAM_X,
        STREAM_KERAS_Y,
    )
}

fn stream_matches_keras() -> bool {
    stream().matches_keras()
}

fn stream_bit_exact_vs_host() -> bool {
    stream().bit_exact(golden::STREAM_OUTPUTS)
}

/// The MLPerf Tiny keyword spotter, its activations in a `static` workspace (64,000 B).
fn kws() -> Outcome {
    static OUTCOME: Memo<Outcome> = Memo::new();
    OUTCOME.get(|| {
        let workspace = firmware::static_workspace!(KwsDsCnnWorkspace);
        compare(|x| KWS.predict_in(x, workspace), KWS_X, KWS_KERAS_Y)
    })
}

fn kws_matches_keras() -> bool {
    let outcome = kws();
    outcome.matches_keras_scaled() && outcome.same_argmax == outcome.samples
}

fn kws_bit_exact_vs_host() -> bool {
    kws().bit_exact(golden::KWS_OUTPUTS)
}

/// The models are `static`s built at compile time: they must sit in flash, not in RAM.
fn weights_stay_in_flash() -> bool {
    const RAM: usize = 0x2000_0000;
    let addresses = [
        core::ptr::addr_of!(SINE) as usize,
        core::ptr::addr_of!(DIGITS_MLP) as usize,
        core::ptr::addr_of!(DIGITS_CNN) as usize,
        core::ptr::addr_of!(SENSOR) as usize,
        core::ptr::addr_of!(STREAM) as usize,
        core::ptr::addr_of!(KWS) as usize,
    ];
    hprintln!("    model statics at {:08x?}", addresses);
    addresses.iter().all(|&a| a < RAM)
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
        ("digits_cnn_matches_keras", digits_cnn_matches_keras),
        ("digits_cnn_bit_exact_vs_host", digits_cnn_bit_exact_vs_host),
        ("sensor_matches_keras", sensor_matches_keras),
        ("sensor_bit_exact_vs_host", sensor_bit_exact_vs_host),
        ("stream_matches_keras", stream_matches_keras),
        ("stream_bit_exact_vs_host", stream_bit_exact_vs_host),
        ("kws_matches_keras", kws_matches_keras),
        ("kws_bit_exact_vs_host", kws_bit_exact_vs_host),
    ])
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
