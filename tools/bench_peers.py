#!/usr/bin/env python3
"""The "Host speed" tables of BENCHMARKS.md (M1–M6, and M7–M10 under "Reference models"): static-keras and tract (the Rust benchmark in
benches/) beside onnxruntime, Keras and JAX (XLA) when this Python has them.

    python3 -m venv target/peers
    target/peers/bin/pip install onnxruntime keras==3.15.1 "jax[cpu]" numpy h5py
    target/peers/bin/python tools/bench_peers.py            # every model
    target/peers/bin/python tools/bench_peers.py m1 m3      # models whose name contains m1 or m3

Everything runs on one CPU (this process and the Rust benchmark it starts are pinned to the same
core; onnxruntime and XLA are told to use one thread). For each model the Python engines and
the Rust benchmark take turns (Python, Rust, Python, Rust, Python, Rust, Python), so every
column is sampled across the same stretch of time, and each cell is the median of its samples. Each engine's figure is the median over rounds of blocks of calls, per sample,
in on-CPU time of the whole process (XLA computes on threads of its own; a wait for the core is
not counted, as in the Rust benchmark); every engine's outputs are first checked against Keras's
(`NAME.yB.bin`). The last column is static-keras's time divided by the best peer's.

The benchmark models live in shared/bench-models beside the repository (or
STATIC_KERAS_BENCH_MODELS).

    target/peers/bin/python tools/bench_peers.py --train          # training speed, M1–M5
    target/peers/bin/python tools/bench_peers.py --train m2       # models whose name contains m2

    target/peers/bin/python tools/bench_peers.py --threads 2      # M1–M6 on 2 threads

`--threads N` gives the "Two threads" table: nothing is pinned, every engine may use N threads
(onnxruntime's intra-op pool, XLA's Eigen pool, static-keras's `predict_batch` split over a
rayon pool of N with the `parallel` feature; tract 0.23 runs one thread, as its multi-threaded
matrix products need the `multithread-mm` feature of tract-linalg, not built here), and every
figure is wall-clock time, not CPU time (which would add up the threads' work). Batch 1 is one
sample: static-keras's `predict` runs it on one thread.

`--kernels avx2` runs static-keras on at most AVX2 + FMA (what an AVX2-only x86 CPU runs, on
this AVX-512 machine: `static_keras::kernels::with(Kernels::Avx2, …)`), for the "AVX2 only"
table; the peers are unchanged (onnxruntime, XLA and tract choose their own kernels).

`--train` gives the "Training" table of BENCHMARKS.md: one `train_on_batch` step at batch 32 with
Adam (Keras's defaults) and the model's natural loss (sparse categorical cross-entropy for the
softmax classifiers M1, M2, M5; binary cross-entropy for the sigmoid outputs M3, M4), on the first
32 of the shipped inputs with class ids `(7·i + 3) mod classes` as targets — the Rust benchmark
`benches/benches/train.rs` uses the same. Three engines: static-keras's `train_on_batch`, Keras's
`model.train_on_batch` (JAX backend, compiled) and one `jax.jit` function of the whole step
(`model.stateless_call` in training mode, the loss, `jax.value_and_grad`, and
`optimizer.stateless_apply`, with the weights' and the optimizer's buffers donated), timed in
turns with the Rust benchmark as above. Before timing, each model takes 5 steps from its file's
weights in all three (M2's Dropout at rate 0, so that no random mask enters), and the weights
after them are compared with Keras's (`|a − b| / max(1, |b|)`, tolerance 1e-5).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("STATIC_KERAS_BENCH_MODELS", ROOT.parent / "shared" / "bench-models"))
ROUNDS = 9
# Runs of the Rust benchmark per model, each between two timings of the Python engines.
REPEATS = 3
BLOCK_S = 0.06

# `--threads N` (default 1): the threads every engine may use.
THREADS = 1
if "--threads" in sys.argv[1:]:
    i = sys.argv.index("--threads")
    THREADS = int(sys.argv[i + 1])
    del sys.argv[i : i + 2]
    assert THREADS >= 1, "--threads takes a positive count"

# `--kernels K` (fastest, avx2 or portable): the kernels static-keras runs.
KERNELS = "fastest"
if "--kernels" in sys.argv[1:]:
    i = sys.argv.index("--kernels")
    KERNELS = sys.argv[i + 1]
    del sys.argv[i : i + 2]
    assert KERNELS in ("fastest", "avx2", "portable"), "--kernels: fastest, avx2 or portable"

# THREADS threads everywhere, set before XLA or onnxruntime start.
os.environ.setdefault(
    "XLA_FLAGS",
    f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} "
    f"intra_op_parallelism_threads={THREADS}",
)
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(THREADS))
os.environ.setdefault("MKL_NUM_THREADS", str(THREADS))
if THREADS == 1:
    CPU = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {CPU})
    # On-CPU time of the process: a wait for the core is not counted.
    clock = time.process_time
else:
    CPU = "all"
    # Wall-clock time: the CPU time of several threads would add up their work.
    clock = time.perf_counter

import numpy as np  # noqa: E402


def load_data(name, info, batch):
    dtype = np.int32 if info["input_dtype"] == "int32" else np.float32
    x = np.fromfile(MODELS / f"{name}.x{batch}.bin", dtype="<i4" if dtype == np.int32 else "<f4")
    y = np.fromfile(MODELS / f"{name}.y{batch}.bin", dtype="<f4")
    return x.reshape(info[f"x{batch}_shape"]).astype(dtype), y.reshape(info[f"y{batch}_shape"])


def max_error(got, want):
    got = np.asarray(got, dtype=np.float32).reshape(want.shape)
    return float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))


def scaled_error(got, want):
    """Largest `|Δ| / max(1, max |y|)` per sample (KERAS_GRAPHS.md F9): M10's outputs reach ~45,
    where two float32 evaluations of the same model (Keras's own, batched differently) differ by
    more than 1e-5 of a value."""
    got = np.asarray(got, dtype=np.float32).reshape(want.shape)
    scale = np.maximum(1.0, np.abs(want).reshape(len(want), -1).max(axis=1))
    diff = np.abs(got - want).reshape(len(want), -1).max(axis=1)
    return float(np.max(diff / scale))


def time_engines(engines, batch):
    """Per-sample µs of each engine (median over interleaved rounds)."""
    calls = {}
    for name, run in engines.items():
        run()
        t0, n = clock(), 0
        while clock() - t0 < 0.05:
            run()
            n += 1
        calls[name] = max(1, int(BLOCK_S / ((clock() - t0) / n)))
    per_sample = {name: [] for name in engines}
    for _ in range(ROUNDS):
        for name, run in engines.items():
            t0 = clock()
            for _ in range(calls[name]):
                run()
            per_sample[name].append((clock() - t0) / (calls[name] * batch) * 1e6)
    return {name: statistics.median(v) for name, v in per_sample.items()}


def python_engines(name, x, want):
    """The Python peers available here, each checked against Keras's outputs first."""
    engines, notes = {}, []
    try:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = THREADS
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(str(MODELS / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"])
        feed = {sess.get_inputs()[0].name: x}
        err = max_error(sess.run(None, feed)[0], want)
        assert err <= 1e-4, f"onnxruntime differs from Keras by {err}"
        engines["onnxruntime"] = lambda: sess.run(None, feed)
        notes.append(f"onnxruntime {ort.__version__}")
    except ImportError:
        pass
    try:
        import jax
        import keras

        model = keras.saving.load_model(MODELS / f"{name}.keras")
        err = scaled_error(model.predict_on_batch(x), want)
        assert err <= 1e-5, f"Keras differs from its own outputs by {err}"
        engines["Keras"] = lambda: model.predict_on_batch(x)
        # Copies: Keras's own calls may donate the variables' buffers.
        tv = [jax.numpy.array(v.value, copy=True) for v in model.trainable_variables]
        ntv = [jax.numpy.array(v.value, copy=True) for v in model.non_trainable_variables]
        fn = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
        xj = jax.numpy.asarray(x)
        err = max_error(np.asarray(fn(tv, ntv, xj)), want)
        assert err <= 1e-4, f"JAX jit differs from Keras by {err}"
        engines["JAX jit"] = lambda: fn(tv, ntv, xj).block_until_ready()
        notes.append(f"Keras {keras.__version__}, JAX {jax.__version__}")
    except ImportError:
        pass
    return engines, notes


def rust_bench(name):
    """static-keras and tract per-sample µs at batch 1 and 64, from the Rust benchmark."""
    parallel = ["--features", "parallel"] if THREADS > 1 else []
    env = dict(os.environ, STATIC_KERAS_BENCH_THREADS=str(THREADS), RAYON_NUM_THREADS=str(THREADS),
               STATIC_KERAS_BENCH_KERNELS=KERNELS)
    out = subprocess.run(
        ["cargo", "bench", "-q", "--bench", "models", *parallel, "--", name],
        cwd=ROOT / "benches",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(rf"\| {name} \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", line)
        if m:
            rows[int(m.group(1))] = {"static-keras": float(m.group(2)), "tract": float(m.group(3))}
    return rows


def sgemm_rate(n=2048):
    """sgemm GFLOP/s of numpy's BLAS on THREADS threads (n³, median of 5), the machine's rate now."""
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(5):
        t0 = clock()
        a @ b
        times.append(clock() - t0)
    return 2 * n**3 / statistics.median(times) * 1e-9


TRAIN_MODELS = ["m1_mlp", "m2_cnn", "m3_lstm", "m4_gru", "m5_conv1d"]
TRAIN_BATCH = 32
CHECK_STEPS = 5
CHECK_TOLERANCE = 1e-5


def train_label(i, classes):
    """The class id of sample `i` (benches/src/lib.rs `train_label`)."""
    return (7 * i + 3) % classes


def train_data(name, info):
    """The batch, its targets and the loss: binary cross-entropy for a one-unit output (the
    sigmoid models), sparse categorical cross-entropy otherwise (the softmax classifiers)."""
    import keras

    x, _ = load_data(name, info, 64)
    x = x[:TRAIN_BATCH]
    classes = info["y64_shape"][-1]
    if classes == 1:
        y = np.array([[train_label(i, 2)] for i in range(TRAIN_BATCH)], dtype=np.float32)
        return x, y, keras.losses.BinaryCrossentropy
    y = np.array([train_label(i, classes) for i in range(TRAIN_BATCH)], dtype=np.int32)
    return x, y, keras.losses.SparseCategoricalCrossentropy


def train_model(name, no_dropout):
    """The model with its file's weights; `no_dropout` sets every Dropout's rate to 0."""
    import keras

    model = keras.saving.load_model(MODELS / f"{name}.keras", compile=False)
    if no_dropout:
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    return model


def keras_trainer(name, x, y, loss, no_dropout=False):
    """Keras's `model.train_on_batch` (compiled: `jit_compile="auto"` is XLA on JAX)."""
    import keras

    model = train_model(name, no_dropout)
    model.compile(optimizer=keras.optimizers.Adam(), loss=loss())
    return model, lambda: model.train_on_batch(x, y)


def jax_trainer(name, x, y, loss, no_dropout=False):
    """The whole step as one `jax.jit` function over explicit state, its buffers donated."""
    import functools

    import jax
    import keras

    model = train_model(name, no_dropout)
    loss_fn = loss()
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)

    def compute_loss(tv, ntv, x, y):
        y_pred, ntv = model.stateless_call(tv, ntv, x, training=True)
        return loss_fn(y, y_pred), ntv

    grad_fn = jax.value_and_grad(compute_loss, has_aux=True)

    @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
    def step(tv, ntv, ov, x, y):
        (value, ntv), grads = grad_fn(tv, ntv, x, y)
        tv, ov = optimizer.stateless_apply(ov, grads, tv)
        return value, tv, ntv, ov

    copy = lambda vs: [jax.numpy.array(v.value, copy=True) for v in vs]  # noqa: E731
    state = [
        copy(model.trainable_variables),
        copy(model.non_trainable_variables),
        copy(optimizer.variables),
    ]
    xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)

    def run():
        value, state[0], state[1], state[2] = step(*state, xj, yj)
        jax.block_until_ready((value, state[0]))

    def weights():
        # model.weights order: with no non-trainable variables (M1–M5 have none but Dropout's
        # seed state), the trainable ones.
        return np.concatenate([np.asarray(v).ravel() for v in state[0]])

    return run, weights


def keras_weights(model):
    return np.concatenate([np.asarray(v.value).ravel() for v in model.trainable_variables])


def rust_train_bench(name, check_dir):
    """static-keras's ms per step, from the Rust training benchmark (which also writes its
    weights after the check's steps into `check_dir`)."""
    out = subprocess.run(
        ["cargo", "bench", "-q", "--bench", "train", "--", name],
        cwd=ROOT / "benches",
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "STATIC_KERAS_TRAIN_CHECK": str(check_dir)},
    ).stdout
    for line in out.splitlines():
        m = re.match(rf"\| {name} \| {TRAIN_BATCH} \| ([\d.]+) \|", line)
        if m:
            return float(m.group(1))
    raise RuntimeError(f"no {name} row in the Rust training benchmark's output:\n{out}")


def train_check(name, x, y, loss, ours):
    """Worst `|a − b| / max(1, |b|)` of our weights and the jitted step's against Keras's after
    CHECK_STEPS steps from the same weights on the same batch."""
    model, keras_step = keras_trainer(name, x, y, loss, no_dropout=True)
    jax_step, jax_weights = jax_trainer(name, x, y, loss, no_dropout=True)
    for _ in range(CHECK_STEPS):
        keras_step()
        jax_step()
    want = keras_weights(model)
    assert ours.shape == want.shape, f"{name}: {ours.shape} weights, Keras has {want.shape}"
    rel = lambda got: float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))  # noqa: E731
    return rel(ours), rel(jax_weights())


