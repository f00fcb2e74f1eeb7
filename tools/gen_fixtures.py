"""Generate static-keras parity fixtures and example data from REAL Keras.

How to run (from the repository root):

    python3 -m venv .venv && .venv/bin/pip install -r tools/requirements.txt && KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_fixtures.py

Optional arguments: suite names and/or example names (``digits``, ``digits_cnn``,
``sentiment``, ``streaming``) select what to (re)generate, e.g. ``... tools/gen_fixtures.py core``
or ``... tools/gen_fixtures.py digits``.
With no argument everything is generated.

Outputs (all binary files are raw little-endian float32, row-major, unless stated):

* ``tests/fixtures/<suite>/<case>.w.bin``   every variable of ``model.weights``, flattened
  row-major and concatenated in ``model.weights`` order (empty for weightless models)
* ``tests/fixtures/<suite>/<case>.x.bin``   input batch, shape ``(batch, *input_shape)``
  (token ids of a model that starts with ``Embedding``: little-endian **uint32**)
* ``tests/fixtures/<suite>/<case>.y.bin``   ``model.predict(x, verbose=0)``; several outputs
  (``return_state=True``) are flattened per sample and concatenated, output after output
* ``tests/fixtures/<suite>/manifest.json``  per-case metadata
* ``tests/generated/<suite>.rs``            the ``parity_suite! { ... }`` invocation
* ``examples/data/digits_*``               the trained digits MLP (see ``gen_digits``)
* ``examples/data/digits_cnn*``            the trained digits CNN (see ``gen_digits_cnn``)

Everything is deterministic: every case seeds its own RNG from a hash of its name
(so adding/removing cases does not change the other cases' bytes), and the digits
model is trained with ``keras.utils.set_random_seed``. Re-running produces
byte-identical fixtures on the same machine (except ``digits.keras``, whose
metadata contains the save date).

Keras 3.15.1 behaviours baked into these fixtures (see the report / KERAS_SEMANTICS.md):

* ``sparsemax`` is buggy on every backend in 3.15.1: tau = (sum_{j<=k} cumsum_j - 1) / k
  instead of (cumsum_k - 1) / k (keras-team/keras#23425, fixed upstream by PR #23469).
  It only agrees with the paper when the support size k == 1. The fixtures record the
  3.15.1 (buggy) numbers; they will change when Keras is upgraded.
* ``glu`` halves the last axis at run time, but ``Activation``/``Dense`` report the
  un-halved size symbolically (``model.output_shape``); a weighted layer after a glu
  therefore fails in Keras. ``output_shape`` in the fixtures is the real predicted shape.
* XLA CPU flushes subnormals to zero (e.g. softplus(-88) == 0, not 6.05e-39).

Adding a suite: write a list of ``Case`` objects (see ``CORE_CASES``), add a
``Suite`` to ``SUITES``, and (if it needs new layer classes) extend
``ALLOWED_LAYERS``. Layer strings must be valid Keras Python AND valid
static-keras DSL: double-quoted strings, ``True``/``False``, tuples like ``(3, -1)``.
"""

import os

# Must happen before keras is imported.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import dataclasses
import json
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import keras

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GENERATED = ROOT / "tests" / "generated"
EXAMPLES_DATA = ROOT / "examples" / "data"

KERAS_VERSION = keras.__version__
WEIGHT_SCALE = 0.5

# Layer classes that may appear in a layer string (the DSL's vocabulary).
ALLOWED_LAYERS = ["Dense", "Activation", "Dropout", "Flatten", "Reshape"]


# --------------------------------------------------------------------------------------
# Case / suite definitions
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    name: str  # snake_case, valid Rust identifier
    input_shape: tuple  # without the batch dimension
    layers: str  # Keras syntax == static-keras DSL syntax
    batch: int = 8
    inputs: str = "normal"  # key into INPUT_GENERATORS


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    cases: list


def _seed(*parts):
    """Stable 32-bit seed from strings (independent of PYTHONHASHSEED)."""
    return zlib.crc32("/".join(parts).encode()) & 0xFFFFFFFF


# Exact edge values mixed into activation inputs.
EDGES = [0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0,
         0.25, -0.25, 2.0, -2.0, 10.0, -10.0]
OVERFLOW_EDGES = EDGES + [30.0, -30.0, 50.0, -50.0, 87.0, -87.0, 88.0, -88.0,
                          89.0, -89.0, 100.0, -100.0]


