//! Single-thread training speed of M1–M5: the time of one `train_on_batch` step at batch 32 with
//! Adam (Keras's defaults, learning rate 1e-3) and each model's natural loss.
//!
//! ```sh
//! cd benches && taskset -c 1 cargo bench --bench train            # M1–M5
//! cd benches && cargo bench --bench train -- m2_cnn               # models whose name contains m2_cnn
//! ```
//!
//! The batch is the first 32 of the shipped inputs (`NAME.x64.bin`); the targets are class ids
//! `(7·i + 3) mod classes` for sample `i` (`train_label`; `tools/bench_peers.py --train` uses the
//! same). Losses: sparse categorical cross-entropy for the softmax classifiers (M1, M2, M5),
//! binary cross-entropy for the one-unit sigmoid outputs (M3, M4), with 0/1 targets.
//!
//! Before timing, each model takes `CHECK_STEPS` steps from Keras's weights (M2 with its
//! Dropout's rate set to 0, so that no random mask enters): the losses are printed, and with
//! `STATIC_KERAS_TRAIN_CHECK=DIR` the weights after those steps are written to
//! `DIR/NAME.w5.bin` (f32, Keras's `model.weights` order) for `tools/bench_peers.py --train` to
//! compare with Keras's. Timing then runs on a fresh copy of the model (Dropout as declared):
//! rounds of blocks of about `BLOCK_MS` of steps, on-CPU time of this thread; reported is the
//! median time per step over the rounds and the inter-quartile range. GFLOP/s counts a training
//! step as 3× the manifest's forward FLOPs per sample (forward, the input gradient and the
//! weight gradient each cost one forward's multiply-adds) × 32 samples; the loss, the
//! activations' derivatives and the optimizer are not counted.

use std::hint::black_box;

use static_keras::losses::{BinaryCrossentropy, Loss, SparseCategoricalCrossentropy};
use static_keras::metrics::MetricTarget;
use static_keras::optimizers::Adam;
use static_keras::train::{Targets, Trainable, Trainer};
use static_keras::Model;
use static_keras_bench::*;

const BATCH: usize = 32;
const ROUNDS: usize = 15;
const BLOCK_MS: f64 = 100.0;
/// Steps before the weights are compared with Keras's.
const CHECK_STEPS: usize = 5;

struct Row {
    model: &'static str,
    step: (f64, f64, f64),
    flops: f64,
}

/// The first `BATCH` inputs of `NAME.x64.bin`.
fn batch_inputs<M: Model>(name: &str) -> Vec<M::Input>
where
    M::InputElem: From4,
{
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let xs: Vec<M::InputElem> = read_le(&format!("{name}.x64.bin"));
    xs.chunks_exact(in_len)
        .take(BATCH)
        .map(|s| M::input_from_slice(s).expect("input"))
        .collect()
}