def main_train(wanted):
    import tempfile

    import jax
    import keras

    manifest = json.loads((MODELS / "manifest.json").read_text())["models"]
    names = [n for n in TRAIN_MODELS if not wanted or any(w in n for w in wanted)]
    subprocess.run(["cargo", "bench", "--no-run", "-q", "--bench", "train"], cwd=ROOT / "benches", check=True)
    check_dir = Path(tempfile.mkdtemp(prefix="static-keras-train-"))
    lines = []
    for name in names:
        info = manifest[name]
        x, y, loss = train_data(name, info)
        engines = {
            "Keras train_on_batch": keras_trainer(name, x, y, loss)[1],
            "JAX jit step": jax_trainer(name, x, y, loss)[0],
        }
        samples, rates = {}, []

        def python_turn():
            for eng, t in time_engines(engines, 1).items():
                samples.setdefault(eng, []).append(t * 1e-3)  # ms per step
            rates.append(sgemm_rate(1024))

        for _ in range(REPEATS):
            python_turn()
            samples.setdefault("static-keras", []).append(rust_train_bench(name, check_dir))
        python_turn()
        ours_w = np.fromfile(check_dir / f"{name}.w{CHECK_STEPS}.bin", dtype="<f4")
        err_ours, err_jax = train_check(name, x, y, loss, ours_w)
        ok = "ok" if err_ours <= CHECK_TOLERANCE else "FAILED"
        t = {eng: statistics.median(v) for eng, v in samples.items()}
        sgemm = statistics.median(rates)
        ours, jit = t["static-keras"], t["JAX jit step"]
        gflops = 3 * info["flops_per_sample"] * TRAIN_BATCH / ours * 1e-6
        lines.append(
            f"| {name} | {loss.__name__} | {ours:.3f} | {t['Keras train_on_batch']:.3f} | {jit:.3f} "
            f"| ×{ours / jit:.2f} | {gflops:.1f} ({gflops / sgemm:.0%} of {sgemm:.0f}) "
            f"| {err_ours:.1e} {ok} (JAX jit {err_jax:.1e}) |"
        )
        print(lines[-1], flush=True)
    print()
    print(f"CPU {CPU}; Keras {keras.__version__}, JAX {jax.__version__}; batch {TRAIN_BATCH}, Adam(1e-3)")
    print()
    print(
        "| model | loss | static-keras ms/step | Keras train_on_batch | JAX jit step | ÷ JAX jit "
        f"| static-keras GFLOP/s (of sgemm) | weights after {CHECK_STEPS} steps vs Keras |"
    )
    print("|---|---|--:|--:|--:|--:|--:|---|")
    for line in lines:
        print(line)