def _mixed(rng, shape, lo, hi, edges):
    """Uniform [lo, hi] values with about a third of the entries replaced by exact edges."""
    x = rng.uniform(lo, hi, size=shape)
    flat = x.reshape(-1)
    n = flat.size
    k = min(n, max(len(edges), n // 3))
    positions = rng.permutation(n)[:k]
    flat[positions] = np.resize(np.array(edges), k)
    return x


INPUT_GENERATORS = {
    # standard normal: for Dense / structural cases
    "normal": lambda rng, shape: rng.standard_normal(shape),
    # activation sweep: uniform in [-20, 20] + exact edges (0, ±0.5, ±1, ±3, ±6, ±20, ...)
    "act": lambda rng, shape: _mixed(rng, shape, -20.0, 20.0, EDGES),
    # overflow sweep: uniform in [-100, 100] + edges up to ±100 (±88 is the f32 exp limit)
    "overflow": lambda rng, shape: _mixed(rng, shape, -100.0, 100.0, OVERFLOW_EDGES),
}


def _core_cases():
    cases = []
    C = lambda *a, **k: cases.append(Case(*a, **k))  # noqa: E731

    # --- every Keras 3 activation name, elementwise sweep on (40,) --------------------
    activations = [
        "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "sigmoid",
        "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu", "swish",
        "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "exponential",
        "mish", "log_sigmoid", "tanh_shrink", "soft_shrink", "hard_shrink",
        "squareplus", "sparse_plus", "sparse_sigmoid", "sparsemax", "glu",
    ]
    for act in activations:
        C(f"act_{act}", (40,), f'Activation("{act}")', batch=8, inputs="act")
    # last-axis activations on rank 2
    for act in ["softmax", "log_softmax", "sparsemax", "glu"]:
        C(f"act_{act}_rank2", (4, 10), f'Activation("{act}")', batch=6, inputs="act")
    # elementwise activations on rank 3
    C("act_gelu_rank3", (2, 3, 4), 'Activation("gelu")', batch=4, inputs="act")
    C("act_hard_swish_rank3", (2, 3, 4), 'Activation("hard_swish")', batch=4, inputs="act")
    # overflow edges (±88, ±100); not exponential (it overflows to inf)
    for act in ["softplus", "sigmoid", "log_sigmoid"]:
        C(f"act_overflow_{act}", (40,), f'Activation("{act}")', batch=8, inputs="overflow")
    C("act_overflow_softmax", (4, 10), 'Activation("softmax")', batch=6, inputs="overflow")

    # --- Dense -------------------------------------------------------------------------
    C("dense_rank1", (6,), "Dense(4)")
    C("dense_rank1_relu", (10,), 'Dense(8, activation="relu")')
    C("dense_units1", (7,), "Dense(1)", batch=16)
    C("dense_no_bias", (6,), "Dense(5, use_bias=False)")
    C("dense_no_bias_tanh", (6,), 'Dense(5, activation="tanh", use_bias=False)')
    C("dense_explicit_bias", (6,), 'Dense(3, activation="linear", use_bias=True)')
    C("dense_rank2", (5, 6), "Dense(4)", batch=4)
    C("dense_rank2_softmax", (5, 6), 'Dense(4, activation="softmax")', batch=4)
    C("dense_rank3", (2, 3, 4), 'Dense(5, activation="relu")', batch=4)
    C("dense_rank3_no_bias", (2, 3, 4), "Dense(3, use_bias=False)", batch=4)
    C("dense_rank3_glu", (2, 3, 4), 'Dense(6, activation="glu")', batch=4)
    for act, units in [
        ("softmax", 6), ("gelu", 6), ("selu", 6), ("glu", 8), ("sparsemax", 6),
        ("log_softmax", 6), ("sigmoid", 6), ("hard_sigmoid", 6), ("leaky_relu", 6),
        ("mish", 6), ("swish", 6), ("softplus", 6), ("elu", 6), ("relu6", 6),
    ]:
        C(f"dense_{act}", (8,), f'Dense({units}, activation="{act}")')

    # --- Flatten -----------------------------------------------------------------------
    C("flatten_rank1", (6,), "Flatten()")
    C("flatten_rank2", (3, 4), "Flatten()")
    C("flatten_rank3", (2, 3, 4), "Flatten()", batch=4)
    C("flatten_then_dense", (2, 3, 4), "Flatten(), Dense(5)", batch=4)

    # --- Reshape -----------------------------------------------------------------------
    C("reshape_infer_first", (12,), "Reshape((-1, 4))")
    C("reshape_rank3", (12,), "Reshape((2, 3, 2))")
    C("reshape_infer_middle", (2, 3, 4), "Reshape((2, -1, 3))", batch=4)
    C("reshape_to_rank1", (3, 4), "Reshape((12,))")
    C("reshape_infer_rank1", (2, 3, 4), "Reshape((-1,))", batch=4)
    C("reshape_identity", (3, 4), "Reshape((3, 4))")
    C("reshape_then_dense", (12,), "Reshape((3, 4)), Dense(5)")
    C("reshape_infer_then_dense", (24,), 'Reshape((-1, 6)), Dense(4, activation="relu")')
    C("reshape_flatten_dense", (2, 3, 4), "Reshape((6, 4)), Flatten(), Dense(3)", batch=4)

    # --- Dropout (identity at inference) ------------------------------------------------
    C("dropout_alone", (10,), "Dropout(0.2)")
    C("dropout_mid", (10,), 'Dense(8, activation="relu"), Dropout(0.5), Dense(3)')
    C("dropout_seed", (10,), 'Dense(8, activation="tanh"), Dropout(0.3, seed=42), Dense(4)')
    C("dropout_defaults_explicit", (10,),
      'Dense(6), Dropout(0.25, noise_shape=None, seed=None), Dense(2, activation="sigmoid")')
    C("dropout_noise_shape", (4, 6),
      'Dense(6, activation="relu"), Dropout(0.5, noise_shape=(None, 1, 6), seed=7), Dense(2)',
      batch=4)

    # --- deeper stacks (4-6 layers) -----------------------------------------------------
    C("deep_mlp", (16,),
      'Dense(32, activation="relu"), Dropout(0.1), Dense(16, activation="tanh"), '
      'Dense(8, activation="gelu"), Dense(4, activation="softmax")', batch=16)
    C("deep_reshape_dense", (2, 3, 4),
      'Flatten(), Dense(12, activation="selu"), Reshape((3, 4)), '
      'Dense(6, activation="swish"), Flatten(), Dense(3, activation="log_softmax")', batch=4)
    # NB: "glu" halves the last axis but Keras's symbolic shape inference does not know it,
    # so a *weighted* layer after a glu fails to build/run in Keras itself: keep glu last
    # (or followed only by shape-agnostic layers).
    C("deep_sparsemax_glu", (12,),
      'Reshape((4, 3)), Dense(8, activation="elu"), Dense(5, activation="sparsemax"), '
      'Flatten(), Dense(6, activation="glu")')
    C("deep_glu_then_activation", (8,),
      'Dense(8, activation="selu"), Dense(8, activation="glu"), Activation("softmax")')
    C("deep_activation_layers", (8,),
      'Dense(8), Activation("relu6"), Dense(8, use_bias=False), Activation("hard_swish"), '
      'Dropout(0.5, seed=1), Dense(2, activation="sigmoid")')
    C("deep_rank3", (2, 3, 4),
      'Dense(8, activation="mish"), Dense(8, activation="softplus", use_bias=False), '
      'Dense(6, activation="celu"), Reshape((-1, 3)), Dense(2, activation="softmax")', batch=4)
    return cases


CORE_CASES = _core_cases()


# --- Convolution and pooling ("conv" suite) ----------------------------------------------

ALLOWED_LAYERS += [
    "Conv1D", "Conv2D", "Conv3D",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
]
# Strictly negative inputs: a max pool that let a zero pad win would be caught.
INPUT_GENERATORS["negative"] = lambda rng, shape: -np.abs(rng.standard_normal(shape)) - 0.1


def _conv_cases():
    cases = []
    C = lambda name, shape, layers, batch=3, inputs="normal": cases.append(  # noqa: E731
        Case(name, shape, layers, batch=batch, inputs=inputs))

    # --- Conv1D: odd (9) and even (10) lengths -------------------------------------------
    C("c1_valid_k3", (9, 3), "Conv1D(4, 3)")
    C("c1_valid_k3_even", (10, 3), 'Conv1D(4, 3, activation="relu")')
    C("c1_valid_s2", (10, 2), "Conv1D(3, 3, strides=2)")
    C("c1_valid_s3", (9, 2), "Conv1D(3, 2, strides=3)")
    C("c1_valid_d2", (9, 2), "Conv1D(3, 3, dilation_rate=2)")
    C("c1_same_k3", (9, 3), 'Conv1D(5, 3, padding="same")')
    C("c1_same_k4_even", (10, 2), 'Conv1D(4, 4, padding="same")')
    C("c1_same_s2", (9, 2), 'Conv1D(4, 3, strides=2, padding="same")')
    C("c1_same_s3_even", (10, 2), 'Conv1D(4, 4, strides=3, padding="same")')
    C("c1_same_d2", (10, 3), 'Conv1D(4, 3, dilation_rate=2, padding="same")')
    C("c1_same_kernel_wider", (3, 2), 'Conv1D(3, 5, padding="same")')
    C("c1_causal_k3", (9, 2), 'Conv1D(4, 3, padding="causal")')
    C("c1_causal_d2", (10, 3), 'Conv1D(4, 2, dilation_rate=2, padding="causal")')
    C("c1_causal_s2", (9, 2), 'Conv1D(3, 3, strides=2, padding="causal")')
    C("c1_causal_s3", (10, 2), 'Conv1D(3, 2, strides=3, padding="causal")')
    C("c1_groups2", (8, 4), "Conv1D(6, 3, groups=2)")
    C("c1_groups3_same", (9, 6), 'Conv1D(9, 2, padding="same", groups=3)')
    C("c1_no_bias", (9, 3), 'Conv1D(4, 3, use_bias=False, activation="tanh")')
    C("c1_softmax", (8, 3), 'Conv1D(5, 3, activation="softmax")')
    C("c1_glu", (8, 3), 'Conv1D(6, 3, padding="same", activation="glu")')
    C("c1_many_channels", (6, 70), 'Conv1D(10, 3, padding="same")', batch=2)
    C("c1_filters17", (7, 3), 'Conv1D(17, 2, padding="causal", dilation_rate=2)')

    # --- Conv2D ----------------------------------------------------------------------------
    C("c2_valid_k3", (7, 6, 2), "Conv2D(4, 3)")
    C("c2_valid_s2", (7, 8, 2), 'Conv2D(4, (3, 2), strides=2, activation="relu")')
    C("c2_valid_s3", (8, 7, 1), "Conv2D(3, 2, strides=(3, 2))")
    C("c2_valid_d2", (7, 8, 2), "Conv2D(3, 3, dilation_rate=2)")
    C("c2_valid_d12", (6, 7, 2), "Conv2D(3, (2, 3), dilation_rate=(1, 2))")
    C("c2_same_k3", (6, 7, 2), 'Conv2D(5, 3, padding="same")')
    C("c2_same_k2_even", (6, 6, 3), 'Conv2D(4, 2, padding="same")')
    C("c2_same_k4_odd", (5, 7, 2), 'Conv2D(4, (4, 3), padding="same")')
    C("c2_same_s2_odd", (7, 7, 2), 'Conv2D(4, 3, strides=2, padding="same")')
    C("c2_same_s2_even", (8, 8, 2), 'Conv2D(4, 3, strides=2, padding="same")')
    C("c2_same_s3", (7, 8, 2), 'Conv2D(3, 2, strides=3, padding="same")')
    C("c2_same_s12", (6, 7, 2), 'Conv2D(3, 3, strides=(1, 2), padding="same")')
    C("c2_same_d2", (6, 7, 2), 'Conv2D(4, 3, dilation_rate=2, padding="same")')
    C("c2_same_kernel_wider", (3, 2, 2), 'Conv2D(3, 5, padding="same")')
    C("c2_groups2", (6, 6, 4), 'Conv2D(6, 3, groups=2, padding="same")')
    C("c2_groups3", (5, 6, 6), "Conv2D(3, 2, groups=3)")
    C("c2_groups3_s2", (7, 6, 9), 'Conv2D(6, 3, strides=2, groups=3, padding="same")')
    C("c2_no_bias", (6, 5, 3), 'Conv2D(4, 3, use_bias=False, activation="sigmoid")')
    C("c2_pointwise", (5, 4, 6), "Conv2D(9, 1)")
    C("c2_filters20", (6, 6, 5), 'Conv2D(20, 3, padding="same", activation="relu")')
    # Winograd F(2x2, 3x3) on the SIMD builds (16-32 channels, 16-64 filters, >= 16 tiles): 40
    # filters, a masked vector of them past two whole ones.
    C("c2_winograd_filters40", (10, 10, 16), 'Conv2D(40, 3, activation="relu")', batch=2)
    C("c2_softmax", (5, 5, 2), 'Conv2D(4, 3, padding="same", activation="softmax")')
    C("c2_uppercase_same", (5, 5, 2), 'Conv2D(3, 3, padding="SAME")')
    C("c2_explicit_defaults", (6, 6, 2),
      'Conv2D(filters=3, kernel_size=(3, 3), strides=(1, 1), padding="valid", '
      'data_format="channels_last", dilation_rate=(1, 1), groups=1, activation=None, '
      'use_bias=True, kernel_initializer="he_normal")')

    # --- Conv3D ----------------------------------------------------------------------------
    C("c3_valid_k3", (5, 5, 4, 2), "Conv3D(3, 3)")
    C("c3_valid_s2", (5, 6, 5, 1), "Conv3D(3, 2, strides=2)")
    C("c3_valid_k123", (3, 4, 5, 2), 'Conv3D(4, (1, 2, 3), activation="relu")')
    C("c3_same_k2_even", (4, 5, 3, 2), 'Conv3D(3, 2, padding="same")')
    C("c3_same_k3_s2", (5, 4, 5, 2), 'Conv3D(4, 3, strides=2, padding="same")')
    C("c3_same_s3", (5, 5, 4, 1), 'Conv3D(3, 2, strides=(3, 2, 1), padding="same")')
    C("c3_same_d2", (5, 4, 5, 2), 'Conv3D(3, 3, dilation_rate=2, padding="same")')
    C("c3_valid_d2", (5, 5, 5, 1), "Conv3D(2, 2, dilation_rate=(2, 1, 2))")
    C("c3_groups2", (4, 4, 4, 4), 'Conv3D(6, 2, groups=2, padding="same")')
    C("c3_groups3_no_bias", (3, 4, 4, 3), "Conv3D(3, 2, groups=3, use_bias=False)")

    # --- Pooling: non-overlapping, overlapping (s < pool), gapped (s > pool), hanging over ---
    for cls, tag in [("MaxPooling", "max"), ("AveragePooling", "avg")]:
        req = "2" if tag == "avg" else ""  # AveragePooling has no default pool_size
        inp = "negative" if tag == "max" else "normal"
        C(f"{tag}1_default_odd", (9, 3), f"{cls}1D({req})", inputs=inp)
        C(f"{tag}1_same_odd", (9, 3), f'{cls}1D(2, padding="same")', inputs=inp)
        C(f"{tag}1_overlap_valid", (8, 2), f"{cls}1D(3, strides=1)", inputs=inp)
        C(f"{tag}1_overlap_same", (8, 2), f'{cls}1D(3, strides=1, padding="same")', inputs=inp)
        C(f"{tag}1_overlap_s2_same", (10, 2), f'{cls}1D(3, strides=2, padding="same")', inputs=inp)
        C(f"{tag}1_gap_s3", (10, 2), f"{cls}1D(2, strides=3)", inputs=inp)
        C(f"{tag}2_default_odd", (7, 6, 2), f"{cls}2D({req})", inputs=inp)
        C(f"{tag}2_same_odd", (7, 5, 2), f'{cls}2D(2, padding="same")', inputs=inp)
        C(f"{tag}2_overlap_same", (6, 6, 3), f'{cls}2D(3, strides=1, padding="same")', inputs=inp)
        C(f"{tag}2_overlap_s2_same", (6, 7, 2), f'{cls}2D(3, strides=2, padding="same")', inputs=inp)
        C(f"{tag}2_rect_same", (7, 6, 2), f'{cls}2D((2, 3), strides=(1, 2), padding="same")',
          inputs=inp)
        C(f"{tag}2_gap_valid", (8, 7, 2), f"{cls}2D(2, strides=3)", inputs=inp)
        C(f"{tag}3_default_odd", (5, 4, 3, 2), f"{cls}3D({req})", inputs=inp)
        C(f"{tag}3_same_odd", (5, 4, 3, 2), f'{cls}3D(2, padding="same")', inputs=inp)
        C(f"{tag}3_overlap_same", (4, 4, 4, 2), f'{cls}3D((3, 2, 2), strides=1, padding="same")',
          inputs=inp)
        C(f"{tag}3_mixed_strides_same", (5, 5, 5, 1),
          f'{cls}3D(2, strides=(1, 2, 3), padding="same")', inputs=inp)

    # --- small stacks ------------------------------------------------------------------------
    C("cnn2d_stack", (8, 8, 1),
      'Conv2D(6, 3, activation="relu", padding="same"), MaxPooling2D(2), '
      'Conv2D(8, 3, activation="relu"), Flatten(), Dropout(0.25), Dense(4, activation="softmax")')
    C("cnn1d_stack", (16, 3),
      'Conv1D(8, 5, padding="causal", activation="relu"), AveragePooling1D(2), '
      'Conv1D(6, 3, dilation_rate=2, activation="tanh"), MaxPooling1D(2, padding="same"), '
      "Flatten(), Dense(3)")
    C("cnn3d_stack", (6, 6, 6, 1),
      'Conv3D(4, 3, activation="relu"), MaxPooling3D(2), Flatten(), Dense(2, activation="softmax")')
    C("conv_after_dense", (5, 4),
      'Dense(6, activation="relu"), Conv1D(4, 2, padding="same"), Reshape((5, 2, 2)), '
      'Conv2D(3, (2, 2), padding="same", groups=1), AveragePooling2D((5, 1))')
    return cases


CONV_CASES = _conv_cases()

import gen_rnn  # noqa: E402  (recurrent + Embedding cases and examples, tools/gen_rnn.py)

ALLOWED_LAYERS += gen_rnn.LAYERS
INPUT_GENERATORS.update(gen_rnn.INPUT_GENERATORS)
RNN_CASES = gen_rnn.cases(Case)

import gen_spatial  # noqa: E402  (global pooling, padding, cropping, up-sampling, tools/gen_spatial.py)

ALLOWED_LAYERS += gen_spatial.LAYERS
INPUT_GENERATORS.update(gen_spatial.INPUT_GENERATORS)
SPATIAL_CASES = gen_spatial.cases(Case)
import gen_norm  # noqa: E402  (normalization layers, tools/gen_norm.py)

ALLOWED_LAYERS += gen_norm.LAYERS
INPUT_GENERATORS.update(gen_norm.INPUT_GENERATORS)
NORM_CASES = gen_norm.cases(Case)
# Functions (variable, rng) -> bool that set a variable the default draw does not fit.
WEIGHT_HOOKS = [gen_norm.weight_hook]
# Functions (model) run after the weights are set (e.g. layers that cache state derived from them).
MODEL_HOOKS = [gen_norm.after_weights]
import gen_convx  # noqa: E402  (depthwise, separable, transposed convolutions, tools/gen_convx.py)

ALLOWED_LAYERS += gen_convx.LAYERS
CONVX_CASES = gen_convx.cases(Case)
import gen_act  # noqa: E402  (activation, shape and identity layers, Masking, aliases: tools/gen_act.py)

ALLOWED_LAYERS += gen_act.LAYERS
INPUT_GENERATORS.update(gen_act.INPUT_GENERATORS)
ACT_CASES = gen_act.cases(Case)

import gen_wrappers  # noqa: E402  (Bidirectional, TimeDistributed, more aliases: tools/gen_wrappers.py)

ALLOWED_LAYERS += gen_wrappers.LAYERS
INPUT_GENERATORS.update(gen_wrappers.INPUT_GENERATORS)
WRAPPERS_CASES = gen_wrappers.cases(Case)

SUITES = [
    Suite("core", CORE_CASES),
    Suite("conv", CONV_CASES),
    Suite("rnn", RNN_CASES),
    Suite("spatial", SPATIAL_CASES),
    Suite("norm", NORM_CASES),
    Suite("convx", CONVX_CASES),
    Suite("act", ACT_CASES),
    Suite("wrappers", WRAPPERS_CASES),
]


# --------------------------------------------------------------------------------------
# Building / running one case
# --------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_layers(layers):
    """Evaluate a layer string in a namespace that only knows ALLOWED_LAYERS."""
    if "'" in layers:
        raise ValueError(f"layer string must use double quotes only: {layers!r}")
    namespace = {"__builtins__": {}}
    namespace.update({n: getattr(keras.layers, n) for n in ALLOWED_LAYERS})
    return eval("[" + layers + "]", namespace)  # noqa: S307 -- trusted, local strings


def _token_ids(case):
    """Whether the case feeds token ids (int32) rather than floats."""
    return case.inputs.startswith("ids")


def build_model(case):
    keras.backend.clear_session()  # fresh layer-name counters for every case
    dtype = "int32" if _token_ids(case) else "float32"
    return keras.Sequential(
        [keras.Input(case.input_shape, dtype=dtype)] + parse_layers(case.layers), name=case.name
    )


def _concat_outputs(y, batch):
    """One output array as is; a list (``return_state``) flattened per sample and concatenated,
    with the shape of each output."""
    if isinstance(y, (list, tuple)):
        outs = [np.asarray(o) for o in y]
        flat = np.concatenate([o.reshape(batch, -1) for o in outs], axis=1)
        return flat, [tuple(int(d) for d in o.shape[1:]) for o in outs]
    y = np.asarray(y)
    return y, [tuple(int(d) for d in y.shape[1:])]


def randomise_weights(model, rng):
    for v in model.weights:
        if any(hook(v, rng) for hook in WEIGHT_HOOKS):
            continue
        v.assign((rng.standard_normal(tuple(v.shape)) * WEIGHT_SCALE).astype(np.float32))
    for hook in MODEL_HOOKS:
        hook(model)


def _f32_bytes(a):
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def _write_if_changed(path, data):
    """Write bytes (or str), skipping identical content (keeps mtimes stable)."""
    if isinstance(data, str):
        data = data.encode()
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def run_case(suite, case, out_dir):
    """Build, randomise weights, predict and write one case; return its manifest entry."""
    if not _NAME_RE.match(case.name):
        raise ValueError(f"bad case name {case.name!r}")
    rng = np.random.default_rng(_seed(suite.name, case.name))
    model = build_model(case)
    randomise_weights(model, rng)

    x = INPUT_GENERATORS[case.inputs](rng, (case.batch, *case.input_shape))
    x = x.astype(np.int32 if _token_ids(case) else np.float32)
    y, output_shapes = _concat_outputs(model.predict(x, verbose=0), case.batch)
    y_call, _ = _concat_outputs(model(x, training=False), case.batch)
    if not np.array_equal(y, y_call, equal_nan=True):
        # Not expected; report rather than fail (predict is the reference).
        print(f"  note: {case.name}: predict != __call__ (max diff "
              f"{np.nanmax(np.abs(y - y_call)):.3g})")

    # The real output shape. NB: Keras's symbolic `model.output_shape` can be wrong
    # (e.g. activation "glu" halves the last axis but Activation/Dense report the
    # unhalved size), so the shape of the actual prediction is what we record.
    output_shape = output_shapes[0]
    symbolic = model.output_shape
    symbolic_shape = tuple(int(d) for d in (symbolic[0] if isinstance(symbolic, list) else symbolic)[1:])
    assert y.shape[0] == case.batch, y.shape
    if symbolic_shape != output_shape:
        print(f"  note: {case.name}: model.output_shape {symbolic_shape} != "
              f"predicted {output_shape}")
    assert y.dtype == np.float32, y.dtype
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{case.name}: non-finite output")

    weights = b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights)
    params = int(model.count_params())
    assert len(weights) == 4 * params, (len(weights), params)

    _write_if_changed(out_dir / f"{case.name}.w.bin", weights)
    x_bytes = x.astype("<u4").tobytes() if _token_ids(case) else _f32_bytes(x)
    _write_if_changed(out_dir / f"{case.name}.x.bin", x_bytes)
    _write_if_changed(out_dir / f"{case.name}.y.bin", _f32_bytes(y))

    return {
        "name": case.name,
        "input_shape": list(case.input_shape),
        "output_shape": list(output_shape),
        **({"output_shapes": [list(o) for o in output_shapes]} if len(output_shapes) > 1 else {}),
        "keras_symbolic_output_shape": list(symbolic_shape),
        "batch": case.batch,
        "params": params,
        "layers": case.layers,
        "keras_version": KERAS_VERSION,
        "inputs": case.inputs,
        "weights": [{"path": v.path, "shape": [int(d) for d in v.shape]} for v in model.weights],
    }


def _tuple_literal(t):
    return "(" + str(t[0]) + ",)" if len(t) == 1 else "(" + ", ".join(map(str, t)) + ")"


def render_rust(suite, entries):
    lines = [
        f"// @generated by tools/gen_fixtures.py from real Keras {KERAS_VERSION}; do not edit.",
        "parity_suite! {",
        f'    suite: "{suite.name}",',
        f'    keras: "{KERAS_VERSION}",',
        "    cases: [",
    ]
    for e in entries:
        lines.append(
            f"        {e['name']} {{ input_shape: {_tuple_literal(e['input_shape'])}, "
            f"layers: [{e['layers']}], "
            f"output_shape: [{', '.join(map(str, e['output_shape']))}], "
            f"params: {e['params']} }},"
        )
    lines += ["    ],", "}", ""]
    return "\n".join(lines)


def _manifest_json(manifest):
    """Pretty top level, one compact line per case (keeps the file small and diffable)."""
    head = {k: v for k, v in manifest.items() if k != "cases"}
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append('  "cases": [')
    cases = [f"    {json.dumps(c, separators=(', ', ': '))}" for c in manifest["cases"]]
    lines.append(",\n".join(cases))
    lines += ["  ]", "}", ""]
    text = "\n".join(lines)
    assert json.loads(text) == manifest
    return text


def gen_suite(suite):
    out_dir = FIXTURES / suite.name
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in suite.cases]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate case names in suite {suite.name}")

    entries = []
    for case in suite.cases:
        entries.append(run_case(suite, case, out_dir))

    # Remove stale fixtures of cases that no longer exist.
    keep = {f"{n}.{k}.bin" for n in names for k in ("w", "x", "y")}
    for p in out_dir.glob("*.bin"):
        if p.name not in keep:
            p.unlink()

    manifest = {
        "suite": suite.name,
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "dtype": "float32 little-endian, row-major"
                 + (" (token ids: uint32 little-endian)"
                    if any(_token_ids(c) for c in suite.cases) else ""),
        "files": "<name>.w.bin (model.weights concatenated), <name>.x.bin "
                 "(batch, *input_shape), <name>.y.bin (batch, *output_shape)",
        "cases": entries,
    }
    _write_if_changed(out_dir / "manifest.json", _manifest_json(manifest))
    _write_if_changed(GENERATED / f"{suite.name}.rs", render_rust(suite, entries))
    print(f"suite {suite.name}: {len(entries)} cases -> {out_dir.relative_to(ROOT)}")