fn bench_train<M, L, Y>(
    name: &'static str,
    loss: L,
    targets: &[Y],
    check_prep: impl FnOnce(&mut M),
    rows: &mut Vec<Row>,
) where
    M: Trainable + FromKeras,
    M::InputElem: From4,
    L: Loss + Clone,
    L::Target: MetricTarget,
    Y: Targets<L::Target>,
{
    let inputs = batch_inputs::<M>(name);
    assert_eq!(inputs.len(), BATCH);
    assert_eq!(targets.len(), BATCH);

    // The check: CHECK_STEPS steps from Keras's weights, without random masks.
    let mut model = load::<M>(name);
    check_prep(&mut model);
    let mut losses = Vec::new();
    {
        let mut trainer = Trainer::new(&mut *model, Adam::default(), loss.clone());
        for _ in 0..CHECK_STEPS {
            losses.push(trainer.train_on_batch(&inputs, targets));
        }
    }
    let weights = flat_weights(&*model);
    assert!(
        weights.iter().all(|w| w.is_finite()),
        "{name}: a weight is not finite after {CHECK_STEPS} steps"
    );
    println!("{name}: losses of the first {CHECK_STEPS} steps {losses:?}");
    if let Some(dir) = std::env::var_os("STATIC_KERAS_TRAIN_CHECK") {
        let path = std::path::Path::new(&dir).join(format!("{name}.w{CHECK_STEPS}.bin"));
        let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
        std::fs::write(&path, bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    // Timing, on a fresh model as declared.
    let mut model = load::<M>(name);
    let mut trainer = Trainer::new(&mut *model, Adam::default(), loss);
    let mut step = || {
        black_box(trainer.train_on_batch(black_box(&inputs), targets));
    };
    let t0 = thread_seconds();
    let mut n = 0usize;
    while thread_seconds() - t0 < 0.2 {
        step();
        n += 1;
    }
    let calls = ((BLOCK_MS * 1e-3 / ((thread_seconds() - t0) / n as f64)).ceil() as usize).max(1);
    let mut per_step = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t0 = thread_seconds();
        for _ in 0..calls {
            step();
        }
        per_step.push((thread_seconds() - t0) / calls as f64 * 1e3);
    }
    // Tiny gradients make Adam's `g²` and its slots subnormal, which x86 computes slowly (a
    // microcode assist per operation); XLA flushes subnormals to zero, this library does not.
    let (mut tiny, mut total) = (0usize, 0usize);
    M::grads_in_keras_order(trainer.grads(), &mut |g| {
        total += 1;
        tiny += usize::from(g != 0.0 && g.abs() < 1.1e-19);
    });
    let (q1, q3) = quartiles(&mut per_step);
    let ms = median(&mut per_step);
    let flops = 3.0 * manifest_flops(name) * BATCH as f64;
    println!(
        "{name} batch {BATCH}: train_on_batch {ms:.3} ms/step [{q1:.3}–{q3:.3}] ({:.1} GFLOP/s \
         at 3× the forward FLOPs); after {} steps, {tiny} of {total} gradients are nonzero \
         with a subnormal square",
        flops / ms * 1e-6,
        n + calls * ROUNDS,
    );
    rows.push(Row {
        model: name,
        step: (ms, q1, q3),
        flops,
    });
}

fn main() {
    // `cargo bench --bench train -- FILTER`; cargo also passes `--bench`.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let labels =
        |classes: usize| -> Vec<u32> { (0..BATCH).map(|i| train_label(i, classes)).collect() };
    let scce = SparseCategoricalCrossentropy::default;
    let mut rows = Vec::new();
    if wanted("m1_mlp") {
        bench_train::<M1Mlp, _, _>("m1_mlp", scce(), &labels(10), |_| {}, &mut rows);
    }
    if wanted("m2_cnn") {
        let no_masks = |m: &mut M2Cnn| m.dropout.rate = 0.0;
        bench_train::<M2Cnn, _, _>("m2_cnn", scce(), &labels(10), no_masks, &mut rows);
    }
    if wanted("m3_lstm") {
        let ys: Vec<_> = labels(2)
            .iter()
            .map(|&c| M3Lstm::output_from_slice(&[c as f32]).expect("target"))
            .collect();
        let bce = BinaryCrossentropy::default();
        bench_train::<M3Lstm, _, _>("m3_lstm", bce, &ys, |_| {}, &mut rows);
    }
    if wanted("m4_gru") {
        let ys: Vec<_> = labels(2)
            .iter()
            .map(|&c| M4Gru::output_from_slice(&[c as f32]).expect("target"))
            .collect();
        let bce = BinaryCrossentropy::default();
        bench_train::<M4Gru, _, _>("m4_gru", bce, &ys, |_| {}, &mut rows);
    }
    if wanted("m5_conv1d") {
        bench_train::<M5Conv1d, _, _>("m5_conv1d", scce(), &labels(4), |_| {}, &mut rows);
    }
    println!();
    println!("| model | batch | train_on_batch ms/step | q1 | q3 | GFLOP/s |");
    println!("|---|--:|--:|--:|--:|--:|");
    for r in &rows {
        println!(
            "| {} | {BATCH} | {:.4} | {:.4} | {:.4} | {:.1} |",
            r.model,
            r.step.0,
            r.step.1,
            r.step.2,
            r.flops / r.step.0 * 1e-6
        );
    }
}
