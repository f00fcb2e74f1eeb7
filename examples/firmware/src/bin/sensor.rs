//! One inference of the Conv1D → GRU sensor model, for `measure.sh`.
#![no_std]
#![no_main]

use firmware::models::{SENSOR, SENSOR_X};

static X: [f32; 96] = firmware::f32s(SENSOR_X, 0);
firmware::bench_main!("sensor", SENSOR, &X);