# --------------------------------------------------------------------------------------
# Digits example
# --------------------------------------------------------------------------------------

DIGITS_SEED = 1234
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_SIZE = 360
DIGITS_EPOCHS = 60
# Sequential models use 88 columns when the terminal is wide enough; pin it so the
# captured summary does not depend on the terminal/COLUMNS of whoever runs this.
SUMMARY_LINE_LENGTH = 88


def _summary_text(model):
    # Keras renders the table with `rich`, whose Console takes its width from the terminal
    # (COLUMNS, else 80 when stdout is not a tty) and silently crops wider lines. Give it
    # room so the 88-column table is captured whole, then restore the environment.
    chunks = []
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(SUMMARY_LINE_LENGTH + 40)
    try:
        model.summary(line_length=SUMMARY_LINE_LENGTH,
                      print_fn=lambda s, **_: chunks.append(s))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    text = "".join(chunks)
    assert "\x1b" not in text, "ANSI escape in captured summary"
    return text


def gen_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)  # (1797, 64), row-major 8x8
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        X, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=DIGITS_SPLIT_SEED, shuffle=True
    )

    keras.backend.clear_session()
    keras.utils.set_random_seed(DIGITS_SEED)
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((64,)), L.Dense(32, activation="relu"), L.Dropout(0.2),
         L.Dense(10, activation="softmax")],
        name="DigitsMlp",
    )
    summary = _summary_text(model)  # inference model: no optimizer line
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=DIGITS_EPOCHS, batch_size=32, shuffle=True, verbose=0)
    summary_compiled = _summary_text(model)  # after fit: adds "Optimizer params"

    probs = np.asarray(model.predict(x_test, verbose=0), dtype=np.float32)
    acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
    if acc <= 0.95:
        raise RuntimeError(f"digits accuracy too low: {acc}")

    d = EXAMPLES_DATA
    d.mkdir(parents=True, exist_ok=True)
    _write_if_changed(d / "digits_mlp.weights.bin",
                      b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights))
    _write_if_changed(d / "digits_test_x.bin", _f32_bytes(x_test))
    _write_if_changed(d / "digits_test_y.bin", y_test.astype(np.uint8).tobytes())
    _write_if_changed(d / "digits_keras_probs.bin", _f32_bytes(probs))
    _write_if_changed(
        d / "digits_keras.txt",
        f"keras_version={KERAS_VERSION}\n"
        f"test_samples={len(y_test)}\n"
        f"keras_accuracy={acc:.6f}\n"
        f"params={model.count_params()}\n",
    )
    _write_if_changed(d / "digits_summary.txt", summary)
    _write_if_changed(d / "digits_summary_compiled.txt", summary_compiled)
    model.save(d / "digits.keras")
    model.save_weights(d / "digits.weights.h5")
    print(f"digits: test_samples={len(y_test)} keras_accuracy={acc:.6f} "
          f"params={model.count_params()} -> {d.relative_to(ROOT)}")


