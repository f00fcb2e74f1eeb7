//! Fine-tuning on the MCU (`src/tune.rs`): each head trains in RAM on features from its frozen
//! model in flash; the loss falls, the held-back accuracy rises by the stated amount, and the
//! trained weights equal the host's bit for bit (`tests/embedded_train_golden.rs` checks the
//! same constants). The sensor head's losses and weights are also compared with Keras's.
//!
//! `cargo test --release` runs this under QEMU after `tests/qemu.rs`; it prints
//! `N passed, N failed` and exits 0 only if every test passed.
#![no_std]
#![no_main]

use core::cell::Cell;

use cortex_m::interrupt::{self, Mutex};
use firmware::tune::*;
use firmware::{error, f32_at, hprintln, TOLERANCE};
use static_keras::Model;

/// What one fine-tuning run gave; the tests after the run read it.
#[derive(Clone, Copy)]
struct Outcome {
    /// Held-back samples right before and after.
    before: usize,
    after: usize,
    /// Whether the loss fell ([`loss_fell`]).
    loss_fell: bool,
    /// [`weights_hash`] of the trained head.
    hash: u32,
    /// Whether the head trained in RAM and its frozen feature model sits in flash.
    split: bool,
    /// The sensor head only: the worst error of its step losses and weights against Keras's.
    keras_worst: f32,
}

static DIGITS: Mutex<Cell<Option<Outcome>>> = Mutex::new(Cell::new(None));
static SENSOR: Mutex<Cell<Option<Outcome>>> = Mutex::new(Cell::new(None));

const RAM: usize = 0x2000_0000;

fn in_ram<T>(value: &T) -> bool {
    value as *const T as usize >= RAM
}

fn in_flash<T>(value: &T) -> bool {
    (value as *const T as usize) < RAM
}

/// Mean losses in thousandths (printing an f32 would link about 14 KiB of float formatting).
fn print_losses(losses: &[f32], per_epoch: usize) {
    let (first, last) = first_and_last_epoch(losses, per_epoch);
    hprintln!(
        "    mean loss: first epoch {}e-3, last epoch {}e-3 (must fall below {}%)",
        (first * 1e3) as u32,
        (last * 1e3) as u32,
        (LOSS_RATIO * 100.0) as u32
    );
}

#[inline(never)]
fn digits_fine_tunes() -> bool {
    let mut head = DIGITS_HEAD;
    let mut buffers = DigitsBuffers::new();
    let before = digits_correct(&head);
    let mut losses = [0.0f32; DIGITS_STEPS];
    let run = digits_fine_tune(&mut head, &mut buffers, DIGITS_STEPS, |step, loss| {
        losses[step] = loss
    });
    if let Err(e) = run {
        let (what, a, b) = e.what();
        hprintln!("    {} {} {}", what, a, b);
        return false;
    }
    let per_epoch = DIGITS_TUNE / DIGITS_BATCH;
    let outcome = Outcome {
        before,
        after: digits_correct(&head),
        loss_fell: loss_fell(&losses, per_epoch),
        hash: weights_hash(&head),
        split: in_ram(&head) && in_ram(&buffers) && in_flash(&DIGITS_FEATURES),
        keras_worst: 0.0,
    };
    hprintln!(
        "    {} steps of {}; held-back {}/{} -> {}/{}",
        DIGITS_STEPS,
        DIGITS_BATCH,
        outcome.before,
        DIGITS_HELD_Y.len(),
        outcome.after,
        DIGITS_HELD_Y.len()
    );
    print_losses(&losses, per_epoch);
    interrupt::free(|cs| DIGITS.borrow(cs).set(Some(outcome)));
    true
}

