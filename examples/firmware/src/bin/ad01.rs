//! One inference of the trained MLPerf Tiny anomaly-detection autoencoder (640 → 640), its
//! activations in a `static` workspace, for `measure.sh`. Needs the STM32L4R5's flash (feature
//! `stm32l4r5`).
#![no_std]
#![no_main]

use firmware::mlperf_l4r5::{Ad01Workspace, AD01, AD01_X};

static X: [f32; 640] = firmware::f32s(AD01_X, 0);
firmware::bench_main!("ad01", AD01, workspace = Ad01Workspace, &X);