DIGITS_CNN_EPOCHS = 40


def gen_digits_cnn():
    """The digits CNN: the same data and split as ``gen_digits``, images as (8, 8, 1)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        X, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=DIGITS_SPLIT_SEED, shuffle=True
    )
    d = EXAMPLES_DATA
    # The CNN is scored on the very test set the MLP example uses.
    if (d / "digits_test_x.bin").exists():
        assert (d / "digits_test_x.bin").read_bytes() == _f32_bytes(x_test), "split changed"
    x_train = x_train.reshape(-1, 8, 8, 1)
    x_test = x_test.reshape(-1, 8, 8, 1)

    keras.backend.clear_session()
    keras.utils.set_random_seed(DIGITS_SEED)
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((8, 8, 1)),
         L.Conv2D(16, 3, activation="relu", padding="same"),
         L.MaxPooling2D(2),
         L.Conv2D(32, 3, activation="relu"),
         L.Flatten(),
         L.Dropout(0.25),
         L.Dense(10, activation="softmax")],
        name="DigitsCnn",
    )
    summary = _summary_text(model)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=DIGITS_CNN_EPOCHS, batch_size=32, shuffle=True, verbose=0)

    probs = np.asarray(model.predict(x_test, verbose=0), dtype=np.float32)
    acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
    if acc <= 0.95:
        raise RuntimeError(f"digits CNN accuracy too low: {acc}")

    d.mkdir(parents=True, exist_ok=True)
    _write_if_changed(d / "digits_cnn.weights.bin",
                      b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights))
    _write_if_changed(d / "digits_cnn_keras_probs.bin", _f32_bytes(probs))
    _write_if_changed(
        d / "digits_cnn_keras.txt",
        f"keras_version={KERAS_VERSION}\n"
        f"test_samples={len(y_test)}\n"
        f"keras_accuracy={acc:.6f}\n"
        f"params={model.count_params()}\n",
    )
    _write_if_changed(d / "digits_cnn_summary.txt", summary)
    model.save(d / "digits_cnn.keras")
    print(f"digits_cnn: test_samples={len(y_test)} keras_accuracy={acc:.6f} "
          f"params={model.count_params()} -> {d.relative_to(ROOT)}")


# --------------------------------------------------------------------------------------


def main(argv):
    if keras.backend.backend() != "jax":
        sys.exit("run with KERAS_BACKEND=jax")
    examples = {"digits": gen_digits, "digits_cnn": gen_digits_cnn, **gen_rnn.EXAMPLES}
    examples.update(gen_norm.EXAMPLES)
    examples.update(gen_act.EXAMPLES)
    examples.update(gen_wrappers.EXAMPLES)
    wanted = set(argv) or {s.name for s in SUITES} | set(examples)
    unknown = wanted - {s.name for s in SUITES} - set(examples)
    if unknown:
        sys.exit(f"unknown target(s): {sorted(unknown)}")
    print(f"keras {KERAS_VERSION}, backend {keras.backend.backend()}")
    for suite in SUITES:
        if suite.name in wanted:
            gen_suite(suite)
    for name, gen in examples.items():
        if name in wanted:
            gen()


if __name__ == "__main__":
    main(sys.argv[1:])
