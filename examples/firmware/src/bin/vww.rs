//! One inference of the MLPerf Tiny visual-wake-words MobileNetV1-0.25 (96×96×3 → 2), its
//! activations in a `static` workspace, for `measure.sh`. Needs the STM32L4R5's memory (feature
//! `stm32l4r5`).
#![no_std]
#![no_main]

use firmware::mlperf_l4r5::{VwwMobileNetWorkspace, VWW, VWW_X};

static X: [f32; 96 * 96 * 3] = firmware::f32s(VWW_X, 0);
firmware::bench_main!("vww", VWW, workspace = VwwMobileNetWorkspace, &X);
