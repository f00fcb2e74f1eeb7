//! Fine-tuning the digits CNN's Dense head: the measured window is one training step (the
//! second), the frozen Conv2D features of 16 shifted images from flash, then the head's forward,
//! backward and SGD update in RAM.
//!
//! The head, its gradients, momentum and workspace are locals of `main`, so the peak stack is
//! all the RAM training takes; static RAM stays the harness's.
#![no_std]
#![no_main]

use firmware::tune::{digits_fine_tune, weights_hash, DigitsBuffers, DIGITS_HEAD};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut head = DIGITS_HEAD;
    let mut buffers = DigitsBuffers::new();
    let mut losses = [0.0f32; 2];
    let run = digits_fine_tune(&mut head, &mut buffers, 2, |step, loss| {
        losses[step] = loss;
        if step == 0 {
            firmware::bench_begin();
        } else {
            firmware::bench_end();
        }
    });
    let stack = firmware::stack_high_water();
    if let Err(e) = run {
        let (what, a, b) = e.what();
        firmware::hprintln!("train_digits: {} {} {}", what, a, b);
        firmware::exit(1);
    }
    firmware::hprintln!("train_digits: weights fnv=0x{:08x}", weights_hash(&head));
    firmware::bench_report("train_digits", &losses, stack)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
