//! One inference of the trained MLPerf Tiny ResNet-8 (32×32×3 → 10), its activations in a
//! `static` workspace, for `measure.sh`. Needs the STM32L4R5's memory (feature `stm32l4r5`).
#![no_std]
#![no_main]

use firmware::mlperf_l4r5::{Resnet8Workspace, RESNET8, RESNET8_X};

static X: [f32; 32 * 32 * 3] = firmware::f32s(RESNET8_X, 0);
firmware::bench_main!("resnet8", RESNET8, workspace = Resnet8Workspace, &X);
