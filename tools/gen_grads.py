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
    def __init__(self, name, text, loss="mse", batch=5, inputs="normal", targets="normal",
                 zeros=(), setup=None):
        self.name = name
        self.text = " ".join(text.split())
        self.loss = loss
        self.batch = batch
        self.inputs = inputs
        self.targets = targets
        # Paths of variables set to zero after the random weights are drawn (a zero kernel
        # makes a layer's output its bias at every position: exact ties for max pooling).
        self.zeros = zeros
        # Sets chosen weights after the random ones (`model -> None`).
        self.setup = setup


def randomise_stats(model, rng):
    """`randomise`, and every variance (BatchNormalization's moving variance, an adapted
    Normalization's variance) positive."""
    randomise(model, rng)
    for v in model.weights:
        if v.path.endswith("variance"):
            v.assign(rng.uniform(0.5, 2.0, tuple(v.shape)).astype(np.float32))
    # An adapted Normalization computes with constants taken from its variables when built
    # (as after loading weights, Keras refreshes them).
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()


def build(case):
    keras.backend.clear_session()
    ns = namespace()
    exec(case.text, ns)  # noqa: S102 -- trusted, local strings
    return ns["model"]


def run_case(suite, case, out_dir, after=False):
    """One case's fixtures. With `after`, also the weights after the step's forward pass
    (``<case>.a.bin``, ``model.weights`` order): the non-trainable variables as
    `stateless_call` returns them updated (BatchNormalization's moving statistics), the
    trainable ones unchanged."""
    rng = np.random.default_rng(_seed(suite, case.name))
    model = build(case)
    (randomise_stats if after else randomise)(model, rng)
    for v in model.weights:
        if v.path in case.zeros:
            v.assign(np.zeros(tuple(v.shape), np.float32))
    assert all(any(v.path == p for v in model.weights) for p in case.zeros), case.zeros
    if case.setup:
        case.setup(model)
    (inp,) = model.inputs
    shape = (case.batch, *inp.shape[1:])
    if case.inputs.startswith("ids:"):
        # Token ids; "ids:V:pad" sets about a third of them to the padding id 0 (never a whole
        # sample, whose masked mean would be 0/0).
        _, vocab, *pad = case.inputs.split(":")
        x = rng.integers(1, int(vocab), size=shape)
        if pad:
            x = np.where(rng.uniform(size=shape) < 0.35, 0, x)
            x[:, -1] = np.where((x != 0).any(axis=1), x[:, -1], 1)
        x = x.astype(np.int32)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
        if case.inputs == "masked":
            # Whole steps at Masking's value 0 (about a third, never a whole sample).
            gone = rng.uniform(size=shape[:2]) < 0.35
            gone[:, -1] = False
            x[gone] = 0.0
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
        y_pred, updated = model.stateless_call(tv, frozen, x, training=True)
        return loss_obj(t, y_pred), updated

    (loss, updated), grads = jax.value_and_grad(f, has_aux=True)(trainable)
    grads = [np.asarray(g, dtype=np.float32) for g in grads]
    for g in grads:
        if not np.all(np.isfinite(g)):
            raise ValueError(f"{case.name}: non-finite gradient")
    weights = b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights)
    if after:
        for v, new in zip(model.non_trainable_variables, updated):
            v.assign(new)
        _write_if_changed(out_dir / f"{case.name}.a.bin",
                          b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights))
    _write_if_changed(out_dir / f"{case.name}.w.bin", weights)
    _write_if_changed(out_dir / f"{case.name}.x.bin", _f32_bytes(x.astype(np.float32)))
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


def render_rust(suite, entries, after=False):
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
        if after:
            lines.append('            after: "a",')
        lines.append("        },")
    lines += ["    ],", "}", ""]
    return "\n".join(lines)


def gen_suite(suite, cases):
    out_dir = FIXTURES / suite
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    after = suite in AFTER
    entries = [run_case(suite, c, out_dir, after) for c in cases]
    kinds = ("w", "x", "t", "g", "a") if after else ("w", "x", "t", "g")
    keep = {f"{n}.{k}.bin" for n in names for k in kinds}
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
    _write_if_changed(GENERATED / f"{suite}.rs", render_rust(suite, entries, after))
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


