//! Fine-tuning the digits CNN's Dense head: the measured window is one training step (the
//! second), the frozen Conv2D features of 16 shifted images from flash, then the head's forward,
//! backward and SGD update in RAM.
//!
//! The head, its gradients, momentum and workspace are locals of `main`, so the peak stack is
//! all the RAM training takes; static RAM stays the harness's.
#![no_std]
#![no_main]

use firmware::bench_two_steps;
use firmware::tune::{digits_fine_tune, DigitsBuffers, DIGITS_HEAD};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut head = DIGITS_HEAD;
    let mut buffers = DigitsBuffers::new();
    bench_two_steps("train_digits", &mut head, |head, steps, after_step| {
        digits_fine_tune(head, &mut buffers, steps, after_step)
    })
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
