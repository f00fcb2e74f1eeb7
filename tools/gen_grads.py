"""Gradient parity fixtures from REAL Keras: the loss and its gradient with respect to every
trainable variable, by `jax.value_and_grad` over Keras's `model.stateless_call(...,
training=True)` (Dropout rate 0; BatchNormalization in training mode, batch statistics).

How to run (from the repository root, with the venv of tools/requirements.txt):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_grads.py

Each case is a model text that is both Python (Keras's functional API) and the static-keras DSL,
as in tools/gen_graphs.py, and a loss. Outputs per suite (``grads``):

* ``tests/fixtures/<suite>/<case>.{w,x,t,g}.bin``: the weights (``model.weights`` order), the
  inputs, the targets (float32, or uint32 class ids for the sparse losses), the gradients of
  every trainable variable concatenated in ``trainable_variables`` order;
* ``tests/fixtures/<suite>/manifest.json`` (with each case's loss value); ``tests/generated/<suite>.rs``.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import sys
from pathlib import Path

import jax
import numpy as np
import keras

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

# Loss name -> (Keras object, the same loss in Rust, whether targets are class ids).
L = keras.losses
LOSSES = {
    "mse": (lambda: L.MeanSquaredError(), "MeanSquaredError::default()", False),
    "mae": (lambda: L.MeanAbsoluteError(), "MeanAbsoluteError::default()", False),
    "bce": (lambda: L.BinaryCrossentropy(), "BinaryCrossentropy::default()", False),
    "bce_logits": (lambda: L.BinaryCrossentropy(from_logits=True),
                   "BinaryCrossentropy { from_logits: true, ..Default::default() }", False),
    "bce_smooth": (lambda: L.BinaryCrossentropy(label_smoothing=0.1),
                   "BinaryCrossentropy { label_smoothing: 0.1, ..Default::default() }", False),
    "cce": (lambda: L.CategoricalCrossentropy(), "CategoricalCrossentropy::default()", False),
    "cce_logits": (lambda: L.CategoricalCrossentropy(from_logits=True),
                   "CategoricalCrossentropy { from_logits: true, ..Default::default() }", False),
    "cce_smooth": (lambda: L.CategoricalCrossentropy(label_smoothing=0.2),
                   "CategoricalCrossentropy { label_smoothing: 0.2, ..Default::default() }", False),
    "scce": (lambda: L.SparseCategoricalCrossentropy(),
             "SparseCategoricalCrossentropy::default()", True),
    "scce_logits": (lambda: L.SparseCategoricalCrossentropy(from_logits=True),
                    "SparseCategoricalCrossentropy { from_logits: true, ..Default::default() }", True),
    "huber": (lambda: L.Huber(), "Huber::default()", False),
    "huber_half": (lambda: L.Huber(delta=0.5), "Huber { delta: 0.5, ..Default::default() }", False),
    "log_cosh": (lambda: L.LogCosh(), "LogCosh::default()", False),
    "kld": (lambda: L.KLDivergence(), "KlDivergence::default()", False),
    "hinge": (lambda: L.Hinge(), "Hinge::default()", False),
    "squared_hinge": (lambda: L.SquaredHinge(), "SquaredHinge::default()", False),
    "poisson": (lambda: L.Poisson(), "Poisson::default()", False),
    "cosine": (lambda: L.CosineSimilarity(), "CosineSimilarity::default()", False),
}


class Case:
    def __init__(self, name, text, loss="mse", batch=5, inputs="normal", targets="normal"):
        self.name = name
        self.text = " ".join(text.split())
        self.loss = loss
        self.batch = batch
        self.inputs = inputs
        self.targets = targets


def build(case):
    keras.backend.clear_session()
    ns = namespace()
    exec(case.text, ns)  # noqa: S102 -- trusted, local strings
    return ns["model"]


def run_case(suite, case, out_dir):
    rng = np.random.default_rng(_seed(suite, case.name))
    model = build(case)
    randomise(model, rng)
    (inp,) = model.inputs
    x = rng.standard_normal((case.batch, *inp.shape[1:])).astype(np.float32)
    # The real output shape (Keras's symbolic one is wrong after `glu`).
    out_shape = tuple(np.asarray(model(x, training=False)).shape)
    make_loss, rust_loss, sparse = LOSSES[case.loss]
    if sparse:
        t = rng.integers(0, out_shape[-1], size=out_shape[:-1]).astype(np.uint32)
    elif case.targets == "probs":
        t = rng.uniform(0, 1, out_shape)
        t = (t / t.sum(axis=-1, keepdims=True)).astype(np.float32)
    elif case.targets == "binary":
        t = rng.integers(0, 2, out_shape).astype(np.float32)
    else:
        t = rng.standard_normal(out_shape).astype(np.float32)
    loss_obj = make_loss()
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]

    def f(tv):
        y_pred, _ = model.stateless_call(tv, frozen, x, training=True)
        return loss_obj(t, y_pred)

    loss, grads = jax.value_and_grad(f)(trainable)
    grads = [np.asarray(g, dtype=np.float32) for g in grads]
    for g in grads:
        if not np.all(np.isfinite(g)):
            raise ValueError(f"{case.name}: non-finite gradient")
    weights = b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights)
    _write_if_changed(out_dir / f"{case.name}.w.bin", weights)
    _write_if_changed(out_dir / f"{case.name}.x.bin", _f32_bytes(x))
    t_bytes = t.astype("<u4").tobytes() if sparse else _f32_bytes(t)
    _write_if_changed(out_dir / f"{case.name}.t.bin", t_bytes)
    _write_if_changed(out_dir / f"{case.name}.g.bin", b"".join(_f32_bytes(g) for g in grads))
    return {
        "name": case.name,
        "text": case.text,
        "loss": case.loss,
        "rust_loss": rust_loss,
        "loss_value": float(loss),
        "batch": case.batch,
        "params": int(model.count_params()),
        "trainable": [{"path": v.path, "shape": [int(d) for d in v.shape]}
                      for v in model.trainable_variables],
        "keras_version": KERAS_VERSION,
    }


def render_rust(suite, entries):
    lines = [
        f"// @generated by tools/gen_grads.py from real Keras {KERAS_VERSION}; do not edit.",
        "grads_suite! {",
        f'    suite: "{suite}",',
        f'    keras: "{KERAS_VERSION}",',
        "    cases: [",
    ]
    for e in entries:
        lines.append(f"        {e['name']} {{")
        lines.append(f"            model: {{ {e['text']} }},")
        lines.append(f"            loss: {e['rust_loss']},")
        # The loss as the shortest decimal that reads back to the same f32.
        value = str(np.float32(e["loss_value"]))
        lines.append(f"            value: {value},")
        lines.append("        },")
    lines += ["    ],", "}", ""]
    return "\n".join(lines)


def gen_suite(suite, cases):
    out_dir = FIXTURES / suite
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    entries = [run_case(suite, c, out_dir) for c in cases]
    keep = {f"{n}.{k}.bin" for n in names for k in ("w", "x", "t", "g")}
    for p in out_dir.glob("*.bin"):
        if p.name not in keep:
            p.unlink()
    manifest = {
        "suite": suite,
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "method": "jax.value_and_grad of the loss over model.stateless_call(trainable, "
                  "non_trainable, x, training=True)",
        "cases": entries,
    }
    _write_if_changed(out_dir / "manifest.json", _manifest_json(manifest))
    _write_if_changed(GENERATED / f"{suite}.rs", render_rust(suite, entries))
    print(f"suite {suite}: {len(entries)} cases -> {out_dir.relative_to(ROOT)}")


ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "sigmoid",
               "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu", "gelu",
               "hard_sigmoid", "hard_silu", "hard_tanh", "exponential", "mish", "log_sigmoid",
               "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus",
               "sparse_sigmoid", "sparsemax"]


def core_cases():
    C = Case
    cases = [
        C("dense_mlp", """
            x = Input(shape=(6,));
            h = Dense(8, activation="tanh")(x);
            y = Dense(3)(h);
            model = Model(x, y)"""),
        C("dense_no_bias_sequence", """
            x = Input(shape=(4, 5));
            y = Dense(3, use_bias=False, activation="relu")(Dense(6)(x));
            model = Model(x, y)"""),
        C("dense_softmax_head", """
            x = Input(shape=(7,));
            y = Dense(4, activation="softmax")(Dense(5, activation="sigmoid")(x));
            model = Model(x, y)""", targets="probs"),
        C("flatten_reshape_dropout0", """
            x = Input(shape=(3, 4));
            h = Reshape((2, 6))(Dense(4)(x));
            h = Dropout(0.0)(Flatten()(h));
            model = Model(x, Dense(2)(h))"""),
        C("glu_layer", """
            x = Input(shape=(5,));
            model = Model(x, Activation("glu")(Dense(8)(x)))"""),
        C("merges", """
            x = Input(shape=(6,));
            a = Dense(4, activation="tanh")(x);
            b = Dense(4)(x);
            s = Add()([a, b, a]);
            m = Multiply()([a, b]);
            d = Subtract()([m, s]);
            v = Average()([d, b]);
            hi = Maximum()([v, a]);
            lo = Minimum()([hi, b]);
            c = Concatenate()([lo, s]);
            model = Model(x, Dense(2)(c))"""),
        C("dot_and_cosine", """
            x = Input(shape=(3, 4));
            a = Dense(5)(x);
            b = Dense(5, activation="tanh")(x);
            p = Dot(axes=(2, 2))([a, b]);
            q = Dot(axes=1, normalize=True)([a, b]);
            model = Model(x, Concatenate(axis=1)([Flatten()(p), Flatten()(q)]))"""),
        C("shared_layer", """
            x = Input(shape=(4,));
            d = Dense(4, activation="tanh");
            y = d(d(x));
            model = Model(x, Dense(1)(Concatenate()([y, d(x)])))"""),
        C("frozen_layer", """
            x = Input(shape=(5,));
            h = Dense(6, activation="relu", trainable=False)(x);
            model = Model(x, Dense(2)(Dense(3)(h)))"""),
        C("frozen_first_two", """
            x = Input(shape=(5,));
            h = Dense(6, activation="relu", trainable=False)(x);
            h = Dense(4, trainable=False)(h);
            model = Model(x, Dense(2)(h))"""),
    ]
    # Every loss on a head that fits it (probabilities, logits, positive rates, ±1 margins).
    head = {"probs": "softmax", "binary": "sigmoid", "normal": "linear"}
    loss_cases = [
        ("mse", "linear", "normal"), ("mae", "linear", "normal"),
        ("bce", "sigmoid", "binary"), ("bce_logits", "linear", "binary"),
        ("bce_smooth", "sigmoid", "binary"),
        ("cce", "softmax", "probs"), ("cce_logits", "linear", "probs"),
        ("cce_smooth", "softmax", "probs"),
        ("scce", "softmax", "ids"), ("scce_logits", "linear", "ids"),
        ("huber", "linear", "normal"), ("huber_half", "linear", "normal"),
        ("log_cosh", "linear", "normal"), ("kld", "softmax", "probs"),
        ("hinge", "tanh", "binary"), ("squared_hinge", "linear", "binary"),
        ("poisson", "softplus", "probs"), ("cosine", "linear", "normal"),
    ]
    del head
    for loss, act, targets in loss_cases:
        cases.append(C(f"loss_{loss}", f"""
            x = Input(shape=(6,));
            h = Dense(5, activation="tanh")(x);
            model = Model(x, Dense(4, activation="{act}")(h))""", loss=loss, targets=targets))
        # The same loss over a sequence output (B, T, D): reduced over the batch and the steps.
        cases.append(C(f"seq_{loss}", f"""
            x = Input(shape=(3, 6));
            model = Model(x, Dense(4, activation="{act}")(Dense(5, activation="tanh")(x)))""",
                       loss=loss, targets=targets))
    for act in ACTIVATIONS:
        cases.append(C(f"act_{act}", f"""
            x = Input(shape=(6,));
            h = Activation("{act}")(Dense(6)(x));
            model = Model(x, Dense(2, activation="{act}")(h))"""))
    return cases


import gen_wrappers  # noqa: E402  (tools/gen_wrappers.py)

SUITES = {"grads": core_cases, "grads_wrappers": lambda: gen_wrappers.grads_cases(Case)}


def main(argv):
    wanted = argv or list(SUITES)
    for name in wanted:
        gen_suite(name, SUITES[name]())


if __name__ == "__main__":
    main(sys.argv[1:])