def rnn_cases():
    """Recurrent layers (every option), Embedding, Masking, masks through the graph to the loss."""
    C = Case
    cases = []
    cells = {
        "simple_rnn": "SimpleRNN(4{})",
        "lstm": "LSTM(4{})",
        "gru": "GRU(4{})",
        "gru_before": "GRU(4, reset_after=False{})",
    }
    options = {
        "last": "",
        "seq": ", return_sequences=True",
        "back": ", go_backwards=True",
        "seq_back": ", return_sequences=True, go_backwards=True",
        "no_bias": ", use_bias=False, return_sequences=True",
        "dropout0": ", dropout=0.0, recurrent_dropout=0.0",
    }
    for cell, layer in cells.items():
        for opt, args in options.items():
            head = "Flatten()(h)" if "return_sequences" in args else "h"
            cases.append(C(f"{cell}_{opt}", f"""
                x = Input(shape=(5, 3));
                h = {layer.format(args)}(x);
                model = Model(x, Dense(2)({head}))"""))
    # Activations other than Keras's defaults (the fused inference kernels do not apply).
    cases += [
        C("simple_rnn_acts", """
            x = Input(shape=(4, 3));
            h = SimpleRNN(5, activation="sigmoid", return_sequences=True)(x);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        C("lstm_acts", """
            x = Input(shape=(4, 3));
            h = LSTM(3, activation="softsign", recurrent_activation="hard_sigmoid")(x);
            model = Model(x, Dense(2)(h))"""),
        C("gru_acts", """
            x = Input(shape=(4, 3));
            h = GRU(3, activation="relu", recurrent_activation="tanh", return_sequences=True)(x);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        C("gru_before_acts", """
            x = Input(shape=(4, 3));
            h = GRU(3, activation="elu", recurrent_activation="softsign", reset_after=False)(x);
            model = Model(x, Dense(2)(h))"""),
        # return_state used downstream: the states' gradients flow back too.
        C("lstm_return_state", """
            x = Input(shape=(5, 3));
            o, h, c = LSTM(4, return_state=True)(x);
            model = Model(x, Dense(2)(Concatenate()([o, h, Dense(3)(c)])))"""),
        C("gru_return_state_seq", """
            x = Input(shape=(5, 3));
            s, h = GRU(4, return_sequences=True, return_state=True, go_backwards=True)(x);
            model = Model(x, Add()([Dense(2)(Flatten()(s)), Dense(2)(h)]))"""),
        C("simple_rnn_state_only", """
            x = Input(shape=(5, 3));
            _o, h = SimpleRNN(4, return_state=True)(x);
            model = Model(x, Dense(2)(h))"""),
        # Stacks.
        C("lstm_gru_stack", """
            x = Input(shape=(6, 3));
            h = LSTM(5, return_sequences=True)(x);
            h = GRU(4, return_sequences=True, go_backwards=True)(h);
            model = Model(x, Dense(2)(SimpleRNN(3)(h)))"""),
        C("rnn_sequence_head", """
            x = Input(shape=(5, 3));
            h = GRU(4, return_sequences=True)(x);
            model = Model(x, Dense(3, activation="softmax")(h))""", targets="probs", loss="cce"),
        # Embedding: token ids in, the table's rows get the gradients of the positions reading them.
        C("embedding_dense", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(7, 3)(x);
            model = Model(x, Dense(2)(Flatten()(h)))""", inputs="ids:7"),
        C("embedding_lstm", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(9, 4)(x);
            model = Model(x, Dense(2)(LSTM(3)(h)))""", inputs="ids:9"),
        # Masks (Embedding(mask_zero=True), Masking) through recurrent layers to the loss.
        C("mask_simple_rnn", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            model = Model(x, Dense(2)(SimpleRNN(4)(h)))""", inputs="ids:8:pad"),
        C("mask_lstm_seq_scce", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = LSTM(4, return_sequences=True)(h);
            model = Model(x, Dense(3)(h))""", inputs="ids:8:pad", loss="scce_logits"),
        C("mask_gru_back_zero_output", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = GRU(4, return_sequences=True, go_backwards=True, zero_output_for_mask=True)(h);
            model = Model(x, Dense(3, activation="softmax")(h))""", inputs="ids:8:pad", loss="scce"),
        C("mask_gru_before_last", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = GRU(4, reset_after=False, zero_output_for_mask=True)(h);
            model = Model(x, Dense(2)(h))""", inputs="ids:8:pad"),
        C("mask_through_dense_dropout_gap", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 4, mask_zero=True)(x);
            h = LSTM(5, return_sequences=True)(h);
            h = Dropout(0.0)(Dense(4, activation="tanh")(h));
            model = Model(x, Dense(2)(GlobalAveragePooling1D()(h)))""", inputs="ids:8:pad"),
        C("mask_stack_return_state", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = SimpleRNN(4, return_sequences=True, zero_output_for_mask=True)(h);
            o, hs, c = LSTM(3, return_state=True, go_backwards=True)(h);
            model = Model(x, Dense(2)(Concatenate()([o, hs, c])))""", inputs="ids:8:pad"),
        C("masking_gru_seq", """
            x = Input(shape=(5, 3));
            h = Masking()(x);
            h = GRU(4, return_sequences=True, go_backwards=True)(h);
            model = Model(x, Dense(2)(h))""", inputs="masked"),
        C("masking_lstm_gap", """
            x = Input(shape=(5, 3));
            h = Masking(mask_value=0.0)(Dense(3, use_bias=False)(x));
            h = LSTM(4, return_sequences=True)(h);
            model = Model(x, Dense(2)(GlobalAveragePooling1D()(h)))""", inputs="masked"),
        C("masked_sequence_mse", """
            x = Input(shape=(6,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            model = Model(x, Dense(2)(Dense(4, activation="relu")(h)))""", inputs="ids:8:pad"),
    ]
    return cases


