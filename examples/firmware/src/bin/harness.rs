//! The bench binaries without a model (the "inference" returns its input), to subtract from
//! their footprint.
#![no_std]
#![no_main]

use firmware::models::SINE_X;
use firmware::Tensor;

/// Stands in for a model.
struct Identity;

impl Identity {
    #[inline(never)]
    fn predict(&self, x: &Tensor<1, 1>) -> Tensor<1, 1> {
        *x
    }
}

static X: [f32; 1] = firmware::f32s(SINE_X, 16);
firmware::bench_main!("harness", Identity, &X);
