//! The training step split across threads (feature `parallel`): every batch is cut into a fixed
//! number of chunks, so the weights after several steps are the same bit for bit on pools of 1,
//! 2 and 3 threads; the split step equals the serial one up to the order of the gradient sums
//! (Dropout masks and BatchNormalization's batch statistics included, whose calls stay whole).
//! Without the feature the same checks run on the serial step. The Keras parity of the split
//! step is the training suites (`parity_train`, `parity_optimizers`) run with `--features
//! parallel`.

use static_keras::losses::{
    CategoricalCrossentropy, MeanSquaredError, SparseCategoricalCrossentropy,
};
use static_keras::optimizers::{Adam, Sgd};
use static_keras::train::losses::Loss;
use static_keras::train::metrics::MetricTarget;
use static_keras::train::optimizers::Optimizer;
use static_keras::train::{Plain, Targets, Trainable, Trainer};
use static_keras::{keras_model, FitOptions, Model};

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Counts the allocations of the watched threads (the test's own and its pool's workers) while
/// `COUNTING` is set. Only those: the test harness's other threads allocate when they like (its
/// main thread wakes to watch for slow tests), which made a count of every thread flaky.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// Whether this thread's allocations count.
    static WATCHED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether an allocation now counts.
fn counts() -> bool {
    COUNTING.load(Ordering::SeqCst) && WATCHED.try_with(std::cell::Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counts() {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counts() {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests of this file take turns, so that the allocation count sees one test only.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

keras_model! {
    struct Mlp {
        input_shape: (12,),
        layers: [
            Dense(16, activation = "relu", trainable = False),
            Dense(16, activation = "tanh"),
            Dense(5, activation = "softmax"),
        ],
    }
}

keras_model! {
    struct Cnn {
        input_shape: (8, 8, 2),
        layers: [
            Conv2D(4, 3, activation = "relu"),
            MaxPooling2D(2),
            Flatten(),
            Dense(3, activation = "softmax"),
        ],
    }
}

keras_model! {
    struct Rnn {
        input_shape: (6, 3),
        layers: [LSTM(8, return_sequences = True), GRU(4), Dense(2)],
    }
}

// Calls that stay whole (BatchNormalization, Dropout, recurrent dropout) between split ones.
keras_model! {
    struct Mixed {
        input_shape: (6, 4),
        layers: [
            LSTM(6, return_sequences = True, dropout = 0.2, recurrent_dropout = 0.1),
            Flatten(),
            Dense(10, activation = "relu"),
            BatchNormalization(),
            Dropout(0.3),
            Dense(3, activation = "softmax"),
        ],
    }
}

// A functional graph: a layer read twice, a merge.
keras_model! {
    struct Graph {
        x = Input(shape = (7,));
        h = Dense(6, activation = "tanh")(x);
        a = Dense(6, activation = "relu")(h);
        s = Add()([h, a]);
        y = Dense(2, activation = "softmax")(s);
        model = Model(x, y);
    }
}

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect()
}

fn weights<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
}

/// What a run leaves: the losses of each step, the weights after, the last step's gradients.
#[derive(PartialEq, Debug)]
struct Run {
    losses: Vec<f32>,
    weights: Vec<f32>,
    grads: Vec<f32>,
}

/// `steps` steps of `train_on_batch` over batches of `batch` (the last of 7 samples, a partial
/// batch), then one `fit` epoch, on a pool of `threads` threads, the batch cut into `parts`
/// chunks (`None`: the trainer's default).
#[allow(clippy::too_many_arguments)]
fn run<M, O, L, Y>(
    mut model: M,
    optimizer: O,
    loss: L,
    xs: &[M::Input],
    ys: &[Y],
    batch: usize,
    threads: usize,
    parts: Option<usize>,
) -> Run
where
    M: Trainable + Send,
    M::Input: Sync + Clone,
    M::Output: Plain,
    O: Optimizer + Send,
    L: Loss + Send,
    L::Target: MetricTarget,
    Y: Targets<L::Target> + Sync + Clone,
{
    pool(threads).install(|| {
        let mut trainer = Trainer::new(&mut model, optimizer, loss);
        if let Some(parts) = parts {
            trainer = trainer.split_into(parts);
        }
        trainer.seed(11);
        let mut losses = Vec::new();
        let starts = (0..xs.len()).step_by(batch);
        for start in starts.chain([xs.len() - 7]) {
            let end = (start + batch).min(xs.len());
            losses.push(trainer.train_on_batch(&xs[start..end], &ys[start..end]));
        }
        let history = trainer.fit(
            xs,
            ys,
            FitOptions {
                batch_size: batch,
                epochs: 1,
                verbose: 0,
                seed: 3,
                ..Default::default()
            },
        );
        losses.extend_from_slice(history.get("loss").expect("the loss"));
        let mut grads = Vec::new();
        M::grads_in_keras_order(trainer.grads(), &mut |g| grads.push(g));
        drop(trainer);
        Run {
            losses,
            weights: weights(&model),
            grads,
        }
    })
}

/// The split runs on 1, 2 and 3 threads agree bit for bit; they agree with the serial run
/// (one part) to rounding (the gradient sums run in another order), and so does a run cut into
/// a different number of chunks.
#[allow(clippy::too_many_arguments)]
fn check<M, O, L, Y>(
    name: &str,
    model: impl Fn() -> M,
    optimizer: impl Fn() -> O,
    loss: impl Fn() -> L,
    xs: &[M::Input],
    ys: &[Y],
    batch: usize,
) where
    M: Trainable + Send,
    M::Input: Sync + Clone,
    M::Output: Plain,
    O: Optimizer + Send,
    L: Loss + Send,
    L::Target: MetricTarget,
    Y: Targets<L::Target> + Sync + Clone,
{
    let _turn = turn();
    // These models are small: a default trainer would train them serially
    // (`par::worth_splitting`), so the parts are given.
    let parts = Some(static_keras::train::trainer::DEFAULT_PARTS);
    let one = run(model(), optimizer(), loss(), xs, ys, batch, 1, parts);
    for threads in [2, 3] {
        let other = run(model(), optimizer(), loss(), xs, ys, batch, threads, parts);
        assert!(
            one == other,
            "{name}: 1 and {threads} threads differ:\n{one:?}\n{other:?}"
        );
    }
    let serial = run(model(), optimizer(), loss(), xs, ys, batch, 2, Some(1));
    let three = run(model(), optimizer(), loss(), xs, ys, batch, 2, Some(3));
    for (what, other) in [("serial", &serial), ("3 parts", &three)] {
        for (label, a, b) in [
            ("loss", &one.losses, &other.losses),
            ("weight", &one.weights, &other.weights),
            ("gradient", &one.grads, &other.grads),
        ] {
            assert_eq!(a.len(), b.len());
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-5,
                "{name}: the {label} values of the split and {what} runs differ by {worst}"
            );
        }
    }
    if static_keras::train::par::PARALLEL {
        // The split step really is split: its gradient sums differ from the serial ones
        // somewhere in the last bits (a step that ignored its parts would equal them).
        assert!(
            one.grads != serial.grads || one.weights != serial.weights,
            "{name}: not split"
        );
    }
}

fn one_hot<const N: usize>(classes: &[u32]) -> Vec<static_keras::Tensor<N, 1>> {
    classes
        .iter()
        .map(|&c| {
            let mut v = [0.0; N];
            v[c as usize] = 1.0;
            static_keras::Tensor::from_slice(&v)
        })
        .collect()
}

fn classes(n: usize, k: u32, seed: u32) -> Vec<u32> {
    values(n, seed)
        .iter()
        .map(|v| ((v + 1.0) * 0.5 * k as f32) as u32 % k)
        .collect()
}

#[test]
fn a_trainer_with_parallel_splits_into_the_default_parts() {
    let _turn = turn();
    let mut net = Mlp::init(1);
    let trainer = net.compile(Sgd::default(), MeanSquaredError::default());
    let want = if static_keras::train::par::PARALLEL {
        4
    } else {
        0
    };
    assert_eq!(trainer.parts(), want);
}

/// A trainer left at its default parts trains a step too small to gain from them serially (the
/// same bits as one part), and cuts a large enough one (other bits).
#[test]
fn a_default_trainer_splits_only_steps_worth_it() {
    use static_keras::train::par::{worth_splitting, SPLIT_MIN_WORDS};
    let small = 40;
    let large = SPLIT_MIN_WORDS.div_ceil(Mlp::workspace_words(1));
    assert!(!worth_splitting(Mlp::workspace_words(small)));
    assert!(worth_splitting(Mlp::workspace_words(large)));
    let xs: Vec<_> = values(12 * large, 21)
        .chunks(12)
        .map(|v| Mlp::input_from_slice(v).unwrap())
        .collect();
    let ys = one_hot::<5>(&classes(large, 5, 22));
    let gradients = |n: usize, parts: Option<usize>| {
        let mut net = Mlp::init(23);
        let mut trainer =
            Trainer::new(&mut net, Sgd::default(), CategoricalCrossentropy::default());
        if let Some(parts) = parts {
            trainer = trainer.split_into(parts);
        }
        trainer.compute_gradients(&xs[..n], &ys[..n]).unwrap();
        let mut grads = Vec::new();
        Mlp::grads_in_keras_order(trainer.grads(), &mut |g| grads.push(g.to_bits()));
        grads
    };
    let _turn = turn();
    assert!(
        gradients(small, None) == gradients(small, Some(1)),
        "a small step was split"
    );
    #[cfg(feature = "parallel")]
    {
        // The counts see it too: no split call for the small step, one per call for the large.
        use static_keras::train::par::counts;
        let before = counts::get();
        gradients(small, None);
        assert_eq!(counts::get().calls, before.calls, "a small step was split");
        gradients(large, None);
        assert!(
            counts::get().calls > before.calls,
            "a large step was not split"
        );
    }
    if static_keras::train::par::PARALLEL {
        assert!(
            gradients(large, None) == gradients(large, Some(4)),
            "a large step was not cut in 4"
        );
        assert!(
            gradients(large, None) != gradients(large, Some(1)),
            "a large step was not split"
        );
    }
}

/// A split step allocates nothing, on the calling thread or on rayon's workers.
#[test]
fn a_split_step_allocates_nothing_on_any_thread() {
    let _turn = turn();
    let n = 24;
    let xs: Vec<_> = values(128 * n, 16)
        .chunks(128)
        .map(|v| Cnn::input_from_slice(v).unwrap())
        .collect();
    let ys = classes(n, 3, 17);
    let mut net = Cnn::init(18);
    let watched = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .start_handler(|_| WATCHED.with(|w| w.set(true)))
        .build()
        .unwrap();
    // Every worker once through its loop: a worker's first look for work registers the thread
    // with crossbeam's epoch collector (one allocation per thread, seen in a backtrace here),
    // which on a loaded machine a worker that started late did in the middle of the count.
    watched.broadcast(|_| ());
    WATCHED.with(|w| w.set(true));
    watched.install(|| {
        let mut trainer = net
            .compile(Adam::default(), SparseCategoricalCrossentropy::default())
            .split_into(static_keras::train::trainer::DEFAULT_PARTS);
        trainer.train_on_batch(&xs, &ys); // sizes the workspace
        ALLOCATIONS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        for _ in 0..5 {
            trainer.train_on_batch(&xs, &ys);
            trainer.train_on_batch(&xs[..9], &ys[..9]);
        }
        COUNTING.store(false, Ordering::SeqCst);
    });
    WATCHED.with(|w| w.set(false));
    let count = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(count, 0, "10 steps allocated {count} times");
}

#[test]
fn mlp_is_the_same_on_any_thread_count() {
    let n = 45;
    let xs: Vec<_> = values(12 * n, 1)
        .chunks(12)
        .map(|v| Mlp::input_from_slice(v).unwrap())
        .collect();
    let ys = one_hot::<5>(&classes(n, 5, 2));
    check(
        "mlp",
        || Mlp::init(3),
        || Adam {
            learning_rate: 1e-2,
            ..Default::default()
        },
        CategoricalCrossentropy::default,
        &xs,
        &ys,
        16,
    );
}

#[test]
fn cnn_is_the_same_on_any_thread_count() {
    let n = 21;
    let xs: Vec<_> = values(128 * n, 4)
        .chunks(128)
        .map(|v| Cnn::input_from_slice(v).unwrap())
        .collect();
    let ys = classes(n, 3, 5);
    check(
        "cnn",
        || Cnn::init(6),
        || Sgd {
            learning_rate: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
        SparseCategoricalCrossentropy::default,
        &xs,
        &ys,
        8,
    );
}

#[test]
fn recurrent_model_is_the_same_on_any_thread_count() {
    let n = 19;
    let xs: Vec<_> = values(18 * n, 7)
        .chunks(18)
        .map(|v| Rnn::input_from_slice(v).unwrap())
        .collect();
    let ys: Vec<_> = values(2 * n, 8)
        .chunks(2)
        .map(|v| Rnn::output_from_slice(v).unwrap())
        .collect();
    check(
        "rnn",
        || Rnn::init(9),
        || Adam {
            learning_rate: 1e-2,
            ..Default::default()
        },
        MeanSquaredError::default,
        &xs,
        &ys,
        10,
    );
}

#[test]
fn whole_batch_calls_keep_their_statistics_and_masks() {
    let n = 40;
    let xs: Vec<_> = values(24 * n, 10)
        .chunks(24)
        .map(|v| Mixed::input_from_slice(v).unwrap())
        .collect();
    let ys = classes(n, 3, 11);
    check(
        "mixed",
        || Mixed::init(12),
        || Adam {
            learning_rate: 1e-2,
            ..Default::default()
        },
        SparseCategoricalCrossentropy::default,
        &xs,
        &ys,
        12,
    );
}

#[test]
fn graph_with_a_merge_is_the_same_on_any_thread_count() {
    let n = 33;
    let xs: Vec<_> = values(7 * n, 13)
        .chunks(7)
        .map(|v| Graph::input_from_slice(v).unwrap())
        .collect();
    let ys = one_hot::<2>(&classes(n, 2, 14));
    check(
        "graph",
        || Graph::init(15),
        || Sgd {
            learning_rate: 0.05,
            ..Default::default()
        },
        CategoricalCrossentropy::default,
        &xs,
        &ys,
        9,
    );
}
