//! `predict_batch` split across threads (feature `parallel`): a batch with enough work is cut
//! into one part per thread, and every sample's output is the same bit for bit on pools of 1, 2
//! and 3 threads, and within 1e-5 of `predict` on that sample (a batch's products sum in
//! another order than one sample's). Without the feature the same checks run on the serial
//! loop.

use static_keras::{keras_model, Model};

keras_model! {
    /// About 1.5 million multiply-adds a sample: 33 samples are worth 23 parts of
    /// `SPLIT_MIN_MACS`, so 2 and 3 threads each take a part. Its activations make
    /// `predict_batch` run chunks of 2 samples: the parts are 18 + 15 and 12 + 12 + 9 samples,
    /// where parts of 17 and 11 would pair the samples unlike the serial run (and did: the
    /// outputs then differed).
    pub struct Cnn {
        input_shape: (32, 32, 8),
        layers: [
            Conv2D(16, 3, padding = "same", activation = "relu"),
            MaxPooling2D(2),
            Conv2D(8, 3, activation = "tanh"),
            Flatten(),
            Dense(5, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// About 10^4 multiply-adds a sample: never split.
    pub struct Mlp {
        input_shape: (64,),
        layers: [Dense(128, activation = "relu"), Dense(10)],
    }
}

keras_model! {
    /// Activations too big for one stack binding each (`predict` runs in a planned workspace),
    /// about 4.7 million multiply-adds a sample: `predict_batch` gives each part one workspace.
    pub struct Big {
        input_shape: (32, 32, 8),
        layers: [
            Conv2D(64, 3, padding = "same", activation = "relu"),
            Conv2D(64, 1, activation = "relu"),
            GlobalAveragePooling2D(),
            Dense(3),
        ],
    }
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i + seed) * 7919 % 1013) as f32 / 1013.0 - 0.5) * 1.7)
        .collect()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// `predict_batch` over `inputs` on pools of 1, 2 and 3 threads: the same bits on each, and
/// within 1e-5 of `predict` sample by sample (`values` lists an output's values).
fn check<M>(model: &M, inputs: &[M::Input], values: fn(&M::Output) -> Vec<f32>)
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Send + Clone,
{
    let bits =
        |ys: &[M::Output]| -> Vec<u32> { ys.iter().flat_map(values).map(f32::to_bits).collect() };
    let batch = |threads: usize| {
        let mut outputs = vec![model.predict(&inputs[0]); inputs.len()];
        pool(threads).install(|| model.predict_batch(inputs, &mut outputs));
        outputs
    };
    let serial = batch(1);
    for (s, (x, y)) in inputs.iter().zip(&serial).enumerate() {
        for (a, b) in values(&model.predict(x)).into_iter().zip(values(y)) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "sample {s}: predict {a}, predict_batch {b}"
            );
        }
    }
    for threads in [2, 3] {
        assert!(
            bits(&batch(threads)) == bits(&serial),
            "{threads} threads: the outputs differ from one thread's"
        );
    }
}

#[test]
fn a_split_batch_gives_every_sample_predicts_bits() {
    let cnn = Cnn::init(3);
    let inputs: Vec<_> = values(32 * 32 * 8 * 33, 5)
        .chunks(32 * 32 * 8)
        .map(|v| Cnn::input_from_slice(v).unwrap())
        .collect();
    check(&cnn, &inputs, |y| y.iter().copied().collect());
    let mlp = Mlp::init(4);
    let inputs: Vec<_> = values(64 * 40, 9)
        .chunks(64)
        .map(|v| Mlp::input_from_slice(v).unwrap())
        .collect();
    check(&mlp, &inputs, |y| y.iter().copied().collect());
    let big = Big::init(5);
    let inputs: Vec<_> = values(32 * 32 * 8 * 5, 11)
        .chunks(32 * 32 * 8)
        .map(|v| Big::input_from_slice(v).unwrap())
        .collect();
    check(&big, &inputs, |y| y.iter().copied().collect());
}

/// A part of a split batch runs on the kernels its caller chose (`kernels::with`), not on the
/// worker thread's own choice: the batch's outputs are the bits of the serial run on the same
/// kernels, for the portable and the fastest kernels alike.
#[cfg(feature = "parallel")]
#[test]
fn a_parallel_batch_runs_on_the_callers_kernels() {
    use static_keras::kernels::{with, Kernels};
    use static_keras_runtime::kernels::{gemm, simd};
    use static_keras_runtime::split_batch;

    /// A sample's output: a product whose SIMD and portable results differ in the last bits.
    fn run(weights: &[f32], inputs: &[[f32; 300]], outputs: &mut [[f32; 16]]) {
        for (x, y) in inputs.iter().zip(outputs) {
            gemm(16, 300, 1, weights, x, y, false);
        }
    }
    fn bits(outputs: &[[f32; 16]]) -> Vec<u32> {
        outputs.iter().flatten().map(|v| v.to_bits()).collect()
    }

    let weights = values(16 * 300, 17);
    let inputs: Vec<[f32; 300]> = values(64 * 300, 29)
        .chunks(300)
        .map(|v| v.try_into().unwrap())
        .collect();
    let threads = std::sync::Mutex::new(Vec::new());
    let f = |x: &[[f32; 300]], y: &mut [[f32; 16]]| {
        threads.lock().unwrap().push(std::thread::current().id());
        // Long enough that idle workers take parts (else the caller may run them all).
        std::thread::sleep(std::time::Duration::from_millis(5));
        run(&weights, x, y)
    };
    let serial = |choice| {
        let mut out = vec![[0.0f32; 16]; 64];
        with(choice, || f(&inputs, &mut out));
        bits(&out)
    };
    let (portable, fastest) = (serial(Kernels::Portable), serial(Kernels::Fastest));
    // Where the SIMD kernels run, the two paths differ (else this could not tell them apart).
    assert_eq!(simd(), portable != fastest);
    // More workers than this machine may have cores, so the batch is split for sure.
    let pool = pool(4);
    for (choice, want) in [(Kernels::Portable, &portable), (Kernels::Fastest, &fastest)] {
        for _ in 0..10 {
            let mut out = vec![[0.0f32; 16]; 64];
            pool.install(|| with(choice, || split_batch(&inputs, &mut out, usize::MAX, 1, &f)));
            assert!(
                bits(&out) == *want,
                "{choice:?}: a part ran on other kernels"
            );
        }
    }
    let mut threads = threads.into_inner().unwrap();
    threads.sort_by_key(|id| format!("{id:?}"));
    threads.dedup();
    assert!(
        threads.len() > 2,
        "the batches ran on {} threads",
        threads.len()
    );
}
