//! The training step split across threads: `train_on_batch` at batch 32 and one `fit` epoch
//! (64 samples, batches of 32) on M1 (MLP), M2 (CNN) and M3 (LSTM) with Adam and each model's
//! natural loss. Four configurations, each with its own model, trainer and rayon pool: serial
//! (one part, one thread), the batch cut into 4 chunks on 1 and on 2 threads (both compute the
//! same bits: checked), and the default trainer on 2 threads (4 chunks only for steps worth
//! splitting, `par::worth_splitting`: M1's steps are not).
//!
//! Every configuration is measured the same way in every turn, the turns interleaved: inside its
//! pool, two untimed steps first (the workers of a pool idle while the others ran are asleep,
//! and a virtual machine's idle CPU is slow to come back), then the `train_on_batch` block (5
//! steps alternating the two halves of the 64 samples) and the `fit` epoch, in an order that
//! alternates from turn to turn, so neither block is always the first. It prints medians with
//! the range over the turns, the speed-up of the medians over the serial configuration, and how
//! many chunks ran on a second thread (`par::counts`): a speed-up needs the second thread to
//! take chunks. The load average before and after tells how busy the machine was.
//!
//! ```sh
//! cd benches && cargo run --release --features parallel --example fit_threads -- 15   # turns
//! ```

use std::hint::black_box;
use std::time::Instant;

use static_keras::losses::{BinaryCrossentropy, SparseCategoricalCrossentropy};
use static_keras::optimizers::Adam;
use static_keras::train::losses::Loss;
use static_keras::train::metrics::MetricTarget;
use static_keras::train::{par, Plain, Targets, Trainable, Trainer};
use static_keras::{FitOptions, Model};
use static_keras_bench::*;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// How many times the CPUs went idle so far (Linux's cpuidle counters; 0 elsewhere): on a
/// virtual machine each is a halt of a virtual CPU, which a wake-up must bring back.
fn idle_entries() -> u64 {
    let mut total = 0;
    for cpu in 0.. {
        let dir = format!("/sys/devices/system/cpu/cpu{cpu}/cpuidle");
        if std::fs::metadata(&dir).is_err() {
            break;
        }
        for state in 0.. {
            match std::fs::read_to_string(format!("{dir}/state{state}/usage")) {
                Ok(n) => total += n.trim().parse::<u64>().unwrap_or(0),
                Err(_) => break,
            }
        }
    }
    total
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One configuration: a model of its own, its trainer, its pool.
struct Setup<'m, M: Trainable, L: Loss> {
    label: &'static str,
    pool: rayon::ThreadPool,
    trainer: Trainer<'m, M, Adam, L>,
    step: Vec<f64>,
    fit: Vec<f64>,
    /// The split calls of the blocks timed first and second in a turn.
    counts: [par::counts::Counts; 2],
    idle: u64,
}

fn weights<M: Model>(model: &M) -> Vec<u32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v.to_bits()));
        }
    });
    out
}

