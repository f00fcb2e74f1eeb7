//! Speed of M1–M10 against tract, measured side by side in one process: one thread, or with
//! `STATIC_KERAS_BENCH_THREADS=2` and `--features parallel`, `predict_batch` on two.
//!
//! ```sh
//! cd benches && taskset -c 1 cargo bench            # every model, batch 1 and 64
//! cd benches && cargo bench -- m2_cnn               # models whose name contains m2_cnn
//! cd benches && STATIC_KERAS_BENCH_THREADS=2 RAYON_NUM_THREADS=2 cargo bench --features parallel
//! cd benches && STATIC_KERAS_BENCH_KERNELS=avx2 taskset -c 1 cargo bench   # AVX2 + FMA at most
//! ```
//!
//! Before timing, every engine's outputs are checked against Keras's (`NAME.y1.bin`,
//! `NAME.y64.bin`). Timing interleaves the engines: each round runs a block of about
//! `BLOCK_MS` of calls of each engine in turn, on-CPU time of this thread (the machines are
//! shared; a wait for a core is not counted), or wall-clock time with several threads.
//! Reported: the median per-sample time over the rounds and the spread (inter-quartile range),
//! and the median of the per-round ratios. tract runs one thread either way (its multi-threaded
//! matrix products need tract-linalg's `multithread-mm` feature, not built here).

use std::hint::black_box;

use static_keras::kernels::{self, Kernels};
use static_keras::{Model, Planned};
use static_keras_bench::*;
use tract_onnx::prelude::*;

const ROUNDS: usize = 15;
const BLOCK_MS: f64 = 60.0;

/// Threads the engines may use (`STATIC_KERAS_BENCH_THREADS`, default 1). Above 1, blocks are
/// timed in wall-clock time (a thread's CPU time would miss the other threads' work), and
/// `predict_batch` splits the batch over rayon's pool when the benchmark is built with
/// `--features parallel` (`RAYON_NUM_THREADS` sets the pool's size).
fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("STATIC_KERAS_BENCH_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n >= 1)
            .unwrap_or(1)
    })
}

/// The kernels static-keras runs (`STATIC_KERAS_BENCH_KERNELS`: `fastest`, the default, `avx2`
/// for what an AVX2-only x86 CPU runs, or `portable`).
fn kernels() -> Kernels {
    match std::env::var("STATIC_KERAS_BENCH_KERNELS").as_deref() {
        Err(_) | Ok("fastest") => Kernels::Fastest,
        Ok("avx2") => Kernels::Avx2,
        Ok("portable") => Kernels::Portable,
        Ok(other) => panic!("STATIC_KERAS_BENCH_KERNELS={other}: fastest, avx2 or portable"),
    }
}

/// The clock blocks are timed with: this thread's CPU time on one thread ([`cpu_clock`]), wall
/// time on several.
fn clock() -> f64 {
    if threads() > 1 {
        wall_clock()
    } else {
        cpu_clock()
    }
}

