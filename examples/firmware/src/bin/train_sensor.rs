//! Fine-tuning the sensor model's GRU and Dense: the measured window is one training
//! step (the second), the frozen Conv1D features of 8 drifted windows from flash, then the
//! head's forward, backward through time and SGD update in RAM.
//!
//! The head, its gradients, momentum and workspace are locals of `main`, so the peak stack is
//! all the RAM training takes; static RAM stays the harness's.
#![no_std]
#![no_main]

use firmware::bench_two_steps;
use firmware::tune::{sensor_fine_tune, SensorBuffers, SENSOR_HEAD};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut head = SENSOR_HEAD;
    let mut buffers = SensorBuffers::new();
    bench_two_steps("train_sensor", &mut head, |head, steps, after_step| {
        sensor_fine_tune(head, &mut buffers, steps, after_step)
    })
}

#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    firmware::hard_fault_exit(frame)
}
