//! One inference of the digits CNN, for `measure.sh`.
#![no_std]
#![no_main]

use firmware::models::{DIGITS_CNN, DIGITS_X};

static X: [f32; 64] = firmware::f32s(DIGITS_X, 0);
firmware::bench_main!("digits_cnn", DIGITS_CNN, &X);
