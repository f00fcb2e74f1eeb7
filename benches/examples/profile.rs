//! Runs one benchmark model's `predict` (or `predict_batch` over its 64 inputs) in a loop, and
//! nothing else: a target for `perf record` or `valgrind --tool=callgrind`.
//!
//! ```sh
//! cd benches && cargo run --release --example profile -- m6_conv3d 1 3   # model, batch, seconds
//! ```

use std::hint::black_box;

use static_keras::{Model, Planned};
use static_keras_bench::*;

/// Seconds this thread has run on a CPU (a wait for the core is not counted).
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn run<M: Model + Planned + FromKeras>(name: &str, batch: usize, seconds: f64)
where
    M::InputElem: From4,
{
    let model = load::<M>(name);
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let xs: Vec<M::InputElem> = read_le(&format!("{name}.x{batch}.bin"));
    let inputs: Vec<M::Input> = xs
        .chunks_exact(in_len)
        .map(|s| M::input_from_slice(s).expect("input"))
        .collect();
    let mut outputs: Vec<M::Output> = inputs.iter().map(|x| model.predict(x)).collect();
    // As the benchmark times it: `predict_in` with one workspace where `predict` would make one
    // at every call.
    let mut workspace = M::boxed_workspace();
    let start = cpu_seconds();
    let mut calls = 0u64;
    while cpu_seconds() - start < seconds {
        for _ in 0..10 {
            if batch == 1 {
                if M::PREDICT_MAKES_WORKSPACE {
                    black_box(model.predict_in(black_box(&inputs[0]), &mut workspace));
                } else {
                    black_box(model.predict(black_box(&inputs[0])));
                }
            } else {
                model.predict_batch(black_box(&inputs), &mut outputs);
                black_box(&outputs);
            }
        }
        calls += 10;
    }
    let per_sample = (cpu_seconds() - start) / (calls as f64 * batch as f64);
    println!(
        "{name} batch {batch}: {:.2} µs per sample (on-CPU time)",
        per_sample * 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("m2_cnn");
    let batch: usize = args.get(1).and_then(|b| b.parse().ok()).unwrap_or(1);
    let seconds: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3.0);
    match name {
        "m1_mlp" => run::<M1Mlp>(name, batch, seconds),
        "m2_cnn" => run::<M2Cnn>(name, batch, seconds),
        "m3_lstm" => run::<M3Lstm>(name, batch, seconds),
        "m4_gru" => run::<M4Gru>(name, batch, seconds),
        "m5_conv1d" => run::<M5Conv1d>(name, batch, seconds),
        "m6_conv3d" => run::<M6Conv3d>(name, batch, seconds),
        "m7_resnet8" => run::<M7Resnet8>(name, batch, seconds),
        "m8_mbv2" => run::<M8Mbv2>(name, batch, seconds),
        "m9_dscnn" => run::<M9Dscnn>(name, batch, seconds),
        "m10_ad" => run::<M10Ad>(name, batch, seconds),
        _ => panic!("unknown model {name}: m1_mlp … m10_ad"),
    }
}
