"""Generate the loss and metric parity fixtures from REAL Keras (JAX backend).

How to run (from the repository root):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_losses.py

Outputs (consumed by ``tests/parity_losses.rs``):

* ``tests/fixtures/losses/<case>.bin``  the case's arrays, concatenated in the order the manifest
  lists them; every array is raw little-endian, ``f32`` or ``u32`` as the manifest says
* ``tests/fixtures/losses/manifest.json``  every case: the Keras class and its arguments, the
  shapes Keras saw, the flat layout (``last``) and the arrays

Loss cases hold ``y_true``, ``y_pred`` and optionally ``sample_weight`` and ``mask`` (one per
position of the per-sample loss tensor; the mask is attached to ``y_pred`` as its Keras mask,
as ``Embedding(mask_zero=True)`` would), then ``value`` (the Keras loss object's result with
its default reduction unless the case says otherwise) and ``grad`` (``jax.grad`` of that value
with respect to ``y_pred``).

Metric cases feed several batches to one ``keras.metrics`` object and record ``result()`` after
each. ``accuracy`` cases record which class ``metrics=["accuracy"]`` resolves to for a pair of
shapes (``keras.src.trainers.compile_utils.get_metric``, what ``compile`` calls).

Every case seeds its own RNG from a hash of its name, so adding a case changes no other bytes.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json
import zlib
from pathlib import Path

import jax
import jax.numpy as jnp
import keras
import numpy as np
from keras.src.backend.common.masking import set_keras_mask
from keras.src.trainers.compile_utils import get_metric

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "losses"
EPS = np.float32(1e-7)
ONE_MINUS_EPS = np.float32(1.0 - 1e-7)


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ------------------------------------------------------------------------------------------
# Data makers: each takes (rng, shape) and returns (y_true, y_pred) float32 arrays.
# ------------------------------------------------------------------------------------------

def regression(rng, shape):
    return f32(rng.normal(size=shape)), f32(rng.normal(size=shape))


def with_ties(rng, shape):
    t, p = regression(rng, shape)
    flat_t, flat_p = t.reshape(-1), p.reshape(-1)
    flat_p[::3] = flat_t[::3]  # p == y: MAE's tie, Huber's 0
    return t, p


def huber_edges(delta):
    def make(rng, shape):
        t, p = regression(rng, shape)
        flat_t, flat_p = t.reshape(-1), p.reshape(-1)
        d = np.float32(delta)
        flat_t[:4] = f32([0.0, 0.0, 1.5, -2.0])
        flat_p[:4] = f32([d, -d, 1.5 + d, -2.0 - 3 * d])  # |e| == δ exactly where representable
        return t, p
    return make


def large_errors(rng, shape):
    t, p = regression(rng, shape)
    p.reshape(-1)[:6] = f32([50.0, -50.0, 90.0, -90.0, 1e-4, -1e-4])
    return t, p


def one_hot(rng, shape):
    k = shape[-1]
    ids = rng.integers(0, k, size=shape[:-1])
    return f32(np.eye(k)[ids])


def probabilities(rng, shape):
    z = rng.normal(size=shape) * 1.5
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return f32(e / e.sum(axis=-1, keepdims=True))


def cce_probs(rng, shape):
    return one_hot(rng, shape), probabilities(rng, shape)


def cce_unnormalised(rng, shape):
    return one_hot(rng, shape), f32(rng.uniform(0.05, 3.0, size=shape))


def cce_soft_targets(rng, shape):
    return probabilities(rng, shape), probabilities(rng, shape)


def cce_edges(rng, shape):
    """Rows that hit the clip: a true class below ε, a one-hot prediction (both bounds), and
    true classes exactly at ε and at 1 − ε after normalisation."""
    t, p = one_hot(rng, shape), probabilities(rng, shape)
    k = shape[-1]
    rows_t, rows_p = t.reshape(-1, k), p.reshape(-1, k)
    rows_t[0] = np.eye(k)[0]
    rows_p[0] = f32([1e-9] + [1.0] * (k - 1))  # true class below ε → clamped, no gradient
    rows_t[1] = np.eye(k)[1]
    rows_p[1] = np.eye(k)[1]  # q = 1 → ε⁺ (gradient 0), others 0 → ε (gradient 0)
    # ε + f32(1 − ε) rounds to exactly 1 in f32, so q hits both bounds exactly: the true class
    # at ε (row 2) and at 1 − ε (row 3) each pass half the gradient.
    rows_p[2] = rows_p[3] = f32([EPS, ONE_MINUS_EPS] + [0.0] * (k - 2))
    rows_t[2], rows_t[3] = np.eye(k)[0], np.eye(k)[1]
    return t, p


def logits(rng, shape, scale=2.0):
    return one_hot(rng, shape), f32(rng.normal(size=shape) * scale)


def logits_saturated(rng, shape):
    t, z = logits(rng, shape)
    k = shape[-1]
    rows_t, rows_z = t.reshape(-1, k), z.reshape(-1, k)
    rows_t[0] = np.eye(k)[0]
    rows_z[0] = f32([-30.0] + [0.0] * (k - 1))
    rows_t[1] = np.eye(k)[1]
    rows_z[1] = f32([0.0, 100.0] + [-100.0] * (k - 2))
    rows_z[2] = f32([-16.0] + [0.0] * (k - 1))
    rows_t[2] = np.eye(k)[0]
    return t, z


def binary_probs(rng, shape):
    return f32(rng.integers(0, 2, size=shape)), f32(rng.uniform(0.02, 0.98, size=shape))


def binary_edges(rng, shape):
    t, p = binary_probs(rng, shape)
    ft, fp = t.reshape(-1), p.reshape(-1)
    n = min(8, ft.size)
    ft[:n] = f32([0, 1, 1, 0, 1, 0, 1, 0])[:n]
    fp[:n] = f32([1.0, 0.0, EPS, ONE_MINUS_EPS, 1.0, 0.0, 0.5, 2e-8])[:n]
    return t, p


def binary_soft(rng, shape):
    return f32(rng.uniform(0, 1, size=shape)), f32(rng.uniform(0.01, 0.99, size=shape))


def binary_logits(rng, shape):
    return f32(rng.integers(0, 2, size=shape)), f32(rng.normal(size=shape) * 3.0)


def binary_logits_saturated(rng, shape):
    t, z = binary_logits(rng, shape)
    ft, fz = t.reshape(-1), z.reshape(-1)
    ft[:6] = f32([1, 0, 1, 0, 1, 0])
    fz[:6] = f32([-30.0, 30.0, 100.0, -100.0, -88.0, 17.0])
    return t, z


def kld_data(rng, shape):
    t, p = probabilities(rng, shape), probabilities(rng, shape)
    t.reshape(-1)[::4] = 0.0  # zero targets still contribute ε·ln(ε/p̃)
    return t, p


def kld_edges(rng, shape):
    t, p = kld_data(rng, shape)
    fp = p.reshape(-1)
    fp[:6] = f32([0.0, 1.0, EPS, 1.2, -0.3, 2e-8])
    return t, p


def poisson_data(rng, shape):
    return f32(rng.poisson(2.0, size=shape)), f32(rng.uniform(0.1, 4.0, size=shape))


def poisson_edges(rng, shape):
    t, p = poisson_data(rng, shape)
    p.reshape(-1)[:3] = f32([0.0, 1e-7, 50.0])
    return t, p


def hinge_binary(rng, shape):
    t = f32(rng.integers(0, 2, size=shape))
    p = f32(rng.normal(size=shape))
    flat_t, flat_p = t.reshape(-1), p.reshape(-1)
    flat_t[:2], flat_p[:2] = f32([1, 0]), f32([1.0, -1.0])  # exactly on the kink after 2y−1
    return t, p


def hinge_signed(rng, shape):
    t = f32(rng.choice([-1.0, 1.0], size=shape))
    return t, f32(rng.normal(size=shape))


def hinge_mixed(rng, shape):
    """0/1 labels except one 0.5: Keras then converts nothing."""
    t, p = hinge_binary(rng, shape)
    t.reshape(-1)[-1] = 0.5
    return t, p


def cosine_data(rng, shape):
    return regression(rng, shape)


def cosine_zero_true(rng, shape):
    t, p = regression(rng, shape)
    t.reshape(-1, shape[-1])[1] = 0.0
    return t, p


def cosine_zero_pred(rng, shape):
    t, p = regression(rng, shape)
    p.reshape(-1, shape[-1])[0] = 0.0  # Keras's gradient is NaN there
    return t, p


# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------

class Case:
    def __init__(self, name, loss, shape, data, config=None, weights=False, mask=False,
                 true_shape=None, reduction=None, sparse=None):
        """``weights``: True for random per-position weights (the first one 0), ``"zeros"``
        for all 0. ``mask``: True for a random mask (the first position valid, the last not),
        ``"none_valid"`` for an all-False one."""
        self.name, self.loss, self.shape, self.data = name, loss, tuple(shape), data
        self.config = dict(config or {})
        self.weights, self.mask = weights, mask
        self.true_shape = true_shape  # Keras's y_true shape when it differs from y_pred's
        self.reduction = reduction
        self.sparse = sparse  # for SCCE: ids generator options


SEQ = (2, 6, 3)


def loss_cases():
    out = []
    C = lambda *a, **k: out.append(Case(*a, **k))  # noqa: E731

    for cls, short in [("MeanSquaredError", "mse"), ("MeanAbsoluteError", "mae")]:
        C(f"{short}_basic", cls, (4, 3), regression)
        C(f"{short}_one_unit_rank1_target", cls, (5, 1), regression, true_shape=(5,))
        C(f"{short}_seq", cls, SEQ, regression)
        C(f"{short}_seq_mask", cls, SEQ, regression, mask=True)
        C(f"{short}_weights", cls, (4, 3), regression, weights=True)
        C(f"{short}_ties", cls, (3, 4, 2), with_ties)
    C("mse_seq_mask_weights", "MeanSquaredError", SEQ, regression, mask=True, weights=True)
    C("mse_sum", "MeanSquaredError", (4, 3), regression, weights=True, reduction="sum")
    C("mse_mean_with_sample_weight", "MeanSquaredError", (4, 3), regression, weights=True,
      reduction="mean_with_sample_weight")
    C("mse_mean_with_sample_weight_mask", "MeanSquaredError", SEQ, regression, mask=True,
      reduction="mean_with_sample_weight")
    C("mae_sum_mask", "MeanAbsoluteError", SEQ, regression, mask=True, reduction="sum")
    # Nothing left to average: Keras's divide_no_nan gives loss 0 and gradient 0.
    C("mse_no_valid_position", "MeanSquaredError", SEQ, regression, mask="none_valid")
    C("mse_mean_with_zero_weights", "MeanSquaredError", (4, 3), regression, weights="zeros",
      reduction="mean_with_sample_weight")

    C("huber_default", "Huber", (4, 3), regression)
    C("huber_edges", "Huber", (4, 3), huber_edges(1.0))
    C("huber_delta_half", "Huber", (4, 3), huber_edges(0.5), {"delta": 0.5})
    C("huber_delta_2_seq_mask", "Huber", SEQ, regression, {"delta": 2.0}, mask=True)
    C("huber_ties_weights", "Huber", (3, 4, 2), with_ties, {"delta": 0.3}, weights=True)

    C("log_cosh_basic", "LogCosh", (4, 3), regression)
    C("log_cosh_large", "LogCosh", (4, 3), large_errors)
    C("log_cosh_seq_weights", "LogCosh", SEQ, regression, weights=True)

    C("poisson_basic", "Poisson", (4, 3), poisson_data)
    C("poisson_edges", "Poisson", (4, 3), poisson_edges)
    C("poisson_seq_mask", "Poisson", SEQ, poisson_data, mask=True)

    C("kld_basic", "KLDivergence", (4, 5), kld_data)
    C("kld_edges", "KLDivergence", (4, 3), kld_edges)
    C("kld_seq_mask", "KLDivergence", (2, 5, 4), kld_data, mask=True)
    C("kld_weights_sum", "KLDivergence", (4, 5), kld_data, weights=True, reduction="sum")

    for cls, short in [("Hinge", "hinge"), ("SquaredHinge", "squared_hinge")]:
        C(f"{short}_binary", cls, (4, 3), hinge_binary)
        C(f"{short}_signed", cls, (4, 3), hinge_signed)
        C(f"{short}_mixed", cls, (4, 3), hinge_mixed)
        C(f"{short}_seq_mask", cls, SEQ, hinge_binary, mask=True)
    C("hinge_one_unit_weights", "Hinge", (5, 1), hinge_binary, weights=True, true_shape=(5,))

    C("cosine_basic", "CosineSimilarity", (4, 3), cosine_data)
    C("cosine_zero_true", "CosineSimilarity", (4, 3), cosine_zero_true)
    C("cosine_zero_pred", "CosineSimilarity", (4, 3), cosine_zero_pred)
    C("cosine_seq_mask", "CosineSimilarity", SEQ, cosine_data, mask=True)
    C("cosine_weights", "CosineSimilarity", (3, 7), cosine_data, weights=True)

    B = "BinaryCrossentropy"
    C("bce_probs", B, (4, 3), binary_probs)
    C("bce_probs_edges", B, (4, 3), binary_edges)
    C("bce_probs_soft_targets", B, (4, 3), binary_soft)
    C("bce_probs_ls_0.1", B, (4, 3), binary_probs, {"label_smoothing": 0.1})
    C("bce_probs_ls_0.2_edges", B, (4, 3), binary_edges, {"label_smoothing": 0.2})
    C("bce_probs_one_unit", B, (5, 1), binary_edges, true_shape=(5,))
    C("bce_logits", B, (4, 3), binary_logits, {"from_logits": True})
    C("bce_logits_saturated", B, (4, 3), binary_logits_saturated, {"from_logits": True})
    C("bce_logits_ls_0.1", B, (4, 3), binary_logits, {"from_logits": True, "label_smoothing": 0.1})
    C("bce_logits_ls_0.2_saturated", B, (4, 3), binary_logits_saturated,
      {"from_logits": True, "label_smoothing": 0.2})
    C("bce_probs_seq_mask_weights", B, SEQ, binary_probs, mask=True, weights=True)
    C("bce_logits_seq_mask", B, SEQ, binary_logits, {"from_logits": True}, mask=True)
    C("bce_probs_weights_sum", B, (4, 3), binary_probs, weights=True, reduction="sum")

    CC = "CategoricalCrossentropy"
    C("cce_probs", CC, (4, 5), cce_probs)
    C("cce_probs_unnormalised", CC, (4, 5), cce_unnormalised)
    C("cce_probs_soft_targets", CC, (4, 5), cce_soft_targets)
    C("cce_probs_edges", CC, (4, 4), cce_edges)
    C("cce_probs_ls_0.1", CC, (4, 5), cce_probs, {"label_smoothing": 0.1})
    C("cce_probs_ls_0.2_edges", CC, (4, 4), cce_edges, {"label_smoothing": 0.2})
    C("cce_logits", CC, (4, 5), logits, {"from_logits": True})
    C("cce_logits_saturated", CC, (4, 4), logits_saturated, {"from_logits": True})
    C("cce_logits_ls_0.1", CC, (4, 5), logits, {"from_logits": True, "label_smoothing": 0.1})
    C("cce_logits_ls_0.2_saturated", CC, (4, 4), logits_saturated,
      {"from_logits": True, "label_smoothing": 0.2})
    C("cce_probs_seq_mask", CC, (2, 6, 4), cce_probs, mask=True)
    C("cce_logits_seq_mask_weights", CC, (2, 6, 4), logits, {"from_logits": True}, mask=True,
      weights=True)
    C("cce_probs_weights", CC, (4, 5), cce_probs, weights=True)
    C("cce_probs_mean_with_sample_weight", CC, (4, 5), cce_unnormalised, weights=True,
      reduction="mean_with_sample_weight")

    S = "SparseCategoricalCrossentropy"
    C("scce_probs", S, (4, 5), cce_probs, sparse={})
    C("scce_probs_trailing_1", S, (4, 5), cce_probs, sparse={"trailing_1": True})
    C("scce_probs_edges", S, (4, 4), cce_edges, sparse={})
    C("scce_logits", S, (4, 5), logits, {"from_logits": True}, sparse={})
    C("scce_logits_trailing_1", S, (4, 5), logits, {"from_logits": True},
      sparse={"trailing_1": True})
    C("scce_logits_saturated", S, (4, 4), logits_saturated, {"from_logits": True}, sparse={})
    C("scce_seq", S, (2, 6, 4), cce_probs, sparse={})
    C("scce_seq_trailing_1_mask", S, (2, 6, 4), logits, {"from_logits": True}, mask=True,
      sparse={"trailing_1": True})
    C("scce_ignore_class_probs", S, (6, 4), cce_probs, {"ignore_class": 2},
      sparse={"ignore": 2})
    C("scce_ignore_class_logits", S, (6, 4), logits, {"from_logits": True, "ignore_class": 2},
      sparse={"ignore": 2})
    C("scce_ignore_void_class", S, (6, 4), logits, {"from_logits": True, "ignore_class": 255},
      sparse={"ignore": 255})
    C("scce_ignore_seq_mask_weights", S, (2, 6, 4), cce_probs, {"ignore_class": 0}, mask=True,
      weights=True, sparse={"ignore": 0})
    C("scce_ignore_sum", S, (6, 4), logits, {"from_logits": True, "ignore_class": 1},
      weights=True, reduction="sum", sparse={"ignore": 1})
    C("scce_weights", S, (4, 5), logits, {"from_logits": True}, weights=True, sparse={})
    return out


def sparse_targets(rng, case, y_true):
    """Class ids from one-hot targets; some replaced by the ignored class."""
    ids = y_true.argmax(axis=-1).astype(np.int32)
    ignore = case.sparse.get("ignore")
    if ignore is not None:
        flat = ids.reshape(-1)
        flat[rng.random(flat.shape) < 0.35] = ignore
        flat[0] = ignore
        if flat[1] == ignore:
            flat[1] = 3 if ignore != 3 else 1
    if case.sparse.get("trailing_1"):
        ids = ids[..., None]
    return ids


def make_mask(rng, positions_shape):
    mask = rng.random(positions_shape) < 0.7
    flat = mask.reshape(-1)
    flat[0], flat[-1] = True, False
    return mask


def run_loss(case):
    rng = rng_for(case.name)
    y_true, y_pred = case.data(rng, case.shape)
    positions_shape = case.shape[:-1]
    sparse = case.sparse is not None
    if sparse:
        y_true = sparse_targets(rng, case, y_true)
    elif case.true_shape is not None:
        y_true = y_true.reshape(case.true_shape)
    weights = f32(rng.uniform(0.0, 2.0, size=positions_shape)) if case.weights else None
    if weights is not None:
        weights.reshape(-1)[0] = 0.0
        if case.weights == "zeros":
            weights[...] = 0.0
    mask = make_mask(rng, positions_shape) if case.mask else None
    if case.mask == "none_valid":
        mask[...] = False

    config = dict(case.config)
    if case.reduction is not None:
        config["reduction"] = case.reduction
    loss = getattr(keras.losses, case.loss)(**config)

    def f(p):
        if mask is not None:
            set_keras_mask(p, jnp.asarray(mask))
        return loss(y_true, p, sample_weight=weights)

    value, grad = jax.value_and_grad(f)(jnp.asarray(y_pred))
    arrays = [("y_true", "u32" if sparse else "f32", y_true), ("y_pred", "f32", y_pred)]
    if weights is not None:
        arrays.append(("sample_weight", "f32", weights))
    if mask is not None:
        arrays.append(("mask", "u32", mask.astype(np.uint32)))
    arrays += [("value", "f32", f32(value).reshape(1)), ("grad", "f32", f32(grad))]
    meta = {
        "name": case.name,
        "kind": "loss",
        "class": case.loss,
        "config": config,
        "y_pred_shape": list(case.shape),
        "y_true_shape": list(y_true.shape),
        "last": case.shape[-1],
    }
    return meta, arrays


# ------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------

class MetricCase:
    def __init__(self, name, metric, shape, data, config=None, batches=3, weights=False,
                 mask=False, sparse=False, sparse_float=False):
        self.name, self.metric, self.shape, self.data = name, metric, tuple(shape), data
        self.config = dict(config or {})
        self.batches, self.weights, self.mask = batches, weights, mask
        self.sparse, self.sparse_float = sparse, sparse_float


def binary_acc_data(rng, shape):
    t = f32(rng.integers(0, 2, size=shape))
    p = f32(rng.uniform(0, 1, size=shape))
    fp = p.reshape(-1)
    fp[:2] = f32([0.5, 0.7])  # exactly at the default threshold (not above) and at 0.7
    return t, p


def categorical_acc_data(rng, shape):
    t, p = one_hot(rng, shape), probabilities(rng, shape)
    rows = p.reshape(-1, shape[-1])
    rows[0] = 0.25  # an all-tie row: argmax is the first class
    return t, p


def mse_model_targets(rng, shape):
    return f32(rng.normal(size=shape)), f32(rng.normal(size=shape))


def metric_cases():
    out = []
    C = lambda *a, **k: out.append(MetricCase(*a, **k))  # noqa: E731
    C("binary_acc", "BinaryAccuracy", (5, 1), binary_acc_data)
    C("binary_acc_wide_weights", "BinaryAccuracy", (4, 3), binary_acc_data, weights=True)
    C("binary_acc_threshold_0.7", "BinaryAccuracy", (6, 2), binary_acc_data, {"threshold": 0.7})
    C("binary_acc_seq_mask", "BinaryAccuracy", (3, 5, 2), binary_acc_data, mask=True)
    C("categorical_acc", "CategoricalAccuracy", (5, 4), categorical_acc_data)
    C("categorical_acc_not_one_hot", "CategoricalAccuracy", (5, 2), mse_model_targets)
    C("categorical_acc_seq_mask_weights", "CategoricalAccuracy", (3, 5, 4), categorical_acc_data,
      mask=True, weights=True)
    C("sparse_acc", "SparseCategoricalAccuracy", (6, 4), categorical_acc_data, sparse=True)
    C("sparse_acc_weights", "SparseCategoricalAccuracy", (6, 4), categorical_acc_data,
      weights=True, sparse=True)
    C("sparse_acc_float_labels", "SparseCategoricalAccuracy", (6, 4), categorical_acc_data,
      sparse=True, sparse_float=True)
    C("sparse_acc_seq_mask", "SparseCategoricalAccuracy", (3, 5, 4), categorical_acc_data,
      mask=True, sparse=True)
    return out


def run_metric(case):
    rng = rng_for(case.name)
    metric = getattr(keras.metrics, case.metric)(**case.config)
    arrays, batch_meta = [], []
    for b in range(case.batches):
        # Batches of different sizes, like an epoch whose last batch is partial.
        shape = (case.shape[0] - (1 if b == case.batches - 1 else 0),) + case.shape[1:]
        y_true, y_pred = case.data(rng, shape)
        positions_shape = shape[:-1]
        target_dtype = "f32"
        if case.sparse:
            y_true = y_true.argmax(axis=-1)
            if case.sparse_float:
                y_true = f32(y_true)
                y_true.reshape(-1)[-1] = 0.5  # a label that is not a class never matches
            else:
                y_true = y_true.astype(np.int32)
                target_dtype = "u32"
        weights = f32(rng.uniform(0.0, 2.0, size=positions_shape)) if case.weights else None
        mask = make_mask(rng, positions_shape) if case.mask else None
        p = jnp.asarray(y_pred)
        if mask is not None:
            set_keras_mask(p, jnp.asarray(mask))
        metric.update_state(y_true, p, sample_weight=weights)
        arrays += [(f"y_true.{b}", target_dtype, y_true), (f"y_pred.{b}", "f32", y_pred)]
        if weights is not None:
            arrays.append((f"sample_weight.{b}", "f32", weights))
        if mask is not None:
            arrays.append((f"mask.{b}", "u32", mask.astype(np.uint32)))
        arrays.append((f"result.{b}", "f32", f32(metric.result()).reshape(1)))
        batch_meta.append(list(shape))
    meta = {
        "name": case.name,
        "kind": "metric",
        "class": case.metric,
        "config": case.config,
        "batches": batch_meta,
        "last": case.shape[-1],
    }
    return meta, arrays


def run_loss_tracker():
    """The loss tracker of fit: keras.metrics.Mean updated with (batch loss, batch size)."""
    name = "mean_loss_tracker"
    rng = rng_for(name)
    metric = keras.metrics.Mean(name="loss")
    arrays = []
    for b, size in enumerate([3, 3, 1]):
        loss = f32(rng.uniform(0.1, 5.0))
        metric.update_state(loss, sample_weight=size)
        arrays += [(f"loss.{b}", "f32", f32(loss).reshape(1)),
                   (f"size.{b}", "f32", f32(size).reshape(1)),
                   (f"result.{b}", "f32", f32(metric.result()).reshape(1))]
    return {"name": name, "kind": "mean", "class": "Mean", "batches": 3}, arrays


# (y_true shape, y_pred shape), with the batch axis, as compile sees them.
ACCURACY_SHAPES = [
    ((8, 1), (8, 1)),     # Dense(1, sigmoid) + BCE
    ((8,), (8, 1)),       # labels without the trailing axis
    ((8, 3), (8, 1)),     # a 1-unit output wins over everything
    ((8,), (8, 3)),       # sparse labels
    ((8, 1), (8, 3)),     # sparse labels with a trailing 1
    ((8, 3), (8, 3)),     # one-hot
    ((8, 2), (8, 2)),     # Dense(2) + MSE: categorical even though not one-hot
    ((8, 6), (8, 6, 4)),  # sequence labels
    ((8, 6, 1), (8, 6, 4)),
    ((8, 6, 4), (8, 6, 4)),
    ((8, 6, 1), (8, 6, 1)),
    ((8, 5, 1), (8, 3)),  # a higher-rank target ending in 1
    ((8, 5, 3), (8, 3)),
]


def accuracy_cases():
    out = []
    for t_shape, p_shape in ACCURACY_SHAPES:
        metric = get_metric("accuracy", np.zeros(t_shape, "float32"), np.zeros(p_shape, "float32"))
        out.append({
            "y_true_shape": list(t_shape[1:]),
            "y_pred_shape": list(p_shape[1:]),
            "class": type(metric).__name__,
        })
    return out


# ------------------------------------------------------------------------------------------

def to_bytes(dtype, a):
    if dtype == "u32":
        return np.ascontiguousarray(np.asarray(a).astype("<u4")).tobytes()
    return np.ascontiguousarray(np.asarray(a, dtype="<f4")).tobytes()


def write(meta, arrays):
    data = b"".join(to_bytes(d, a) for _, d, a in arrays)
    meta["arrays"] = [[n, d, int(np.asarray(a).size)] for n, d, a in arrays]
    path = OUT / f"{meta['name']}.bin"
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return meta


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = [write(*run_loss(c)) for c in loss_cases()]
    cases += [write(*run_metric(c)) for c in metric_cases()]
    cases.append(write(*run_loss_tracker()))
    names = {c["name"] for c in cases}
    for stale in OUT.glob("*.bin"):
        if stale.stem not in names:
            stale.unlink()
    manifest = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "cases": cases,
        "accuracy": accuracy_cases(),
    }
    text = json.dumps(manifest, indent=1) + "\n"
    (OUT / "manifest.json").write_text(text)
    losses = sum(c["kind"] == "loss" for c in cases)
    print(f"{losses} loss cases, {len(cases) - losses} metric cases, "
          f"{len(manifest['accuracy'])} accuracy resolutions -> {OUT}")


if __name__ == "__main__":
    main()
