//! One chunk of the stateful stream (4 frames, state carried in), for `measure.sh`.
#![no_std]
#![no_main]

use firmware::models::{StreamState, STREAM, STREAM_X};

static X: [f32; 12] = firmware::f32s(STREAM_X, 0);
firmware::bench_main!(
    "stream",
    run = |x| {
        let mut state = StreamState::default();
        STREAM.predict_stateful(&mut state, x)
    },
    &X
);