#[inline(never)]
fn sensor_fine_tunes() -> bool {
    let mut head = SENSOR_HEAD;
    let mut buffers = SensorBuffers::new();
    let before = sensor_correct(&head);
    let mut losses = [0.0f32; SENSOR_STEPS];
    let run = sensor_fine_tune(&mut head, &mut buffers, SENSOR_STEPS, |step, loss| {
        losses[step] = loss
    });
    if let Err(e) = run {
        let (what, a, b) = e.what();
        hprintln!("    {} {} {}", what, a, b);
        return false;
    }
    let per_epoch = SENSOR_TUNE / SENSOR_BATCH;
    let mut keras_worst = 0.0f32;
    for (i, &loss) in losses.iter().enumerate() {
        keras_worst = keras_worst.max(error(loss, f32_at(SENSOR_KERAS_LOSSES, i)));
    }
    let mut at = 0;
    head.visit_layers(&mut |_, layer| {
        for v in 0..layer.variables().len() {
            layer.store_variable(v, &mut |w| {
                keras_worst = keras_worst.max(error(w, f32_at(SENSOR_KERAS_HEAD, at)));
                at += 1;
            });
        }
    });
    let outcome = Outcome {
        before,
        after: sensor_correct(&head),
        loss_fell: loss_fell(&losses, per_epoch),
        hash: weights_hash(&head),
        split: in_ram(&head) && in_ram(&buffers) && in_flash(&SENSOR_FEATURES),
        keras_worst: if at == SENSOR_KERAS_HEAD.len() / 4 {
            keras_worst
        } else {
            f32::INFINITY
        },
    };
    hprintln!(
        "    {} steps of {}; held-back {}/{} -> {}/{}",
        SENSOR_STEPS,
        SENSOR_BATCH,
        outcome.before,
        SENSOR_HELD,
        outcome.after,
        SENSOR_HELD
    );
    print_losses(&losses, per_epoch);
    interrupt::free(|cs| SENSOR.borrow(cs).set(Some(outcome)));
    true
}

fn outcome(of: &'static Mutex<Cell<Option<Outcome>>>) -> Option<Outcome> {
    let got = interrupt::free(|cs| of.borrow(cs).get());
    if got.is_none() {
        hprintln!("    the fine-tuning run failed");
    }
    got
}

fn gain(o: Outcome, min_gain: usize) -> bool {
    hprintln!(
        "    {} more right, at least {} wanted",
        o.after as isize - o.before as isize,
        min_gain
    );
    o.after >= o.before + min_gain
}

fn bit_exact(o: Outcome, golden: u32) -> bool {
    hprintln!("    fnv 0x{:08x}, host golden 0x{:08x}", o.hash, golden);
    o.hash == golden
}

fn digits_trains_in_ram_features_in_flash() -> bool {
    outcome(&DIGITS).is_some_and(|o| o.split)
}

fn digits_loss_falls() -> bool {
    outcome(&DIGITS).is_some_and(|o| o.loss_fell)
}

fn digits_accuracy_improves() -> bool {
    outcome(&DIGITS).is_some_and(|o| gain(o, DIGITS_MIN_GAIN))
}

fn digits_trained_bit_exact_vs_host() -> bool {
    outcome(&DIGITS).is_some_and(|o| bit_exact(o, DIGITS_TUNED_WEIGHTS))
}

fn sensor_trains_in_ram_features_in_flash() -> bool {
    outcome(&SENSOR).is_some_and(|o| o.split)
}

fn sensor_loss_falls() -> bool {
    outcome(&SENSOR).is_some_and(|o| o.loss_fell)
}

fn sensor_accuracy_improves() -> bool {
    outcome(&SENSOR).is_some_and(|o| gain(o, SENSOR_MIN_GAIN))
}

fn sensor_trained_bit_exact_vs_host() -> bool {
    outcome(&SENSOR).is_some_and(|o| bit_exact(o, SENSOR_TUNED_WEIGHTS))
}

fn sensor_trained_matches_keras() -> bool {
    outcome(&SENSOR).is_some_and(|o| {
        hprintln!(
            "    step losses and weights: worst error {}e-9 (tolerance {}e-9)",
            (o.keras_worst * 1e9) as u32,
            (TOLERANCE * 1e9) as u32
        );
        o.keras_worst <= TOLERANCE
    })
}

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware::run_tests(&[
        ("digits_fine_tunes", digits_fine_tunes),
        (
            "digits_trains_in_ram_features_in_flash",
            digits_trains_in_ram_features_in_flash,
        ),
        ("digits_loss_falls", digits_loss_falls),
        ("digits_accuracy_improves", digits_accuracy_improves),
        (
            "digits_trained_bit_exact_vs_host",
            digits_trained_bit_exact_vs_host,
        ),
        ("sensor_fine_tunes", sensor_fine_tunes),
        (
            "sensor_trains_in_ram_features_in_flash",
            sensor_trains_in_ram_features_in_flash,
        ),
        ("sensor_loss_falls", sensor_loss_falls),
        ("sensor_accuracy_improves", sensor_accuracy_improves),
        (
            "sensor_trained_bit_exact_vs_host",
            sensor_trained_bit_exact_vs_host,
        ),
        ("sensor_trained_matches_keras", sensor_trained_matches_keras),
    ])
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
