//! One inference of the MLPerf Tiny keyword-spotting DS-CNN (49×10×1 → 12), its activations in a
//! `static` workspace, for `measure.sh`. Fits the STM32F405.
#![no_std]
#![no_main]

use firmware::mlperf::{KwsDsCnnWorkspace, KWS, KWS_X};

static X: [f32; 49 * 10] = firmware::f32s(KWS_X, 0);
firmware::bench_main!("kws", KWS, workspace = KwsDsCnnWorkspace, &X);