def conv_cases():
    """Convolutions, pooling, padding, cropping and up-sampling: every layer and option, each
    behind a trainable layer so that its input gradient is checked too."""
    C = Case
    cases = [
        # Conv1D: valid, same with strides on an odd length, causal with dilation, groups.
        C("conv1d_valid", """
            x = Input(shape=(9, 3));
            h = Conv1D(4, 3, activation="tanh")(x);
            model = Model(x, Conv1D(2, 2)(h))"""),
        C("conv1d_same_strides", """
            x = Input(shape=(11, 2));
            h = Conv1D(5, 4, strides=2, padding="same", activation="sigmoid")(x);
            model = Model(x, Conv1D(3, 3, strides=2, padding="same")(h))"""),
        C("conv1d_causal_dilation", """
            x = Input(shape=(10, 3));
            h = Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")(x);
            model = Model(x, Conv1D(2, 2, padding="causal", dilation_rate=3)(h))"""),
        C("conv1d_groups", """
            x = Input(shape=(8, 6));
            h = Conv1D(6, 3, groups=3, activation="elu")(x);
            model = Model(x, Conv1D(4, 2, groups=2, use_bias=False)(h))"""),
        # Conv2D: odd sizes, rectangular kernels and strides, dilation, groups, no bias.
        C("conv2d_same_strides", """
            x = Input(shape=(7, 6, 2));
            h = Conv2D(4, 3, strides=2, padding="same", activation="relu")(x);
            model = Model(x, Conv2D(3, 2, padding="same")(h))"""),
        C("conv2d_valid_rect", """
            x = Input(shape=(8, 7, 3));
            h = Conv2D(4, (3, 2), strides=(2, 1), activation="tanh")(x);
            model = Model(x, Conv2D(2, (2, 3), strides=(1, 2))(h))"""),
        C("conv2d_dilation", """
            x = Input(shape=(9, 8, 2));
            h = Conv2D(3, 3, dilation_rate=(2, 1), padding="same", activation="silu")(x);
            model = Model(x, Conv2D(2, (2, 3), dilation_rate=2)(h))"""),
        C("conv2d_groups_no_bias", """
            x = Input(shape=(6, 5, 4));
            h = Conv2D(8, 3, groups=4, use_bias=False, padding="same", activation="gelu")(x);
            model = Model(x, Conv2D(4, 2, groups=2)(h))"""),
        # More filters per group than one register block (16), more rows than one panel
        # (3·3·30 = 270 > 256).
        C("conv2d_wide", """
            x = Input(shape=(5, 4, 30));
            h = Conv2D(36, 3, padding="same", activation="tanh")(x);
            h = Conv2D(40, 2, groups=2, activation="sigmoid")(h);
            model = Model(x, Conv2D(3, 1)(h))""", batch=3),
        C("conv2d_softmax_cce", """
            x = Input(shape=(5, 5, 2));
            h = Conv2D(4, 3, padding="same", activation="relu")(x);
            model = Model(x, Conv2D(3, 3, activation="softmax")(h))""",
          loss="cce", targets="probs"),
        # Conv3D.
        C("conv3d_valid", """
            x = Input(shape=(4, 5, 4, 2));
            h = Conv3D(3, 2, activation="relu")(x);
            model = Model(x, Conv3D(2, (2, 1, 2), strides=(1, 2, 1), padding="same")(h))""",
          batch=3),
        C("conv3d_groups_dilation", """
            x = Input(shape=(5, 4, 5, 4));
            h = Conv3D(4, 2, groups=2, dilation_rate=(2, 1, 1), activation="tanh")(x);
            model = Model(x, Conv3D(2, 2, strides=2, padding="same", use_bias=False)(h))""",
          batch=3),
        # Pooling, between trainable layers.
        C("maxpool1d", """
            x = Input(shape=(11, 3));
            h = MaxPooling1D(3, strides=2, padding="same")(Conv1D(4, 2, activation="tanh")(x));
            h = MaxPooling1D()(h);
            model = Model(x, Conv1D(2, 2)(h))"""),
        C("maxpool2d", """
            x = Input(shape=(9, 8, 2));
            h = Conv2D(3, 2, activation="tanh")(x);
            h = MaxPooling2D((3, 2), strides=(2, 1), padding="same")(h);
            h = MaxPooling2D(2)(h);
            model = Model(x, Conv2D(2, 2, padding="same")(h))"""),
        C("maxpool3d", """
            x = Input(shape=(5, 5, 4, 2));
            h = MaxPooling3D(2, padding="same")(Conv3D(3, 2, activation="sigmoid")(x));
            model = Model(x, Conv3D(2, 1)(MaxPooling3D((1, 2, 1), strides=1)(h)))""", batch=3),
        C("avgpool1d", """
            x = Input(shape=(11, 3));
            h = AveragePooling1D(3, strides=2, padding="same")(Conv1D(4, 2, activation="tanh")(x));
            model = Model(x, Conv1D(2, 2)(AveragePooling1D(2, strides=1)(h)))"""),
        C("avgpool2d", """
            x = Input(shape=(9, 8, 2));
            h = Conv2D(3, 2, activation="tanh")(x);
            h = AveragePooling2D((3, 2), strides=(2, 1), padding="same")(h);
            h = AveragePooling2D(2)(h);
            model = Model(x, Conv2D(2, 2, padding="same")(h))"""),
        C("avgpool3d", """
            x = Input(shape=(5, 5, 4, 2));
            h = AveragePooling3D(2, padding="same")(Conv3D(3, 2, activation="elu")(x));
            model = Model(x, Conv3D(2, 1)(AveragePooling3D((1, 2, 1), strides=1)(h)))""",
          batch=3),
        # Ties. A zero kernel makes `flat` output its bias at every position, so every window
        # ties, and which position gets the gradient shows in `∂flat.kernel = Σ ∂h[p]·x[p]`
        # (`MaxPooling` gives it to the window's first maximum, `GlobalMaxPooling` splits it).
        # Ties from up-sampling repeat one source value, which would not tell them apart.
        C("maxpool_ties", """
            x = Input(shape=(5, 4, 2));
            h = Conv2D(3, 1, name="flat")(x);
            h = MaxPooling2D(3, strides=(2, 1), padding="same")(h);
            model = Model(x, Conv2D(2, 2)(h))""", zeros=("flat/kernel",)),
        C("maxpool1d_ties", """
            x = Input(shape=(7, 2));
            h = Conv1D(3, 1, name="flat")(x);
            model = Model(x, Conv1D(2, 2)(MaxPooling1D(3, strides=1)(h)))""",
          zeros=("flat/kernel",)),
        C("maxpool3d_ties", """
            x = Input(shape=(3, 4, 3, 2));
            h = Conv3D(2, 1, name="flat")(x);
            model = Model(x, Conv3D(2, 1)(MaxPooling3D(2, padding="same")(h)))""",
          zeros=("flat/kernel",), batch=3),
        C("global_max_ties", """
            x = Input(shape=(3, 4, 2));
            h = Conv2D(4, 1, name="flat")(x);
            model = Model(x, Dense(3)(GlobalMaxPooling2D()(h)))""", zeros=("flat/kernel",)),
        C("global_max_ties_1d", """
            x = Input(shape=(6, 2));
            h = Conv1D(3, 1, name="flat")(x);
            model = Model(x, Dense(2)(GlobalMaxPooling1D()(h)))""", zeros=("flat/kernel",)),
        C("upsampled_max", """
            x = Input(shape=(4, 3, 2));
            h = UpSampling2D(2)(Conv2D(3, 2, padding="same", activation="tanh")(x));
            h = MaxPooling2D(3, strides=1, padding="same")(h);
            model = Model(x, Conv2D(2, 2, strides=2)(h))"""),
        # Global pooling, with and without keepdims.
        C("global_pool_1d", """
            x = Input(shape=(7, 3));
            h = Conv1D(4, 2, activation="tanh")(x);
            a = GlobalAveragePooling1D()(h);
            m = GlobalMaxPooling1D()(h);
            model = Model(x, Dense(2)(Concatenate()([a, m])))"""),
        C("global_pool_2d_keepdims", """
            x = Input(shape=(5, 4, 2));
            h = Conv2D(3, 2, activation="tanh")(x);
            a = GlobalAveragePooling2D(keepdims=True)(h);
            m = GlobalMaxPooling2D(keepdims=True)(h);
            model = Model(x, Conv2D(2, 1)(Concatenate()([a, m])))"""),
        C("global_pool_3d", """
            x = Input(shape=(3, 4, 3, 2));
            h = Conv3D(3, 2, activation="tanh")(x);
            a = GlobalAveragePooling3D()(h);
            m = GlobalMaxPooling3D(keepdims=True)(h);
            model = Model(x, Dense(2)(Concatenate()([a, Flatten()(m)])))""", batch=3),
        # Padding and cropping.
        C("zero_padding", """
            x = Input(shape=(6, 2));
            h = ZeroPadding1D((2, 1))(Conv1D(3, 2, activation="tanh")(x));
            model = Model(x, Conv1D(2, 3)(h))"""),
        C("zero_padding_2d_3d", """
            x = Input(shape=(4, 5, 2));
            h = ZeroPadding2D(((1, 2), (0, 1)))(Conv2D(3, 2, activation="tanh")(x));
            h = Conv2D(2, 3)(h);
            model = Model(x, h)"""),
        C("zero_padding_3d", """
            x = Input(shape=(3, 3, 4, 2));
            h = ZeroPadding3D(((1, 0), (0, 2), (1, 1)))(Conv3D(3, 2, activation="tanh")(x));
            model = Model(x, Conv3D(2, 2)(h))""", batch=3),
        C("cropping", """
            x = Input(shape=(9, 2));
            h = Cropping1D((2, 1))(Conv1D(3, 2, activation="tanh")(x));
            model = Model(x, Conv1D(2, 2)(h))"""),
        C("cropping_2d", """
            x = Input(shape=(7, 8, 2));
            h = Cropping2D(((1, 2), (2, 0)))(Conv2D(3, 2, activation="tanh")(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("cropping_3d", """
            x = Input(shape=(5, 5, 6, 2));
            h = Cropping3D(((1, 0), (0, 1), (2, 1)))(Conv3D(3, 2, activation="tanh")(x));
            model = Model(x, Conv3D(2, 2)(h))""", batch=3),
        # Up-sampling.
        C("upsampling_1d", """
            x = Input(shape=(5, 2));
            h = UpSampling1D(3)(Conv1D(3, 2, activation="tanh")(x));
            model = Model(x, Conv1D(2, 3, strides=2)(h))"""),
        C("upsampling_2d_nearest", """
            x = Input(shape=(4, 3, 2));
            h = UpSampling2D((2, 3))(Conv2D(3, 2, activation="tanh")(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("upsampling_2d_bilinear", """
            x = Input(shape=(4, 5, 2));
            h = UpSampling2D((3, 2), interpolation="bilinear")(Conv2D(3, 2, activation="tanh")(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("upsampling_3d", """
            x = Input(shape=(3, 3, 3, 2));
            h = UpSampling3D((2, 1, 2))(Conv3D(3, 2, activation="tanh")(x));
            model = Model(x, Conv3D(2, 2)(h))""", batch=3),
        # Depthwise and separable convolutions.
        C("depthwise1d", """
            x = Input(shape=(9, 3));
            h = DepthwiseConv1D(3, depth_multiplier=2, activation="tanh")(Conv1D(3, 1)(x));
            h = DepthwiseConv1D(2, strides=2, padding="same", dilation_rate=1)(h);
            model = Model(x, Conv1D(2, 2)(h))"""),
        C("depthwise2d", """
            x = Input(shape=(7, 6, 2));
            h = DepthwiseConv2D(3, padding="same", activation="relu")(Conv2D(3, 1)(x));
            h = DepthwiseConv2D((2, 3), strides=2, dilation_rate=(1, 2), depth_multiplier=3,
                                use_bias=False)(h);
            model = Model(x, Conv2D(2, 1)(h))"""),
        C("depthwise2d_strided_dilated", """
            x = Input(shape=(9, 9, 2));
            h = DepthwiseConv2D(3, strides=2, dilation_rate=2, padding="same",
                                activation="sigmoid")(Conv2D(4, 1)(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("separable1d", """
            x = Input(shape=(9, 3));
            h = SeparableConv1D(4, 3, depth_multiplier=2, activation="tanh")(Conv1D(3, 1)(x));
            h = SeparableConv1D(3, 2, strides=2, padding="same", use_bias=False)(h);
            model = Model(x, Conv1D(2, 2)(h))"""),
        C("separable2d", """
            x = Input(shape=(7, 6, 2));
            h = SeparableConv2D(5, 3, padding="same", activation="relu")(Conv2D(3, 1)(x));
            h = SeparableConv2D(3, (2, 3), strides=2, dilation_rate=1, depth_multiplier=2,
                                activation="softmax")(h);
            model = Model(x, Conv2D(2, 1)(h))"""),
        C("separable2d_dilated", """
            x = Input(shape=(8, 8, 2));
            h = SeparableConv2D(4, 3, dilation_rate=2, padding="same",
                                activation="gelu")(Conv2D(3, 1)(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        # Transposed convolutions.
        C("conv1d_transpose", """
            x = Input(shape=(5, 3));
            h = Conv1DTranspose(4, 3, strides=2, activation="tanh")(Conv1D(3, 1)(x));
            h = Conv1DTranspose(3, 4, strides=3, padding="same", output_padding=2)(h);
            model = Model(x, Conv1D(2, 3)(h))"""),
        C("conv1d_transpose_dilation", """
            x = Input(shape=(6, 2));
            h = Conv1DTranspose(3, 3, dilation_rate=2, activation="elu")(Conv1D(3, 1)(x));
            h = Conv1DTranspose(2, 2, padding="same", use_bias=False)(h);
            model = Model(x, h)"""),
        C("conv2d_transpose", """
            x = Input(shape=(3, 4, 2));
            h = Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu")(Conv2D(3, 1)(x));
            h = Conv2DTranspose(2, (2, 3), strides=(1, 2), output_padding=(0, 1))(h);
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("conv2d_transpose_dilation", """
            x = Input(shape=(4, 3, 2));
            h = Conv2DTranspose(3, 2, dilation_rate=(2, 1), activation="tanh")(Conv2D(3, 1)(x));
            model = Model(x, Conv2D(2, 2)(h))"""),
        C("conv3d_transpose", """
            x = Input(shape=(2, 3, 2, 2));
            h = Conv3DTranspose(3, 2, strides=(2, 1, 2), activation="tanh")(Conv3D(2, 1)(x));
            h = Conv3DTranspose(2, 3, strides=2, padding="same", output_padding=1)(h);
            model = Model(x, h)""", batch=3),
        # Stacks: conv → pool → conv with a classifier head, and a DS-CNN / MobileNet block.
        C("conv_pool_conv", """
            x = Input(shape=(10, 10, 1));
            h = Conv2D(4, 3, padding="same", activation="relu")(x);
            h = MaxPooling2D(2)(h);
            h = Conv2D(6, 3, activation="relu")(h);
            h = AveragePooling2D(2, padding="same")(h);
            model = Model(x, Dense(3, activation="softmax")(Flatten()(h)))""",
          loss="scce"),
        C("ds_cnn_block", """
            x = Input(shape=(12, 10, 1));
            h = Conv2D(8, (4, 3), strides=2, padding="same", activation="relu")(x);
            h = DepthwiseConv2D(3, padding="same", activation="relu")(h);
            h = Conv2D(8, 1, activation="relu")(h);
            h = DepthwiseConv2D(3, padding="same", activation="relu")(h);
            h = Conv2D(12, 1, activation="relu")(h);
            h = GlobalAveragePooling2D()(h);
            model = Model(x, Dense(4, activation="softmax")(h))""",
          loss="cce", targets="probs"),
        C("mobilenet_block", """
            x = Input(shape=(9, 9, 3));
            h = Conv2D(6, 3, strides=2, padding="same", activation="relu6")(x);
            h = DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(h);
            h = Conv2D(8, 1, use_bias=False)(h);
            r = Conv2D(8, 1, activation="relu6")(h);
            r = DepthwiseConv2D(3, padding="same", activation="relu6")(r);
            r = Conv2D(8, 1)(r);
            h = Add()([h, r]);
            h = ZeroPadding2D(1)(UpSampling2D(2, interpolation="bilinear")(h));
            h = SeparableConv2D(4, 3, strides=2, activation="relu")(h);
            model = Model(x, Dense(2)(GlobalMaxPooling2D()(h)))""",
          loss="huber"),
        C("conv1d_bce_head", """
            x = Input(shape=(16, 2));
            h = Conv1D(4, 5, padding="causal", activation="relu")(x);
            h = MaxPooling1D(2)(h);
            h = SeparableConv1D(4, 3, padding="same", activation="tanh")(h);
            h = GlobalAveragePooling1D()(h);
            model = Model(x, Dense(1, activation="sigmoid")(h))""",
          loss="bce", targets="binary"),
    ]
    # Every activation fused into a convolution, seven side by side per case (1×1 kernels on
    # three channels keep `exponential`'s values moderate: a loss in the hundreds leaves the
    # f32 rounding of the reference itself near the tolerance).
    for i in range(0, len(ACTIVATIONS), 7):
        group = ACTIVATIONS[i:i + 7]
        branches = "".join(
            f'b{j} = Conv2D(3, 1, activation="{act}")(h);'
            for j, act in enumerate(group))
        names = ", ".join(f"b{j}" for j in range(len(group)))
        cases.append(C(f"conv_act_{i // 7}", f"""
            x = Input(shape=(4, 3, 2));
            h = Conv2D(3, 2, padding="same")(x);
            {branches}
            model = Model(x, Conv2D(2, 1)(Concatenate()([{names}])))"""))
    return cases


def misc_cases():
    """Normalization, activation, shape and noise layers (noise at rate 0, the only setting
    whose bits Keras and static-keras share). Dense on an image `(H, W, C)` is a 1x1
    convolution: it stands in for Conv2D, which trains in another branch."""
    C = Case

    cases = []

    def add(name, body, shape="(6,)", out="Dense(3)", **kw):
        cases.append(C(name, f"x = Input(shape={shape}); {body}; model = Model(x, {out}(h))", **kw))

    # --- BatchNormalization: the batch statistics, every center/scale, momentum, axes.
    add("bn_dense", "h = BatchNormalization()(Dense(5)(x))")
    add("bn_momentum_epsilon", "h = BatchNormalization(momentum=0.9, epsilon=0.01)(Dense(5)(x))")
    add("bn_no_center", "h = BatchNormalization(center=False, momentum=0.5)(Dense(5)(x))")
    add("bn_no_scale", "h = BatchNormalization(scale=False)(Dense(5)(x))")
    add("bn_neither", "h = BatchNormalization(center=False, scale=False)(Dense(5)(x))")
    add("bn_first_layer", "h = Dense(4, activation=\"tanh\")(BatchNormalization()(x))")
    add("bn_frozen", "h = BatchNormalization(trainable=False)(Dense(5)(x))")
    add("bn_frozen_first", "h = Dense(4)(BatchNormalization(trainable=False)(x))")
    add("bn_two", """h = BatchNormalization()(Dense(5, activation="relu")(x));
        h = BatchNormalization(momentum=0.8, center=False)(Dense(4)(h))""")
    add("bn_image", "h = Flatten()(ReLU()(BatchNormalization()(Dense(4)(x))))",
        shape="(4, 4, 3)", out="Dense(2)")
    add("bn_image_axis1", "h = Flatten()(BatchNormalization(axis=1, momentum=0.7)(Dense(3)(x)))",
        shape="(4, 3, 2)", out="Dense(2)")
    add("bn_image_axis2", "h = Flatten()(BatchNormalization(axis=-2, scale=False)(Dense(3)(x)))",
        shape="(4, 3, 2)", out="Dense(2)")
    add("bn_sequence_axis1", "h = Flatten()(BatchNormalization(axis=1)(Dense(3)(x)))",
        shape="(5, 4)", out="Dense(2)")
    add("bn_sequence_output", "h = BatchNormalization(momentum=0.6)(Dense(3)(x))",
        shape="(5, 4)", out="Dense(2)")
    add("bn_image_batch_of_one", "h = Flatten()(BatchNormalization()(Dense(3)(x)))",
        shape="(4, 4, 2)", out="Dense(2)", batch=1)
    add("bn_softmax_head", "h = BatchNormalization()(Dense(5, activation=\"relu\")(x))",
        out="Dense(3, activation=\"softmax\")", loss="cce", targets="probs", batch=8)
    cases.append(C("resnet_block", """
        x = Input(shape=(4, 4, 3));
        h = ReLU()(BatchNormalization()(Dense(3)(x)));
        h = BatchNormalization(momentum=0.9)(Dense(3)(h));
        h = ReLU()(Add()([x, h]));
        model = Model(x, Dense(2)(Flatten()(h)))""",
                   batch=4))

    # --- LayerNormalization, GroupNormalization, Normalization, Rescaling.
    add("ln_dense", "h = LayerNormalization()(Dense(5)(x))")
    add("ln_no_center_epsilon", "h = LayerNormalization(center=False, epsilon=0.1)(Dense(5)(x))")
    add("ln_no_scale", "h = LayerNormalization(scale=False)(Dense(5)(x))")
    add("ln_neither", "h = LayerNormalization(center=False, scale=False)(Dense(5)(x))")
    add("ln_rms_scaling", "h = LayerNormalization(rms_scaling=True)(Dense(5)(x))")
    add("ln_sequence_axis1", "h = Flatten()(LayerNormalization(axis=1)(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("ln_sequence_both_axes", "h = Flatten()(LayerNormalization(axis=(1, 2))(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("ln_rms_axis1", "h = Flatten()(LayerNormalization(axis=1, rms_scaling=True)(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("gn_sequence", "h = Flatten()(GroupNormalization(groups=2)(Dense(6)(x)))",
        shape="(3, 4)", out="Dense(2)")
    add("gn_instance", "h = Flatten()(GroupNormalization(groups=4, center=False)(Dense(4)(x)))",
        shape="(3, 4)", out="Dense(2)")
    add("gn_one_group", "h = Flatten()(GroupNormalization(groups=1, scale=False)(Dense(4)(x)))",
        shape="(3, 4)", out="Dense(2)")
    add("gn_image", "h = Flatten()(GroupNormalization(groups=3, epsilon=0.01)(Dense(6)(x)))",
        shape="(3, 3, 2)", out="Dense(2)")
    add("gn_axis1", "h = Flatten()(GroupNormalization(groups=2, axis=1)(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("normalization_adapted", "h = Dense(4)(Normalization()(x))")
    add("normalization_given",
        "h = Normalization(mean=[0.5, -1.0, 0.0, 2.0], variance=[4.0, 0.25, 1.0, 2.0])(Dense(4)(x))")
    add("normalization_invert",
        "h = Normalization(axis=None, mean=0.5, variance=4.0, invert=True)(Dense(4)(x))")
    add("rescaling", "h = Rescaling(scale=-0.5, offset=1.0)(Dense(4)(x))")

    # --- The activation layers with their options, kinks included where inputs land on them.
    relus = {
        "relu": "ReLU()",
        "relu6": "ReLU(max_value=6.0)",
        "relu_max": "ReLU(max_value=0.5)",
        "relu_slope": "ReLU(negative_slope=0.2)",
        "relu_threshold": "ReLU(threshold=0.3)",
        "relu_all": "ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2)",
        "leaky_relu": "LeakyReLU()",
        "leaky_relu_slope": "LeakyReLU(negative_slope=0.05)",
        "elu": "ELU()",
        "elu_alpha": "ELU(alpha=0.4)",
        "prelu": "PReLU()",
        "softmax": "Softmax()",
    }
    for name, layer in relus.items():
        add(f"act_{name}", f"h = {layer}(Dense(8)(x))")
    add("prelu_sequence_shared_1", "h = Flatten()(PReLU(shared_axes=[1])(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("prelu_image_shared_12", "h = Flatten()(PReLU(shared_axes=[1, 2])(Dense(3)(x)))",
        shape="(3, 4, 2)", out="Dense(2)")
    add("prelu_image_shared_23", "h = Flatten()(PReLU(shared_axes=(2, 3))(Dense(3)(x)))",
        shape="(3, 4, 2)", out="Dense(2)")
    add("softmax_axis1", "h = Flatten()(Softmax(axis=1)(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("softmax_two_axes", "h = Flatten()(Softmax(axis=(1, 2))(Dense(3)(x)))",
        shape="(4, 5)", out="Dense(2)")
    add("softmax_middle_of_image", "h = Flatten()(Softmax(axis=[2])(Dense(3)(x)))",
        shape="(2, 4, 3)", out="Dense(2)")
    add("softmax_output", "h = Dense(4)(x)", out="Softmax()", loss="cce", targets="probs")
    # Pre-activations exactly on the kinks: `Rescaling(0)` zeroes the input, so `pre` gives its
    # bias, set to the kinks (its gradient is the activations' derivative there).
    def kinks(model):
        layer = model.get_layer("pre")
        layer.bias.assign(np.array([0.0, 0.5, 1.0, 6.0, -0.5, 0.2, 2.0, 7.0], np.float32))

    add("relu_kinks", """h = Dense(8, name="pre")(Rescaling(0.0)(x));
        h = Concatenate()([ReLU(max_value=1.0, negative_slope=0.5, threshold=0.5)(h), ReLU()(h),
                           ReLU(max_value=6.0)(h), ReLU(max_value=2.0, negative_slope=0.3)(h),
                           LeakyReLU()(h), PReLU()(h), ELU(alpha=0.7)(h)])""", setup=kinks)

    # --- Shapes.
    add("repeat_vector", "h = Dense(2)(RepeatVector(4)(Dense(3)(x)))", out="Dense(2)")
    add("permute_sequence", "h = Permute((2, 1))(Dense(3)(x))", shape="(4, 5)", out="Dense(2)")
    add("permute_image", "h = Flatten()(Permute((3, 1, 2))(Dense(4)(x)))",
        shape="(2, 3, 2)", out="Dense(2)")
    add("identity", "h = Identity()(Dense(4)(x))")

    # --- Noise layers at rate 0: the identity in training too, exactly as Keras.
    add("spatial_dropout1d_rate0", "h = SpatialDropout1D(0.0)(Dense(3)(x))",
        shape="(4, 5)", out="Dense(2)")
    add("spatial_dropout2d_rate0",
        "h = Flatten()(SpatialDropout2D(0.0, data_format=\"channels_first\")(Dense(3)(x)))",
        shape="(2, 3, 4)", out="Dense(2)")
    add("spatial_dropout3d_rate0", "h = Flatten()(SpatialDropout3D(0.0)(Dense(2)(x)))",
        shape="(2, 2, 3, 4)", out="Dense(2)")
    add("gaussian_noise_stddev0", "h = GaussianNoise(0.0)(Dense(4)(x))")
    add("gaussian_dropout_rate0", "h = GaussianDropout(0.0)(Dense(4)(x))")
    add("alpha_dropout_rate0", "h = AlphaDropout(0.0, noise_shape=(None, 1, 3))(Dense(3)(x))",
        shape="(4, 5)", out="Dense(2)")
    add("dropout_noise_shape_rate0", "h = Dropout(0.0, noise_shape=(1, None, 3))(Dense(3)(x))",
        shape="(4, 5)", out="Dense(2)")
    return cases


def rest_cases():
    """The training paths added last: the fused `glu` activation of Dense and the convolutions
    (inside TimeDistributed too), TimeDistributed(BatchNormalization()) (each step normalized over the batch on its own, the
    moving statistics updated once per step), Bidirectional(..., merge_mode=None) with both
    outputs feeding later layers, with and without a mask."""
    C = Case
    return [
        # --- glu fused into a layer: the layer runs linear, then glu halves the last axis.
        # Keras's symbolic shapes ignore the halving (a layer with weights after glu would be
        # built for the wrong size), so the glu layer is the output, or only weightless layers
        # follow it.
        C("glu_dense", """
            x = Input(shape=(6,));
            model = Model(x, Dense(8, activation="glu")(x))"""),
        C("glu_dense_out", """
            x = Input(shape=(5,));
            h = Dense(6, activation="tanh")(x);
            model = Model(x, Dense(4, activation="glu", use_bias=False)(h))"""),
        C("glu_dense_sequence_cce", """
            x = Input(shape=(4, 5));
            h = Dense(6, activation="relu")(x);
            model = Model(x, Softmax()(Dense(6, activation="glu")(h)))""",
          loss="cce", targets="probs"),
        C("glu_conv1d", """
            x = Input(shape=(7, 3));
            h = Conv1D(6, 3, padding="same", activation="glu")(Conv1D(4, 2)(x));
            model = Model(x, GlobalAveragePooling1D()(h))"""),
        C("glu_conv2d_strided", """
            x = Input(shape=(6, 6, 2));
            model = Model(x, Conv2D(4, 3, strides=2, activation="glu")(x))"""),
        C("glu_conv3d", """
            x = Input(shape=(4, 4, 3, 2));
            model = Model(x, Conv3D(4, 2, activation="glu")(x))"""),
        C("glu_depthwise2d", """
            x = Input(shape=(5, 5, 2));
            h = DepthwiseConv2D(3, depth_multiplier=2, activation="glu")(Dense(3)(x));
            model = Model(x, GlobalMaxPooling2D()(h))"""),
        C("glu_depthwise1d", """
            x = Input(shape=(6, 3));
            model = Model(x, DepthwiseConv1D(2, depth_multiplier=2, activation="glu")(x))"""),
        C("glu_separable2d", """
            x = Input(shape=(5, 5, 3));
            model = Model(x, SeparableConv2D(4, 2, depth_multiplier=2, activation="glu")(x))"""),
        C("glu_separable1d", """
            x = Input(shape=(6, 2));
            h = SeparableConv1D(6, 3, padding="same", activation="glu")(Dense(3)(x));
            model = Model(x, Flatten()(h))"""),
        C("glu_conv2d_transpose", """
            x = Input(shape=(3, 3, 2));
            model = Model(x, Conv2DTranspose(4, 2, strides=2, activation="glu")(x))"""),
        C("glu_conv1d_transpose", """
            x = Input(shape=(4, 3));
            h = Conv1DTranspose(6, 3, activation="glu")(Dense(4)(x));
            model = Model(x, h)""", loss="huber"),
        C("glu_frozen", """
            x = Input(shape=(6,));
            h = Dense(5, activation="tanh")(x);
            model = Model(x, Dense(8, activation="glu", trainable=False)(h))"""),
        # --- TimeDistributed(BatchNormalization()): each step's own batch statistics.
        C("td_bn", """
            x = Input(shape=(4, 3));
            h = TimeDistributed(Dense(5))(x);
            h = TimeDistributed(BatchNormalization(momentum=0.9))(h);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        C("td_bn_first", """
            x = Input(shape=(3, 4));
            h = TimeDistributed(BatchNormalization(momentum=0.5, center=False))(x);
            model = Model(x, TimeDistributed(Dense(2, activation="tanh"))(h))"""),
        C("td_bn_image", """
            x = Input(shape=(3, 4, 4, 2));
            h = TimeDistributed(Conv2D(3, 3, activation="relu"))(x);
            h = TimeDistributed(BatchNormalization(scale=False))(h);
            h = TimeDistributed(Flatten())(h);
            model = Model(x, Dense(2)(Flatten()(h)))""", batch=4),
        C("td_bn_nested", """
            x = Input(shape=(2, 3, 4));
            h = TimeDistributed(TimeDistributed(Dense(3)))(x);
            h = TimeDistributed(TimeDistributed(BatchNormalization(epsilon=0.01)))(h);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        C("td_bn_frozen", """
            x = Input(shape=(4, 3));
            h = TimeDistributed(Dense(5))(x);
            h = TimeDistributed(BatchNormalization(trainable=False))(h);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        C("td_bn_batch_of_one", """
            x = Input(shape=(4, 3));
            h = TimeDistributed(BatchNormalization())(TimeDistributed(Dense(4))(x));
            model = Model(x, Dense(2)(Flatten()(h)))""", batch=1),
        # --- glu fused into a layer inside TimeDistributed: each step's slice through the layer
        # run linear, then glu.
        C("td_glu_dense", """
            x = Input(shape=(4, 3));
            model = Model(x, TimeDistributed(Dense(6, activation="glu"))(x))"""),
        C("td_glu_dense_gap", """
            x = Input(shape=(3, 4));
            h = TimeDistributed(Dense(5, activation="tanh"))(x);
            h = TimeDistributed(Dense(4, activation="glu", use_bias=False))(h);
            model = Model(x, GlobalAveragePooling1D()(h))"""),
        C("td_glu_conv2d", """
            x = Input(shape=(2, 5, 5, 2));
            model = Model(x, TimeDistributed(Conv2D(4, 3, strides=2, activation="glu"))(x))""",
          batch=3),
        C("td_glu_conv1d_nested", """
            x = Input(shape=(2, 3, 4, 2));
            h = TimeDistributed(TimeDistributed(Conv1D(6, 2, padding="same", activation="glu")))(x);
            model = Model(x, h)""", batch=3, loss="huber"),
    ] + BIDIRECTIONAL_NONE + BIDIRECTIONAL_NONE_MASKED


# Bidirectional(..., merge_mode=None) under a mask: both layers read it (Keras's masked recurrent
# semantics); with sequences, both outputs carry it on to the layers after.
BIDIRECTIONAL_NONE_MASKED = [
    Case("bi_none_mask_lstm_last", """
        x = Input(shape=(6,), dtype="int32");
        h = Embedding(8, 3, mask_zero=True)(x);
        f, b = Bidirectional(LSTM(3), merge_mode=None)(h);
        model = Model(x, Dense(2)(Concatenate()([f, b])))""", inputs="ids:8:pad"),
    Case("bi_none_mask_gru_seq_rnn_after", """
        x = Input(shape=(5, 3));
        h = Masking()(x);
        f, b = Bidirectional(GRU(3, return_sequences=True), merge_mode=None)(h);
        model = Model(x, Subtract()([LSTM(2)(f), SimpleRNN(2)(b)]))""", inputs="masked"),
    Case("bi_none_mask_backward_to_loss", """
        x = Input(shape=(6,), dtype="int32");
        h = Embedding(8, 3, mask_zero=True)(x);
        _f, b = Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode=None)(h);
        model = Model(x, Dense(2)(b))""", inputs="ids:8:pad"),
    Case("bi_none_mask_states", """
        x = Input(shape=(5, 3));
        h = Masking()(x);
        f, b, _fh, fc, bh, bc = Bidirectional(LSTM(3, return_state=True), merge_mode=None)(h);
        model = Model(x, Dense(2)(Concatenate()([f, b, fc, bh, bc])))""", inputs="masked"),
    Case("bi_none_mask_given_backward", """
        x = Input(shape=(6,), dtype="int32");
        h = Embedding(8, 3, mask_zero=True)(x);
        f, b = Bidirectional(LSTM(3, return_sequences=True), merge_mode=None,
                             backward_layer=GRU(3, return_sequences=True, go_backwards=True))(h);
        model = Model(x, Concatenate()([LSTM(2)(f), GRU(2, reset_after=False)(b)]))""",
         inputs="ids:8:pad"),
]


# Bidirectional(..., merge_mode=None): its two outputs feed later layers.
BIDIRECTIONAL_NONE = [
    Case("bi_none_lstm_seq", """
        x = Input(shape=(5, 3));
        f, b = Bidirectional(LSTM(4, return_sequences=True), merge_mode=None)(x);
        h = Concatenate()([Dense(2)(f), b]);
        model = Model(x, Dense(2)(Flatten()(h)))"""),
    Case("bi_none_gru_last", """
        x = Input(shape=(6, 2));
        f, b = Bidirectional(GRU(3), merge_mode=None)(x);
        model = Model(x, Dense(2, activation="tanh")(Multiply()([f, b])))"""),
    Case("bi_none_simple_only_backward", """
        x = Input(shape=(4, 3));
        _f, b = Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode=None)(x);
        model = Model(x, GRU(2)(b))"""),
    Case("bi_none_gru_v1_rnn_after", """
        x = Input(shape=(5, 2));
        f, b = Bidirectional(GRU(3, reset_after=False, return_sequences=True),
                             merge_mode=None)(x);
        model = Model(x, Subtract()([LSTM(2)(f), SimpleRNN(2)(b)]))"""),
    Case("bi_none_lstm_states", """
        x = Input(shape=(5, 3));
        f, b, fh, fc, bh, bc = Bidirectional(LSTM(3, return_sequences=True, return_state=True),
                                             merge_mode=None)(x);
        h = Concatenate()([GlobalAveragePooling1D()(Add()([f, b])), fh, fc, bh, bc]);
        model = Model(x, Dense(2)(h))"""),
    Case("bi_none_given_backward", """
        x = Input(shape=(5, 3));
        f, b = Bidirectional(LSTM(3, return_sequences=True), merge_mode=None,
                             backward_layer=GRU(3, return_sequences=True, go_backwards=True))(x);
        model = Model(x, Concatenate()([Dense(2)(f), Dense(2)(b)]))"""),
]


import gen_wrappers  # noqa: E402  (tools/gen_wrappers.py)


SUITES = {
    "grads": core_cases,
    "grads_rnn": rnn_cases,
    "grads_conv": conv_cases,
    "grads_misc": misc_cases,
    "grads_wrappers": lambda: gen_wrappers.grads_cases(Case),
    "grads_rest": rest_cases,
}
# Suites whose fixtures also hold the weights after the step (BatchNormalization's moving
# statistics), checked after `train_batch`.
AFTER = {"grads_misc", "grads_rest"}


def main(argv):
    wanted = argv or list(SUITES)
    for name in wanted:
        gen_suite(name, SUITES[name]())


if __name__ == "__main__":
    main(sys.argv[1:])
