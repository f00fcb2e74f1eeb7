"""Keras outputs for the big-model tests (`tests/big_models.rs`), from REAL Keras.

How to run (from the repository root, with the venv of tools/requirements.txt):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_big.py

Two models, each text both Keras Python and the static-keras DSL of the test:

* ``wide``: 12.6 MB of weights (three Dense layers). Its weights and input follow formulas the
  test computes too, bit for bit in f32, so nothing of them is stored; only Keras's output is.
* ``tall``: a convolutional graph whose activations, bound one per layer, take 3.7 MB (a
  residual `Add`, BatchNormalization, ReLU: the layers the planner runs in place). Its 3,488
  weights are random (moving variance positive) and stored; its input follows a formula.

Outputs: ``tests/fixtures/big/{wide.y.bin, tall.w.bin, tall.y.bin}`` (raw little-endian f32).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import sys
from pathlib import Path

import numpy as np
import keras
from keras import layers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_fixtures import FIXTURES, _f32_bytes, _seed, _write_if_changed  # noqa: E402

OUT = FIXTURES / "big"


def wide_weight(n):
    """`((i % 13) as f32 - 6.0) * 0.01` for i in 0..n, as the test computes it."""
    i = (np.arange(n) % 13).astype(np.float32)
    return (i - np.float32(6.0)) * np.float32(0.01)


def ramp(n, period, divisor):
    """`(i % period) as f32 / divisor - 1.0` for i in 0..n, as the test computes it."""
    i = (np.arange(n) % period).astype(np.float32)
    return i / np.float32(divisor) - np.float32(1.0)


def set_flat(model, flat):
    at = 0
    values = []
    for w in model.weights:
        n = int(np.prod(w.shape))
        values.append(flat[at : at + n].reshape(w.shape))
        at += n
    assert at == flat.size
    model.set_weights(values)


def wide():
    model = keras.Sequential(
        [
            keras.Input(shape=(1024,)),
            layers.Dense(2048, activation="relu"),
            layers.Dense(512, activation="tanh"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    set_flat(model, wide_weight(model.count_params()))
    x = ramp(1024, 7, 3.0).reshape(1, 1024)
    y = model.predict(x, verbose=0)
    _write_if_changed(OUT / "wide.y.bin", _f32_bytes(y))
    print("wide", model.count_params(), "params", y.ravel()[:3])


def tall():
    x = keras.Input(shape=(64, 64, 4))
    a = layers.Conv2D(32, 3, padding="same")(x)
    a = layers.BatchNormalization()(a)
    a = layers.ReLU()(a)
    b = layers.Conv2D(32, 1)(a)
    b = layers.BatchNormalization()(b)
    c = layers.Add()([a, b])
    c = layers.Activation("relu")(c)
    c = layers.MaxPooling2D(2)(c)
    c = layers.Conv2D(16, 1, activation="relu")(c)
    c = layers.GlobalAveragePooling2D()(c)
    y = layers.Dense(10, activation="softmax")(c)
    model = keras.Model(x, y)
    rng = np.random.default_rng(_seed("big", "tall"))
    values = []
    for w in model.weights:
        v = rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
        if "variance" in w.path:
            v = np.abs(v) + np.float32(0.5)
        values.append(v)
    model.set_weights(values)
    flat = np.concatenate([v.ravel() for v in values])
    xs = ramp(64 * 64 * 4, 7, 3.0).reshape(1, 64, 64, 4)
    y = model.predict(xs, verbose=0)
    _write_if_changed(OUT / "tall.w.bin", _f32_bytes(flat))
    _write_if_changed(OUT / "tall.y.bin", _f32_bytes(y))
    print("tall", model.count_params(), "params", y.ravel()[:3])


if __name__ == "__main__":
    wide()
    tall()