/// Wall-clock seconds since the first call.
fn wall_clock() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Seconds this thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`, nanosecond resolution; a wait
/// for the core is not counted). `/proc/thread-self/schedstat` would be coarser: some kernels
/// update it only at the scheduler tick (4 ms), a large error on a 60 ms block.
#[cfg(unix)]
fn cpu_clock() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant POSIX defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Wall-clock seconds where there is no per-thread CPU clock.
#[cfg(not(unix))]
fn cpu_clock() -> f64 {
    wall_clock()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (v[n / 4], v[(3 * n) / 4])
}

/// One engine under test: runs one call (a batch of `samples` samples).
struct Engine<'a> {
    name: &'static str,
    samples: usize,
    run: Box<dyn FnMut() + 'a>,
}

/// Per-sample seconds of each engine, one value per round, interleaved.
fn measure(engines: &mut [Engine]) -> Vec<Vec<f64>> {
    // Calibrate: calls per block, after a warm-up.
    let mut calls = Vec::new();
    for e in engines.iter_mut() {
        let t0 = clock();
        let mut n = 0usize;
        while clock() - t0 < 0.05 {
            (e.run)();
            n += 1;
        }
        let per_call = (clock() - t0) / n as f64;
        calls.push(((BLOCK_MS * 1e-3 / per_call).ceil() as usize).max(1));
    }
    let mut per_sample = vec![Vec::new(); engines.len()];
    for _ in 0..ROUNDS {
        for (k, e) in engines.iter_mut().enumerate() {
            let t0 = clock();
            for _ in 0..calls[k] {
                (e.run)();
            }
            let dt = clock() - t0;
            per_sample[k].push(dt / (calls[k] * e.samples) as f64);
        }
    }
    per_sample
}

/// A tract plan for the ONNX model with the batch size fixed, and its state.
fn tract_plan(name: &str, shape: &[usize], ids: bool) -> TypedSimpleState {
    let path = models_dir().join(format!("{name}.onnx"));
    assert!(path.exists(), "missing benchmark model {}", path.display());
    let fact = if ids {
        i32::fact(shape).into()
    } else {
        f32::fact(shape).into()
    };
    let plan = tract_onnx::onnx()
        .model_for_path(&path)
        .and_then(|m| m.with_input_fact(0, fact))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load {}: {e:?}", path.display()));
    plan.spawn().expect("tract state")
}

fn tract_input(name: &str, batch: usize, shape: &[usize], ids: bool) -> TValue {
    let file = format!("{name}.x{batch}.bin");
    let t = if ids {
        let v: Vec<u32> = read_le(&file);
        let v: Vec<i32> = v.into_iter().map(|x| x as i32).collect();
        Tensor::from_shape(shape, &v)
    } else {
        Tensor::from_shape(shape, &read_le::<f32>(&file))
    };
    t.expect("input shape").into_tvalue()
}

fn tract_run(state: &mut TypedSimpleState, input: &TValue) -> TVec<TValue> {
    state.run(tvec![input.clone()]).expect("tract run")
}

fn tract_output(out: &TVec<TValue>) -> Vec<f32> {
    let view = out[0].to_plain_array_view::<f32>().expect("f32 output");
    view.iter().copied().collect()
}

struct Row {
    model: &'static str,
    batch: usize,
    ours: (f64, f64, f64),
    tract: (f64, f64, f64),
    ratio: f64,
    flops: f64,
}

fn bench_model<M>(name: &'static str, model: &M, rows: &mut Vec<Row>)
where
    M: Model + Planned + Sync,
    M::InputElem: From4,
    M::Input: Sync,
    M::Output: Clone + Send,
{
    let ids = M::InputElem::TOKEN_ID;
    let flops = manifest_flops(name);
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    for batch in [1usize, 64] {
        let xs: Vec<M::InputElem> = read_le(&format!("{name}.x{batch}.bin"));
        let want: Vec<f32> = read_le(&format!("{name}.y{batch}.bin"));
        let inputs: Vec<M::Input> = xs
            .chunks_exact(in_len)
            .map(|s| M::input_from_slice(s).expect("input"))
            .collect();
        assert_eq!(inputs.len(), batch);
        let mut outputs: Vec<M::Output> = kernels::with(kernels(), || {
            inputs.iter().map(|x| model.predict(x)).collect()
        });
        let flat = |outputs: &[M::Output]| {
            let mut flat = vec![0.0; M::OUTPUT_LEN * batch];
            for (o, chunk) in outputs.iter().zip(flat.chunks_exact_mut(M::OUTPUT_LEN)) {
                M::output_to_slice(o, chunk);
            }
            flat
        };
        let err = model_error(name, &flat(&outputs), &want, M::OUTPUT_LEN);
        assert!(
            err <= 1e-5,
            "{name} batch {batch}: predict differs from Keras by {err}"
        );
        kernels::with(kernels(), || model.predict_batch(&inputs, &mut outputs));
        let err_batch = model_error(name, &flat(&outputs), &want, M::OUTPUT_LEN);
        assert!(
            err_batch <= 1e-5,
            "{name} batch {batch}: predict_batch differs from Keras by {err_batch}"
        );

        let mut shape = vec![batch];
        shape.extend_from_slice(M::INPUT_SHAPE);
        let mut state = tract_plan(name, &shape, ids);
        let tin = tract_input(name, batch, &shape, ids);
        let terr = model_error(
            name,
            &tract_output(&tract_run(&mut state, &tin)),
            &want,
            M::OUTPUT_LEN,
        );
        assert!(
            terr <= 1e-4,
            "{name} batch {batch}: tract differs from Keras by {terr}"
        );
        println!(
            "{name} batch {batch}: max error vs Keras: predict {err:.1e}, predict_batch \
             {err_batch:.1e}, tract {terr:.1e}"
        );

        let mut engines = if batch == 1 {
            let x = &inputs[0];
            // A model whose `predict` makes and zeroes a workspace at every call runs as a
            // server would run it: `predict_in`, with one workspace kept between calls (as
            // onnxruntime and tract keep their buffers). Same bits as `predict`.
            let ours: Box<dyn FnMut() + '_> = if M::PREDICT_MAKES_WORKSPACE {
                let mut workspace = M::boxed_workspace();
                let y = model.predict_in(x, &mut workspace);
                let err = model_error(name, &flat(std::slice::from_ref(&y)), &want, M::OUTPUT_LEN);
                assert!(
                    err <= 1e-5,
                    "{name}: predict_in differs from Keras by {err}"
                );
                Box::new(move || {
                    kernels::with(kernels(), || {
                        black_box(model.predict_in(black_box(x), &mut workspace))
                    });
                })
            } else {
                Box::new(move || {
                    kernels::with(kernels(), || black_box(model.predict(black_box(x))));
                })
            };
            vec![
                Engine {
                    name: "static-keras",
                    samples: 1,
                    run: ours,
                },
                Engine {
                    name: "tract",
                    samples: 1,
                    run: Box::new(|| {
                        black_box(tract_run(&mut state, &tin));
                    }),
                },
            ]
        } else {
            let inputs = &inputs;
            let outputs = &mut outputs;
            vec![
                Engine {
                    name: "static-keras",
                    samples: batch,
                    run: Box::new(move || {
                        kernels::with(kernels(), || {
                            model.predict_batch(black_box(inputs), outputs)
                        });
                        black_box(&outputs);
                    }),
                },
                Engine {
                    name: "tract",
                    samples: batch,
                    run: Box::new(|| {
                        black_box(tract_run(&mut state, &tin));
                    }),
                },
            ]
        };
        let mut times = measure(&mut engines);
        let mut ratios: Vec<f64> = times[0].iter().zip(&times[1]).map(|(a, b)| a / b).collect();
        let stats = |v: &mut Vec<f64>| {
            let (q1, q3) = quartiles(v);
            (median(v) * 1e6, q1 * 1e6, q3 * 1e6)
        };
        let (ours, tract) = (stats(&mut times[0]), stats(&mut times[1]));
        let ratio = median(&mut ratios);
        println!(
            "{name} batch {batch}: {} {:.2} µs [{:.2}–{:.2}], {} {:.2} µs [{:.2}–{:.2}], \
             ratio {ratio:.3} ({:.1} GFLOP/s)",
            engines[0].name,
            ours.0,
            ours.1,
            ours.2,
            engines[1].name,
            tract.0,
            tract.1,
            tract.2,
            flops / ours.0 * 1e-3,
        );
        rows.push(Row {
            model: name,
            batch,
            ours,
            tract,
            ratio,
            flops,
        });
    }
}

fn main() {
    // `cargo bench -- FILTER`; cargo also passes `--bench`.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let mut rows = Vec::new();
    macro_rules! bench {
        ($($name:literal: $ty:ty),* $(,)?) => {$(
            if wanted($name) {
                bench_model($name, &*load::<$ty>($name), &mut rows);
            }
        )*};
    }
    bench!(
        "m1_mlp": M1Mlp,
        "m2_cnn": M2Cnn,
        "m3_lstm": M3Lstm,
        "m4_gru": M4Gru,
        "m5_conv1d": M5Conv1d,
        "m6_conv3d": M6Conv3d,
        "m7_resnet8": M7Resnet8,
        "m8_mbv2": M8Mbv2,
        "m9_dscnn": M9Dscnn,
        "m10_ad": M10Ad,
    );
    println!();
    println!("| model | batch | static-keras µs/sample | tract µs/sample | ratio | GFLOP/s |");
    println!("|---|--:|--:|--:|--:|--:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
            r.model,
            r.batch,
            r.ours.0,
            r.tract.0,
            r.ratio,
            r.flops / r.ours.0 * 1e-3
        );
    }
}
