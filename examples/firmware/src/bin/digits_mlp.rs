//! One inference of the digits MLP, for `measure.sh`.
#![no_std]
#![no_main]

use firmware::models::{DIGITS_MLP, DIGITS_X};

static X: [f32; 64] = firmware::f32s(DIGITS_X, 0);
firmware::bench_main!("digits_mlp", DIGITS_MLP, &X);
