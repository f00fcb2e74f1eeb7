//! Quick timing of the convolution kernels (not a test, no assertion):
//!
//! ```sh
//! cargo run --release --example bench_digits_cnn
//! ```
//!
//! Prints the on-CPU time per sample of the digits CNN (weights trained in Keras), of a model shaped like
//! the `m2_cnn` benchmark model (random weights), and the speed per FLOP of a 3D convolution
//! against a 2D convolution of about the same FLOPs.

use std::hint::black_box;
use std::time::Instant;

use static_keras::{keras_model, Model};

keras_model! {
    struct DigitsCnn {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same"),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu"),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

keras_model! {
    struct M2Cnn {
        input_shape: (28, 28, 1),
        layers: [
            Conv2D(32, 3, activation = "relu"),
            MaxPooling2D(2),
            Conv2D(64, 3, activation = "relu"),
            MaxPooling2D(2),
            Flatten(),
            Dropout(0.5),
            Dense(10, activation = "softmax"),
        ],
    }
}

// 11·11 outputs × 64 filters × (3·3·32) taps: 2.23 M multiply-adds.
keras_model! {
    struct Conv2dLayer {
        input_shape: (13, 13, 32),
        layers: [Conv2D(64, 3)],
    }
}

// 4·5·5 outputs × 64 filters × (3·3·3·32) taps: 5.53 M multiply-adds.
keras_model! {
    struct Conv3dLayer {
        input_shape: (6, 7, 7, 32),
        layers: [Conv3D(64, 3)],
    }
}

/// Seconds this thread has run on a CPU (Linux's schedstat), or of wall time elsewhere: the
/// machines these run on are shared, and on-CPU time does not count the waits for a core.
fn clock() -> f64 {
    let on_cpu = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok());
    match on_cpu {
        Some(ns) => ns * 1e-9,
        None => {
            static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
            START.get_or_init(Instant::now).elapsed().as_secs_f64()
        }
    }
}

/// Median over rounds of the time per call, in microseconds.
fn time_per_call<M: Model>(net: &M, x: &M::Input) -> f64 {
    for _ in 0..100 {
        black_box(net.predict(black_box(x)));
    }
    // Calls per round: about 50 ms each.
    let start = clock();
    let mut calls = 0u64;
    while clock() - start < 0.05 {
        black_box(net.predict(black_box(x)));
        calls += 1;
    }
    let mut rounds: Vec<f64> = (0..11)
        .map(|_| {
            let start = clock();
            for _ in 0..calls {
                black_box(net.predict(black_box(x)));
            }
            (clock() - start) * 1e6 / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Times `a` and `b` in alternating rounds (so both see the same load on a shared machine) and
/// returns the median time per call of each, in microseconds, and the median of the per-round
/// ratios `b / a`.
fn interleaved<A: Model, B: Model>(a: &A, xa: &A::Input, b: &B, xb: &B::Input) -> (f64, f64, f64) {
    let (ta, tb) = (time_per_call(a, xa), time_per_call(b, xb));
    let calls = |t: f64| ((50_000.0 / t) as u64).max(1); // about 50 ms per round
    let (ca, cb) = (calls(ta), calls(tb));
    let mut rounds: Vec<(f64, f64)> = (0..15)
        .map(|_| {
            let start = clock();
            for _ in 0..ca {
                black_box(a.predict(black_box(xa)));
            }
            let mid = clock();
            for _ in 0..cb {
                black_box(b.predict(black_box(xb)));
            }
            let end = clock();
            (
                (mid - start) * 1e6 / ca as f64,
                (end - mid) * 1e6 / cb as f64,
            )
        })
        .collect();
    let mut ratios: Vec<f64> = rounds.iter().map(|(a, b)| b / a).collect();
    ratios.sort_by(f64::total_cmp);
    rounds.sort_by(|x, y| x.0.total_cmp(&y.0));
    let ma = rounds[rounds.len() / 2].0;
    rounds.sort_by(|x, y| x.1.total_cmp(&y.1));
    let mb = rounds[rounds.len() / 2].1;
    (ma, mb, ratios[ratios.len() / 2])
}

fn weights<M: Model>() -> Vec<u8> {
    (0..M::PARAMS)
        .flat_map(|i| (((i * 7919) % 101) as f32 / 101.0 - 0.5).to_le_bytes())
        .collect()
}

fn input<M: Model<InputElem = f32>>() -> M::Input {
    let len: usize = M::INPUT_SHAPE.iter().product();
    let values: Vec<f32> = (0..len).map(|i| ((i * 31) % 17) as f32 / 17.0).collect();
    M::input_from_slice(&values).unwrap()
}

fn main() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/");
    let bytes = std::fs::read(format!("{data}digits_cnn.weights.bin")).expect("digits_cnn weights");
    let digits = DigitsCnn::from_le_bytes(&bytes).unwrap();
    let pixels = std::fs::read(format!("{data}digits_test_x.bin")).expect("digits test images");
    let image: Vec<f32> = pixels[..64 * 4]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let x = DigitsCnn::input_from_slice(&image).unwrap();
    println!(
        "digits CNN: {:.2} µs per sample",
        time_per_call(&digits, &x)
    );

    let m2 = Box::new(M2Cnn::from_le_bytes(&weights::<M2Cnn>()).unwrap());
    let t = time_per_call(&*m2, &input::<M2Cnn>());
    println!(
        "m2_cnn shape (4.88 MFLOP): {t:.1} µs per sample, {:.2} GFLOP/s",
        4.88e6 / t / 1e3
    );

    let c2 = Box::new(Conv2dLayer::from_le_bytes(&weights::<Conv2dLayer>()).unwrap());
    let c3 = Box::new(Conv3dLayer::from_le_bytes(&weights::<Conv3dLayer>()).unwrap());
    let flops2 = 2.0 * (11 * 11 * 64 * 9 * 32) as f64;
    let flops3 = 2.0 * (4 * 5 * 5 * 64 * 27 * 32) as f64;
    let (t2, t3, ratio) = interleaved(&*c2, &input::<Conv2dLayer>(), &*c3, &input::<Conv3dLayer>());
    let (g2, g3) = (flops2 / t2 / 1e3, flops3 / t3 / 1e3);
    println!(
        "Conv2D(64, 3) on (13, 13, 32): {:.2} MFLOP in {t2:.1} µs = {g2:.2} GFLOP/s",
        flops2 / 1e6
    );
    println!(
        "Conv3D(64, 3) on (6, 7, 7, 32): {:.2} MFLOP in {t3:.1} µs = {g3:.2} GFLOP/s",
        flops3 / 1e6
    );
    println!(
        "time per FLOP, 3D / 2D: {:.2} (median of interleaved rounds)",
        ratio * flops2 / flops3
    );
}