def main():
    if "--train" in sys.argv[1:]:
        return main_train([a for a in sys.argv[1:] if a != "--train"])
    manifest = json.loads((MODELS / "manifest.json").read_text())["models"]
    wanted = sys.argv[1:]
    names = [n for n in manifest if not wanted or any(w in n for w in wanted)]
    # Build the Rust benchmark first, so its compilation is not timed against anything.
    subprocess.run(["cargo", "bench", "--no-run", "-q", "--bench", "models"], cwd=ROOT / "benches", check=True)
    columns = ["static-keras", "tract", "onnxruntime", "JAX jit", "Keras"]
    lines = []
    sgemm = {}
    versions = set()
    for name in names:
        info = manifest[name]
        data = {b: load_data(name, info, b) for b in (1, 64)}
        engines = {b: python_engines(name, *data[b]) for b in (1, 64)}
        for b in (1, 64):
            versions.update(engines[b][1])
        # Python engines, then the Rust benchmark, REPEATS times, then the Python engines once
        # more: every engine is timed in each stretch of the run; each cell is the median.
        samples = {b: {} for b in (1, 64)}

        def add(b, times):
            for eng, v in times.items():
                samples[b].setdefault(eng, []).append(v)

        rates = []  # the machine's sgemm rate at each Python turn, for this model's stretch

        def python_turn():
            for b in (1, 64):
                add(b, time_engines(engines[b][0], b))
            rates.append(sgemm_rate(1024))

        for _ in range(REPEATS):
            python_turn()
            rust = rust_bench(name)
            for b in (1, 64):
                add(b, rust[b])
        python_turn()
        sgemm[name] = statistics.median(rates)
        for b in (1, 64):
            t = {eng: statistics.median(v) for eng, v in samples[b].items()}
            peers = {k: v for k, v in t.items() if k != "static-keras"}
            best = min(peers, key=peers.get)
            ours = t["static-keras"]
            gflops = info["flops_per_sample"] / ours * 1e-3
            cells = [f"{t[c]:.2f}" if c in t else "—" for c in columns]
            lines.append(
                f"| {name} | {b} | " + " | ".join(cells)
                + f" | {gflops:.1f} ({gflops / sgemm[name]:.0%}) | {best} | ×{ours / peers[best]:.2f} |"
            )
            print(lines[-1], flush=True)
    print()
    print(f"CPU {CPU}; {THREADS} thread(s); static-keras kernels: {KERNELS}; " + "; ".join(sorted(versions)))
    print(
        f"numpy sgemm 1024³, {THREADS} thread(s), median over each model's stretch of the run: "
        + ", ".join(f"{n} {r:.0f}" for n, r in sgemm.items())
        + " GFLOP/s"
    )
    print()
    print(
        "| model | batch | " + " | ".join(columns)
        + " | static-keras GFLOP/s (of sgemm) | best peer | static-keras ÷ best |"
    )
    print("|---|--:|" + "--:|" * len(columns) + "--:|---|--:|")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
