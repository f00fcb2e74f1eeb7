"""Measures what folding BatchNormalization into the Dense/Conv before it would cost in parity.

Not a fixture generator: it reads the "norm" parity fixtures (tools/gen_norm.py) whose models put
a BatchNormalization right after a Dense or Conv2D, folds each such pair in float32 as a loader
would (a = gamma * rsqrt(var + eps); W' = W * a; b' = (b - mean) * a + beta), runs the folded
model in Keras and prints the worst parity error against the unfolded Keras output, in the
suite's measure |got - want| / max(1, |want|).

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/bn_folding_error.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json
from pathlib import Path

import keras
import numpy as np

import gen_fixtures as gf

CASES = ["bn_after_conv", "bn_after_dense", "rescale_then_bn"]
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "norm"


def load(case):
    entry = next(c for c in json.loads((FIXTURES / "manifest.json").read_text())["cases"]
                 if c["name"] == case)
    model = gf.build_model(gf.Case(case, tuple(entry["input_shape"]), entry["layers"]))
    flat = np.frombuffer((FIXTURES / f"{case}.w.bin").read_bytes(), dtype="<f4")
    offset = 0
    for v in model.weights:
        n = int(np.prod(v.shape))
        v.assign(flat[offset:offset + n].reshape(v.shape))
        offset += n
    x = np.frombuffer((FIXTURES / f"{case}.x.bin").read_bytes(), dtype="<f4")
    x = x.reshape(entry["batch"], *entry["input_shape"])
    y = np.frombuffer((FIXTURES / f"{case}.y.bin").read_bytes(), dtype="<f4")
    return model, entry, x, y.reshape(entry["batch"], -1)


def folded(model, entry):
    """The model without its BatchNormalization layers, each folded into the layer before."""
    f32 = np.float32
    layers, weights = [], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            kernel = weights[-1][0]
            bias = weights[-1][1] if len(weights[-1]) > 1 else np.zeros(kernel.shape[-1], f32)
            var = layer.moving_variance.numpy()
            mean = layer.moving_mean.numpy()
            a = f32(1) / np.sqrt(var + f32(layer.epsilon))
            if layer.scale:
                a = a * layer.gamma.numpy()
            b = (bias - mean) * a
            if layer.center:
                b = b + layer.beta.numpy()
            weights[-1] = [(kernel * a).astype(f32), b.astype(f32)]
            layers[-1]["config"]["use_bias"] = True
            continue
        layers.append({"class": type(layer), "config": layer.get_config()})
        weights.append([w.numpy() for w in layer.weights])
    keras.backend.clear_session()
    out = keras.Sequential([keras.Input(tuple(entry["input_shape"]))]
                           + [l["class"].from_config(l["config"]) for l in layers])
    for layer, w in zip(out.layers, weights):
        if w:
            layer.set_weights(w)
    return out


def main():
    worst_all = 0.0
    for case in CASES:
        model, entry, x, y = load(case)
        got = np.asarray(folded(model, entry).predict(x, verbose=0)).reshape(y.shape)
        err = np.abs(got.astype(np.float64) - y) / np.maximum(1.0, np.abs(y))
        worst_all = max(worst_all, float(err.max()))
        print(f"{case:20s} folded vs Keras: worst {err.max():.2e}, mean {err.mean():.2e}  "
              f"({entry['layers']})")
    print(f"worst over the cases: {worst_all:.2e} (parity tolerance 1e-5)")


if __name__ == "__main__":
    main()
