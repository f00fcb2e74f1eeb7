"""How far folding BatchNormalization into the layer before it moves the reference models'
outputs, measured in Keras itself (KERAS_GRAPHS.md §2.1: `W' = W·a`, `b' = (b − μ)·a + β` with
`a = γ/√(σ² + ε)`, all in float32).

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/measure_bn_fold.py

Every BatchNormalization whose input is a Conv2D / DepthwiseConv2D / Dense output read by that
BN alone (no activation in between) is replaced by an identity, and the layer before it gets the
folded kernel and bias. The folded model runs on the seeded inputs of
`tests/fixtures/refmodels/` and is compared with Keras's outputs of the unfolded model there, in
the measure of `tests/refmodels.rs` (`|Δ| / max(1, max |y|)` per sample); for a softmax model,
also the features the classifier reads. Nothing is written.
"""
import os
import sys
os.environ.setdefault("KERAS_BACKEND", "jax"); os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpy as np
import keras
from pathlib import Path
FIX = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests" / "fixtures"
MODELS = ["kws_dscnn", "vww_mobilenet", "resnet8", "ad_autoencoder", "mobilenetv2_035"]
REAL = {"real_resnet8": "files/real/pretrainedResnet.h5", "real_ad01": "files/real/ad01.h5"}
FOLDABLE = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)

class Same(keras.layers.Layer):
    def call(self, inputs, training=None, mask=None):
        return inputs


def producers(model):
    """BN layer name -> the layer whose output it reads, when that output feeds only the BN."""
    consumers = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for t in node.input_tensors:
                src = t._keras_history.operation
                consumers.setdefault(src.name, []).append(layer.name)
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            src = layer._inbound_nodes[0].input_tensors[0]._keras_history.operation
            if isinstance(src, FOLDABLE) and consumers[src.name] == [layer.name] and src.activation is keras.activations.linear:
                out[layer.name] = src.name
    return out

def fold(model):
    pairs = producers(model)
    convs = set(pairs.values())
    def clone(layer):
        cfg = layer.get_config()
        if layer.name in pairs:
            return Same(name=layer.name)
        if layer.name in convs:
            cfg["use_bias"] = True
        return layer.__class__.from_config(cfg)
    new = keras.models.clone_model(model, clone_function=clone)
    bn_of = {v: k for k, v in pairs.items()}
    for layer in model.layers:
        nl = new.get_layer(layer.name)
        if layer.name in pairs:
            continue
        w = [np.asarray(v) for v in layer.weights]
        if layer.name in convs:
            bn = model.get_layer(bn_of[layer.name])
            g, b, m, v = [np.asarray(x, dtype=np.float32) for x in bn.weights]
            a = (g / np.sqrt(v + np.float32(bn.epsilon))).astype(np.float32)
            kernel = w[0]
            bias = w[1] if len(w) > 1 else np.zeros(a.shape, np.float32)
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                k = kernel * a.reshape(kernel.shape[2], kernel.shape[3])
            else:
                k = kernel * a
            w = [k.astype(np.float32), ((bias - m) * a + b).astype(np.float32)]
        nl.set_weights(w)
    return new, len(pairs)

for name in MODELS + list(REAL):
    keras.backend.clear_session()
    path = FIX / (REAL.get(name) or f"refmodels/{name}.keras")
    model = keras.saving.load_model(path, compile=False)
    x = np.fromfile(FIX / f"refmodels/{name}.x.bin", "<f4").reshape(-1, *model.input_shape[1:])
    y = np.fromfile(FIX / f"refmodels/{name}.y.bin", "<f4").reshape(-1, *model.output_shape[1:])
    folded, n = fold(model)
    yf = np.asarray(folded.predict(x, verbose=0))
    # The same measure as the test: |Δ| / max(1, max |y|) per sample.
    scale = np.maximum(1, np.abs(y).reshape(len(y), -1).max(1)).reshape(-1, *[1]*(y.ndim-1))
    err = float(np.max(np.abs(yf - y) / scale))
    # Logits too (the softmax hides some): the model without its final softmax.
    last = model.layers[-1]
    extra = ""
    if getattr(last, "activation", None) is keras.activations.softmax:
        def logits(m):
            return keras.Model(m.inputs, m.layers[-1].input)

        h = np.asarray(logits(model).predict(x, verbose=0)); hf = np.asarray(logits(folded).predict(x, verbose=0))
        # pre-classifier features
        e2 = float(np.max(np.abs(hf - h) / np.maximum(1, np.abs(h).max())))
        extra = f", features before the classifier {e2:.2e} (max |h| {np.abs(h).max():.3g})"
    print(f"{name}: {n} BN folded, output error {err:.2e}{extra}", flush=True)
