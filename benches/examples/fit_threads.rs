//! The training step split across threads: `train_on_batch` at batch 32 and one `fit` epoch
//! (64 samples, batches of 32) on M1 (MLP), M2 (CNN) and M3 (LSTM) with Adam and each model's
//! natural loss, on rayon pools of 1 and 2 threads, the batch cut into the trainer's default 4
//! chunks (so both pools compute the same bits: checked), beside the serial step (no chunks,
//! one thread). Wall-clock medians of interleaved turns; the load average before and after
//! tells how busy the machine was.
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
use static_keras::train::{Plain, Targets, Trainable, Trainer};
use static_keras::{FitOptions, Model};
use static_keras_bench::*;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
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
    let (batch, ys) = (&inputs[..32], &targets[..32]);
    let mut models: Vec<Box<M>> = (0..3).map(|_| load::<M>(name)).collect();
    let mut setups: Vec<Setup<'_, M, L>> = models
        .iter_mut()
        .zip([("serial", 1, 1), ("1 thread", 1, 4), ("2 threads", 2, 4)])
        .map(|(m, (label, threads, parts))| Setup {
            label,
            pool: pool(threads),
            trainer: Trainer::new(&mut **m, Adam::default(), loss()).split_into(parts),
            step: Vec::new(),
            fit: Vec::new(),
        })
        .collect();
    let options = || FitOptions {
        batch_size: 32,
        epochs: 1,
        verbose: 0,
        ..Default::default()
    };
    // Warm up (sizes the workspaces), then interleave the configurations turn by turn.
    for s in &mut setups {
        let trainer = &mut s.trainer;
        s.pool.install(|| {
            trainer.train_on_batch(batch, ys);
            trainer.fit(&inputs, targets, options());
        });
    }
    let reps = 5;
    for _ in 0..turns {
        for s in &mut setups {
            let trainer = &mut s.trainer;
            let (step, fit) = s.pool.install(|| {
                let start = Instant::now();
                for _ in 0..reps {
                    black_box(trainer.train_on_batch(black_box(batch), ys));
                }
                let step = start.elapsed().as_secs_f64() / reps as f64;
                let start = Instant::now();
                black_box(trainer.fit(&inputs, targets, options()));
                (step, start.elapsed().as_secs_f64())
            });
            s.step.push(step);
            s.fit.push(fit);
        }
    }
    let same = {
        let w: Vec<Vec<u32>> = setups
            .iter_mut()
            .map(|s| weights(s.trainer.model()))
            .collect();
        w[1] == w[2]
    };
    let base = median(setups[1].step.clone());
    let base_fit = median(setups[1].fit.clone());
    for s in &setups {
        let (step, fit) = (median(s.step.clone()), median(s.fit.clone()));
        println!(
            "| {name} | {} | {:.3} | {:.2}× | {:.3} | {:.2}× |",
            s.label,
            step * 1e3,
            base / step,
            fit * 1e3,
            base_fit / fit
        );
    }
    assert!(
        same,
        "{name}: the 1- and 2-thread runs ended with different weights"
    );
}

fn main() {
    let turns: usize = std::env::args()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap_or(15);
    println!("load average before: {}", load_average());
    println!(
        "| model | pool | train_on_batch(32) ms | speed-up | fit 1 epoch (64) ms | speed-up |"
    );
    println!("|---|---|--:|--:|--:|--:|");
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