fn bench<M, L, Y>(name: &str, loss: impl Fn() -> L, targets: &[Y], turns: usize)
where
    M: Model + Trainable + FromKeras + Send,
    M::Grads: Send,
    M::InputElem: From4,
    M::Input: Clone + Sync,
    M::Output: Plain,
    L: Loss + Send,
    L::Target: MetricTarget,
    Y: Targets<L::Target> + Clone + Sync,
{
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let xs: Vec<M::InputElem> = read_le(&format!("{name}.x64.bin"));
    let inputs: Vec<M::Input> = xs
        .chunks_exact(in_len)
        .map(|s| M::input_from_slice(s).expect("input"))
        .collect();
    let halves = [
        (&inputs[..32], &targets[..32]),
        (&inputs[32..64], &targets[32..64]),
    ];
    let configurations = [
        ("serial", 1, Some(1)),
        ("4 parts, 1 thread", 1, Some(4)),
        ("4 parts, 2 threads", 2, Some(4)),
        ("default, 2 threads", 2, None),
    ];
    let mut models: Vec<Box<M>> = configurations.iter().map(|_| load::<M>(name)).collect();
    let mut setups: Vec<Setup<'_, M, L>> = models
        .iter_mut()
        .zip(configurations)
        .map(|(m, (label, threads, parts))| {
            let trainer = Trainer::new(&mut **m, Adam::default(), loss());
            Setup {
                label,
                pool: pool(threads),
                trainer: match parts {
                    Some(parts) => trainer.split_into(parts),
                    None => trainer,
                },
                step: Vec::new(),
                fit: Vec::new(),
                counts: Default::default(),
                idle: 0,
            }
        })
        .collect();
    let options = || FitOptions {
        batch_size: 32,
        epochs: 1,
        verbose: 0,
        ..Default::default()
    };
    let reps = 5;
    for turn in 0..=turns {
        for s in &mut setups {
            let trainer = &mut s.trainer;
            let (step, fit, counts, idle) = s.pool.install(|| {
                // Untimed: wakes the pool's threads (and sizes the workspace in turn 0).
                for (x, y) in halves {
                    black_box(trainer.train_on_batch(x, y));
                }
                let idle = idle_entries();
                let steps = |trainer: &mut Trainer<'_, M, Adam, L>| {
                    let start = Instant::now();
                    for r in 0..reps {
                        let (x, y) = halves[r % 2];
                        black_box(trainer.train_on_batch(black_box(x), y));
                    }
                    start.elapsed().as_secs_f64() / reps as f64
                };
                let fit = |trainer: &mut Trainer<'_, M, Adam, L>| {
                    let start = Instant::now();
                    black_box(trainer.fit(&inputs, targets, options()));
                    start.elapsed().as_secs_f64()
                };
                // The split calls' counts of the block timed first and of the one timed second.
                let c0 = par::counts::get();
                let (step, fit, c1) = if turn % 2 == 0 {
                    let step = steps(trainer);
                    let c1 = par::counts::get();
                    (step, fit(trainer), c1)
                } else {
                    let fit = fit(trainer);
                    let c1 = par::counts::get();
                    (steps(trainer), fit, c1)
                };
                let c2 = par::counts::get();
                let idle = idle_entries() - idle;
                (step, fit, [c1 - c0, c2 - c1], idle)
            });
            // Turn 0 is a warm-up.
            if turn > 0 {
                s.step.push(step);
                s.fit.push(fit);
                s.counts[0] = s.counts[0] + counts[0];
                s.counts[1] = s.counts[1] + counts[1];
                s.idle += idle;
            }
        }
    }
    let w: Vec<Vec<u32>> = setups
        .iter_mut()
        .map(|s| weights(s.trainer.model()))
        .collect();
    let split = par::worth_splitting(M::workspace_words(32));
    let base = median(setups[0].step.clone());
    let base_fit = median(setups[0].fit.clone());
    for s in &setups {
        let (step, fit) = (median(s.step.clone()), median(s.fit.clone()));
        let [first, second] = s.counts;
        let c = first + second;
        let share = |c: par::counts::Counts| {
            if c.chunks == 0 {
                "–".to_string()
            } else {
                format!("{:.0} %", 100.0 * c.helped as f64 / c.chunks as f64)
            }
        };
        // Steps timed: `reps` train_on_batch and the epoch's 2 per turn.
        let steps = (s.step.len() * (reps + 2)) as f64;
        println!(
            "| {name} | {} | {:.3} ({}) | {:.2}× | {:.3} ({}) | {:.2}× | {} / {} | {:.1} | {:.1} |",
            s.label,
            step * 1e3,
            range(&s.step, 1e3),
            base / step,
            fit * 1e3,
            range(&s.fit, 1e3),
            base_fit / fit,
            share(first),
            share(second),
            c.calls as f64 / steps,
            s.idle as f64 / steps,
        );
    }
    assert!(
        w[1] == w[2],
        "{name}: the 1- and 2-thread runs ended with different weights"
    );
    assert!(
        w[3] == w[if split { 1 } else { 0 }],
        "{name}: the default trainer did not train as {}",
        if split { "4 parts" } else { "serial" }
    );
}

/// The range over the turns, scaled.
fn range(v: &[f64], scale: f64) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    format!("{:.3}–{:.3}", lo * scale, hi * scale)
}

fn main() {
    let turns: usize = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(15);
    println!("load average before: {}", load_average());
    println!(
        "| model | configuration | train_on_batch(32) ms (range) | speed-up | fit 1 epoch (64) ms (range) | speed-up | chunks on a 2nd thread, first / second block | split calls / step | CPU idle entries / step |"
    );
    println!("|---|---|--:|--:|--:|--:|--:|--:|--:|");
    let classes: Vec<u32> = (0..64).map(|i| (i * 7 % 10) as u32).collect();
    bench::<M1Mlp, _, _>(
        "m1_mlp",
        SparseCategoricalCrossentropy::default,
        &classes,
        turns,
    );
    bench::<M2Cnn, _, _>(
        "m2_cnn",
        SparseCategoricalCrossentropy::default,
        &classes,
        turns,
    );
    let labels: Vec<_> = (0..64)
        .map(|i| static_keras::Tensor::<1, 1>::from_slice(&[(i % 2) as f32]))
        .collect();
    bench::<M3Lstm, _, _>("m3_lstm", BinaryCrossentropy::default, &labels, turns);
    println!("load average after: {}", load_average());
}
