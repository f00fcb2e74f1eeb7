"""Model-level training parity fixtures from REAL Keras: `model.train_on_batch` with every
optimizer configuration, and whole `model.fit` runs (shuffle=False) with metrics, validation and
callbacks, then `model.evaluate`.

How to run (from the repository root, with the venv of tools/requirements.txt):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_train.py [SUITE ...]

Suites (all by default):

* ``train_steps`` (an MLP) and ``train_steps_cnn`` (a small CNN): for every optimizer configuration of
  tools/gen_optimizers.py, the model is compiled with it and a fixed loss and runs 5
  `train_on_batch` steps from the same weights on 5 different batches. Files under
  ``tests/fixtures/<suite>/``: ``model.w.bin`` (the initial weights, `model.weights` order),
  ``model.x.bin`` and ``model.t.bin`` (the 5 batches one after another), ``<case>.bin`` (every
  weight after each step); the returned losses are in ``tests/generated/<suite>.rs``.
* ``train_fit``: each case compiles a model with an optimizer, a loss and metrics, runs `fit` with
  ``shuffle=False`` and the case's options and callbacks, then `evaluate` on held-out samples
  with two batch sizes. Files: ``<case>.{w0,x,y,vx,vy,tx,ty,w1}.bin`` (initial weights,
  training, validation and test samples with their targets, the weights after `fit`; targets are
  float32, or uint32 class ids for the sparse losses); the history, the final learning rate and
  the evaluations are in ``tests/generated/train_fit.rs``.

Deterministic: fixed seeds; every file is rewritten only if it changes.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_fixtures import (  # noqa: E402
    FIXTURES,
    GENERATED,
    KERAS_VERSION,
    ROOT,
    _f32_bytes,
    _manifest_json,
    _seed,
    _write_if_changed,
)
from gen_graphs import namespace, randomise  # noqa: E402
from gen_optimizers import cases as optimizer_cases  # noqa: E402

STEPS = 5
STEP_BATCH = 4

# Suite -> (model text, input shape, loss: Keras object and Rust expression).
STEP_MODELS = {
    "train_steps": """
        x = Input(shape=(6,));
        h = Dense(8, activation="tanh")(x);
        h = Dense(5, activation="relu")(h);
        model = Model(x, Dense(3, activation="softmax")(h))""",
    "train_steps_cnn": """
        x = Input(shape=(6, 6, 2));
        h = Conv2D(4, 3, activation="relu")(x);
        h = MaxPooling2D(2)(h);
        model = Model(x, Dense(3, activation="softmax")(Flatten()(h)))""",
}


def flat(text):
    return " ".join(text.split())


def build(text):
    keras.backend.clear_session()
    ns = namespace()
    exec(text, ns)  # noqa: S102 -- trusted, local strings
    return ns["model"]


def f32(v):
    """The shortest decimal that reads back to the same f32."""
    return str(np.float32(v))


def weights_bytes(model):
    return b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights)


def one_hot(ids, k):
    return np.eye(k, dtype=np.float32)[ids]


# ----------------------------------------------------------------------------------------------
# train_on_batch with every optimizer


def model_level(case):
    """The optimizer configuration as the model-level suites run it.

    RMSprop keeps its epsilon inside the square root, `lr·g/√(v + ε)` with ε = 1e-7: for
    gradients near √(ε/(1−ρ)) ≈ 1e-3, common in a small MLP, the step is about lr/√ε ≈ 300·lr/0.1
    times as sensitive to the gradient as the gradient is to rounding. At lr = 0.1 Keras's own
    compiled and eager `train_on_batch` then differ by up to 2.8e-5 after 5 steps (recorded per
    case in the manifest as `keras_jit_vs_eager`), so the RMSprop configurations run at lr = 0.01
    here (the optimizer suite, tests/parity_optimizers.rs, covers lr = 0.1 on fixed gradients).
    """
    if case.cls != "RMSprop":
        return case
    kwargs = dict(case.kwargs)
    if kwargs.get("learning_rate", 0.0) >= 0.05:
        kwargs["learning_rate"] = 0.01
    schedule = case.schedule
    if schedule is not None:
        schedule = (schedule[0], {**schedule[1], "initial_learning_rate": 0.01})
    return type(case)(case.name, case.cls, steps=case.steps, schedule=schedule, **kwargs)


def run_steps(text, init, optimizer, x, t, jit=True):
    """The losses `train_on_batch` returns and the weights after each step."""
    model = build(text)
    for v, w in zip(model.weights, init):
        v.assign(w)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(),
                  jit_compile=jit, run_eagerly=not jit)
    losses, after = [], []
    for s in range(STEPS):
        b = slice(s * STEP_BATCH, (s + 1) * STEP_BATCH)
        losses.append(float(model.train_on_batch(x[b], t[b])))
        after.append(np.concatenate([np.asarray(v.numpy()).ravel() for v in model.weights]))
    return losses, after


def gen_steps(suite):
    out_dir = FIXTURES / suite
    out_dir.mkdir(parents=True, exist_ok=True)
    text = flat(STEP_MODELS[suite])
    rng = np.random.default_rng(_seed(suite, "model"))
    model = build(text)
    randomise(model, rng)
    init = [np.asarray(v.numpy()) for v in model.weights]
    in_shape = tuple(model.inputs[0].shape[1:])
    x = rng.standard_normal((STEPS * STEP_BATCH, *in_shape)).astype(np.float32)
    t = one_hot(rng.integers(0, 3, STEPS * STEP_BATCH), 3)
    _write_if_changed(out_dir / "model.w.bin", weights_bytes(model))
    _write_if_changed(out_dir / "model.x.bin", _f32_bytes(x))
    _write_if_changed(out_dir / "model.t.bin", _f32_bytes(t))
    entries = []
    keep = {"model.w.bin", "model.x.bin", "model.t.bin"}
    for case in map(model_level, optimizer_cases()):
        losses, after = run_steps(text, init, case.keras(), x, t)
        if not all(np.isfinite(losses)):
            raise ValueError(f"{suite}/{case.name}: non-finite loss")
        # Keras's own noise floor: the same steps run eagerly, op by op.
        _, eager = run_steps(text, init, case.keras(), x, t, jit=False)
        noise = max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))
                    for a, b in zip(after, eager))
        _write_if_changed(out_dir / f"{case.name}.bin", _f32_bytes(np.concatenate(after)))
        keep.add(f"{case.name}.bin")
        entries.append({"name": case.name, "optimizer": case.rust(), "losses": losses,
                        "keras_jit_vs_eager": noise})
    for p in out_dir.glob("*.bin"):
        if p.name not in keep:
            p.unlink()
    manifest = {
        "suite": suite,
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "method": f"model.compile(optimizer, CategoricalCrossentropy()); {STEPS} x "
                  f"model.train_on_batch on batches of {STEP_BATCH}",
        "model": text,
        "cases": entries,
    }
    _write_if_changed(out_dir / "manifest.json", _manifest_json(manifest))
    lines = [
        f"// @generated by tools/gen_train.py from real Keras {KERAS_VERSION}; do not edit.",
        "steps_suite! {",
        f'    suite: "{suite}",',
        f'    keras: "{KERAS_VERSION}",',
        f"    model: {{ {text} }},",
        "    loss: CategoricalCrossentropy::default(),",
        "    cases: [",
    ]
    for e in entries:
        losses = ", ".join(f32(v) for v in e["losses"])
        lines.append(f"        {e['name']} {{ optimizer: {e['optimizer']}, losses: [{losses}], "
                     f"keras_jit_vs_eager: {e['keras_jit_vs_eager']:.2e} }},")
    lines += ["    ],", "}", ""]
    _write_if_changed(GENERATED / f"{suite}.rs", "\n".join(lines))
    print(f"suite {suite}: {len(entries)} optimizer cases -> {out_dir.relative_to(ROOT)}")


# ----------------------------------------------------------------------------------------------
# fit and evaluate


class Fit:
    """One `fit` run: the model, loss (Python, Rust), optimizer (Python, Rust), metrics, the
    kind of targets, the options and callbacks (each a Python and a Rust expression)."""

    def __init__(self, name, text, loss, optimizer, targets, metrics=(), n=10, n_val=0,
                 callbacks=(), **options):
        self.name = name
        self.text = flat(text)
        self.loss = loss
        self.optimizer = optimizer
        self.targets = targets
        self.metrics = list(metrics)
        self.n = n
        self.n_val = n_val
        self.callbacks = list(callbacks)
        self.options = {"batch_size": 3, "epochs": 2, **options}


L = keras.losses
O = keras.optimizers
CB = keras.callbacks

MLP = """
    x = Input(shape=(4,));
    h = Dense(5, activation="tanh")(x);
    model = Model(x, Dense({units}, activation="{act}")(h))"""
SEQ = """
    x = Input(shape=(4, 5));
    h = Dense(6, activation="tanh")(x);
    model = Model(x, Dense(3, activation="{act}")(h))"""


def fit_cases():
    mse = ("L.MeanSquaredError()", "MeanSquaredError::default()")
    cce = ("L.CategoricalCrossentropy()", "CategoricalCrossentropy::default()")
    scce_logits = ("L.SparseCategoricalCrossentropy(from_logits=True)",
                   "SparseCategoricalCrossentropy { from_logits: true, ..Default::default() }")
    scce = ("L.SparseCategoricalCrossentropy()", "SparseCategoricalCrossentropy::default()")
    bce = ("L.BinaryCrossentropy()", "BinaryCrossentropy::default()")
    sgd = ("O.SGD(learning_rate=0.1)", "Sgd { learning_rate: 0.1, ..Default::default() }")
    adam = ("O.Adam(learning_rate=0.05)", "Adam { learning_rate: 0.05, ..Default::default() }")
    return [
        Fit("mse_sgd_momentum", MLP.format(units=2, act="linear"), mse,
            ("O.SGD(learning_rate=0.1, momentum=0.9)",
             "Sgd { learning_rate: 0.1, momentum: 0.9, ..Default::default() }"),
            "normal", epochs=3),
        Fit("cce_adam_split", MLP.format(units=3, act="softmax"), cce, adam, "onehot",
            metrics=["accuracy"], epochs=3, validation_split=0.3),
        Fit("scce_logits_rmsprop_validation_data", MLP.format(units=3, act="linear"), scce_logits,
            ("O.RMSprop(learning_rate=0.01)", "RmsProp { learning_rate: 0.01, ..Default::default() }"),
            "ids", metrics=["accuracy", "sparse_categorical_accuracy"], n_val=5,
            validation_batch_size=2, epochs=2),
        Fit("bce_binary_accuracy_mse", MLP.format(units=1, act="sigmoid"), bce,
            ("O.Adagrad(learning_rate=0.1)", "Adagrad { learning_rate: 0.1, ..Default::default() }"),
            "binary", metrics=["accuracy", "mse"], batch_size=4, validation_split=0.25),
        Fit("sequence_cce_acc_mae", SEQ.format(act="softmax"), cce,
            ("O.Nadam(learning_rate=0.02)", "Nadam { learning_rate: 0.02, ..Default::default() }"),
            "onehot", metrics=["acc", "mae"], validation_split=0.3),
        Fit("sequence_ids_validation_freq", SEQ.format(act="softmax"), scce,
            ("O.Lion(learning_rate=0.01)", "Lion { learning_rate: 0.01, ..Default::default() }"),
            "ids", metrics=["accuracy"], epochs=3, validation_split=0.3, validation_freq=2),
        Fit("batch_larger_than_data", MLP.format(units=3, act="softmax"), cce, adam, "onehot",
            metrics=["categorical_accuracy"], batch_size=32, epochs=2, validation_split=0.2),
        Fit("lr_scheduler", MLP.format(units=3, act="softmax"), cce, adam, "onehot",
            metrics=["accuracy"], epochs=3, validation_split=0.3,
            callbacks=[("CB.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)",
                        "LearningRateScheduler::new(|epoch, lr| if epoch > 0 { lr * 0.5 } else { lr })")]),
        Fit("lr_scheduler_initial_epoch", MLP.format(units=2, act="linear"), mse, sgd, "normal",
            epochs=4, initial_epoch=2,
            callbacks=[("CB.LearningRateScheduler(lambda epoch, lr: 0.01 * (epoch + 1))",
                        "LearningRateScheduler::new(|epoch, _| 0.01 * (epoch + 1) as f64)")]),
        Fit("reduce_lr_on_plateau", MLP.format(units=2, act="linear"), mse, sgd, "normal", epochs=5,
            callbacks=[("CB.ReduceLROnPlateau(monitor='loss', factor=0.5, patience=1, min_delta=10.0, "
                        "cooldown=1, min_lr=0.02)",
                        "ReduceLROnPlateau { monitor: \"loss\", factor: 0.5, patience: 1, "
                        "min_delta: 10.0, cooldown: 1, min_lr: 0.02, ..Default::default() }")]),
        Fit("reduce_lr_val_loss", MLP.format(units=3, act="softmax"), cce, adam, "onehot",
            metrics=["accuracy"], epochs=5, validation_split=0.3,
            callbacks=[("CB.ReduceLROnPlateau(factor=0.2, patience=1, cooldown=2)",
                        "ReduceLROnPlateau { factor: 0.2, patience: 1, cooldown: 2, ..Default::default() }")]),
        Fit("early_stopping_restores", MLP.format(units=2, act="linear"), mse, sgd, "normal",
            epochs=6,
            callbacks=[("CB.EarlyStopping(monitor='loss', min_delta=10.0, patience=1, "
                        "restore_best_weights=True)",
                        "EarlyStopping { monitor: \"loss\", min_delta: 10.0, patience: 1, "
                        "restore_best_weights: true, ..Default::default() }")]),
        Fit("early_stopping_val_accuracy", MLP.format(units=3, act="softmax"), cce,
            ("O.Adam(learning_rate=0.2)", "Adam { learning_rate: 0.2, ..Default::default() }"),
            "onehot", metrics=["accuracy"], epochs=8, validation_split=0.3,
            callbacks=[("CB.EarlyStopping(monitor='val_accuracy', patience=2, baseline=0.9, "
                        "restore_best_weights=True, start_from_epoch=1)",
                        "EarlyStopping { monitor: \"val_accuracy\", patience: 2, baseline: Some(0.9), "
                        "restore_best_weights: true, start_from_epoch: 1, ..Default::default() }")]),
        # The training paths added last: TimeDistributed(BatchNormalization()) (each step's
        # statistics, the moving ones updated per step) under a fused glu (no bias before the
        # normalization: its gradient is rounding noise there, which Adam scales up to full
        # steps in both implementations alike); Bidirectional with
        # merge_mode=None; a convolution with a fused glu.
        Fit("td_batchnorm_glu", """
            x = Input(shape=(4, 3));
            h = TimeDistributed(Dense(4, use_bias=False))(x);
            h = TimeDistributed(BatchNormalization(momentum=0.8))(h);
            model = Model(x, Dense(6, activation="glu")(h))""", mse, adam, "normal",
            metrics=["mae"], epochs=2),
        Fit("bidirectional_none", """
            x = Input(shape=(5, 3));
            f, b = Bidirectional(LSTM(4, return_sequences=True), merge_mode=None)(x);
            h = Concatenate()([f, Dense(4)(b)]);
            model = Model(x, Dense(3, activation="softmax")(Flatten()(h)))""", cce, adam,
            "onehot", metrics=["accuracy"], epochs=2, validation_split=0.3),
        Fit("conv_glu", """
            x = Input(shape=(5, 5, 2));
            h = Conv2D(6, 3, activation="glu")(x);
            model = Model(x, GlobalAveragePooling2D()(h))""", mse,
            ("O.RMSprop(learning_rate=0.01)", "RmsProp { learning_rate: 0.01, ..Default::default() }"),
            "normal", epochs=2),
        Fit("schedule_and_clipping", MLP.format(units=3, act="softmax"), cce,
            ("O.AdamW(weight_decay=0.1, global_clipnorm=0.5, learning_rate="
             "keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.7))",
             "AdamW { weight_decay: Some(0.1), global_clipnorm: Some(0.5), schedule: "
             "Some(Schedule::ExponentialDecay(ExponentialDecay::new(0.05, 2, 0.7))), "
             "..Default::default() }"),
            "onehot", metrics=["accuracy"], epochs=2, validation_split=0.3),
    ]


def make_targets(kind, out_shape, n, rng):
    if kind == "normal":
        return rng.standard_normal((n, *out_shape)).astype(np.float32)
    if kind == "binary":
        return rng.integers(0, 2, (n, *out_shape)).astype(np.float32)
    ids = rng.integers(0, out_shape[-1], (n, *out_shape[:-1]))
    if kind == "ids":
        return ids.astype(np.uint32)
    return one_hot(ids, out_shape[-1])


def target_bytes(t):
    return t.astype("<u4").tobytes() if t.dtype == np.uint32 else _f32_bytes(t)


def run_fit(case, out_dir):
    rng = np.random.default_rng(_seed("fit", case.name))
    ns = namespace()
    ns.update({"L": L, "O": O, "CB": CB})
    model = build(case.text)
    randomise(model, rng)
    in_shape = tuple(model.inputs[0].shape[1:])
    # The real output shape (Keras's symbolic one is wrong after `glu`).
    out_shape = tuple(np.asarray(model(np.zeros((1, *in_shape), np.float32))).shape[1:])
    _write_if_changed(out_dir / f"{case.name}.w0.bin", weights_bytes(model))
    n_test = 7
    data = {}
    for part, n in [("", case.n), ("v", case.n_val), ("t", n_test)]:
        x = rng.standard_normal((n, *in_shape)).astype(np.float32)
        y = make_targets(case.targets, out_shape, n, rng)
        data[part] = (x, y)
        _write_if_changed(out_dir / f"{case.name}.{part}x.bin", _f32_bytes(x))
        _write_if_changed(out_dir / f"{case.name}.{part}y.bin", target_bytes(y))
    model.compile(optimizer=eval(case.optimizer[0], ns),  # noqa: S307 -- local strings
                  loss=eval(case.loss[0], ns), metrics=case.metrics)  # noqa: S307
    callbacks = [eval(c[0], ns) for c in case.callbacks]  # noqa: S307
    x, y = data[""]
    kwargs = dict(case.options)
    if case.n_val:
        kwargs["validation_data"] = data["v"]
    history = model.fit(x, y, shuffle=False, verbose=0, callbacks=callbacks, **kwargs)
    _write_if_changed(out_dir / f"{case.name}.w1.bin", weights_bytes(model))
    evaluations = []
    for bs in (None, 3):
        r = model.evaluate(*data["t"], batch_size=bs, verbose=0)
        r = r if isinstance(r, list) else [r]
        evaluations.append([bs or 32, [float(v) for v in r]])
    return {
        "name": case.name,
        "text": case.text,
        "loss": list(case.loss),
        "optimizer": list(case.optimizer),
        "targets": case.targets,
        "metrics": case.metrics,
        "callbacks": [list(c) for c in case.callbacks],
        "options": case.options,
        "n": case.n,
        "n_val": case.n_val,
        "n_test": n_test,
        "out_shape": list(out_shape),
        "history": [[k, [float(v) for v in vs]] for k, vs in history.history.items()],
        "epochs_run": list(history.epoch),
        "learning_rate": float(np.asarray(model.optimizer.learning_rate)),
        "evaluate": evaluations,
    }


def rust_target(e):
    if e["targets"] != "ids":
        return "dense"
    shape = e["out_shape"][:-1]
    return "ids" if not shape else f"ids_seq({shape[0]})"


def rust_options(e):
    fields = [f"{k}: {rust_option(k, v)}" for k, v in e["options"].items()]
    return ", ".join(fields)


def rust_option(k, v):
    if k == "validation_batch_size":
        return f"Some({v})"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def gen_fit(suite):
    out_dir = FIXTURES / suite
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = fit_cases()
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    entries = [run_fit(c, out_dir) for c in cases]
    keep = {f"{n}.{k}.bin" for n in names for k in ("w0", "w1", "x", "y", "vx", "vy", "tx", "ty")}
    for p in out_dir.glob("*.bin"):
        if p.name not in keep:
            p.unlink()
    manifest = {
        "suite": suite,
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "method": "model.compile(optimizer, loss, metrics); model.fit(x, y, shuffle=False, "
                  "verbose=0, **options); model.evaluate(tx, ty, batch_size) for 32 and 3",
        "cases": entries,
    }
    _write_if_changed(out_dir / "manifest.json", _manifest_json(manifest))
    lines = [
        f"// @generated by tools/gen_train.py from real Keras {KERAS_VERSION}; do not edit.",
        "fit_suite! {",
        f'    suite: "{suite}",',
        f'    keras: "{KERAS_VERSION}",',
        "    cases: [",
    ]
    for e in entries:
        metrics = ", ".join(f'"{m}"' for m in e["metrics"])
        callbacks = ", ".join(c[1] for c in e["callbacks"])
        history = ", ".join(
            f'("{k}", &[{", ".join(f32(v) for v in vs)}])' for k, vs in e["history"])
        epochs = ", ".join(str(v) for v in e["epochs_run"])
        evaluations = ", ".join(
            f"({bs}, &[{', '.join(f32(v) for v in vs)}])" for bs, vs in e["evaluate"])
        lines += [
            f"        {e['name']} {{",
            f"            model: {{ {e['text']} }},",
            f"            loss: {e['loss'][1]},",
            f"            optimizer: {e['optimizer'][1]},",
            f"            targets: {rust_target(e)},",
            f"            metrics: [{metrics}],",
            f"            samples: ({e['n']}, {e['n_val']}, {e['n_test']}),",
            f"            options: {{ {rust_options(e)} }},",
            f"            callbacks: [{callbacks}],",
            f"            history: [{history}],",
            f"            epochs: [{epochs}],",
            f"            learning_rate: {f32(e['learning_rate'])},",
            f"            evaluate: [{evaluations}],",
            "        },",
        ]
    lines += ["    ],", "}", ""]
    _write_if_changed(GENERATED / f"{suite}.rs", "\n".join(lines))
    print(f"suite {suite}: {len(entries)} fit cases -> {out_dir.relative_to(ROOT)}")


SUITES = {"train_steps": lambda: gen_steps("train_steps"),
          "train_steps_cnn": lambda: gen_steps("train_steps_cnn"),
          "train_fit": lambda: gen_fit("train_fit")}


def main(argv):
    keras.utils.set_random_seed(1234)
    for name in argv or list(SUITES):
        SUITES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
