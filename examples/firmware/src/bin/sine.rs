//! One inference of the sine model, for `measure.sh`.
#![no_std]
#![no_main]

use firmware::models::{SINE, SINE_X};

static X: [f32; 1] = firmware::f32s(SINE_X, 16);
firmware::bench_main!("sine", SINE, &X);
