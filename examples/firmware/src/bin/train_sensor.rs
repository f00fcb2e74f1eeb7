//! Fine-tuning the sensor model's GRU and Dense: the measured window is one training
//! step (the second), the frozen Conv1D features of 8 drifted windows from flash, then the
//! head's forward, backward through time and SGD update in RAM.
//!
//! The head, its gradients, momentum and workspace are locals of `main`, so the peak stack is
//! all the RAM training takes; static RAM stays the harness's.
#![no_std]
#![no_main]

use firmware::tune::{sensor_fine_tune, weights_hash, SensorBuffers, SENSOR_HEAD};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut head = SENSOR_HEAD;
    let mut buffers = SensorBuffers::new();
    let mut losses = [0.0f32; 2];
    let run = sensor_fine_tune(&mut head, &mut buffers, 2, |step, loss| {
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
        firmware::hprintln!("train_sensor: {} {} {}", what, a, b);
        firmware::exit(1);
    }
    firmware::hprintln!("train_sensor: weights fnv=0x{:08x}", weights_hash(&head));
    firmware::bench_report("train_sensor", &losses, stack)
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
