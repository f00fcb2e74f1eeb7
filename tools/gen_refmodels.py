"""The MLPerf Tiny reference models and MobileNetV2-0.35, built by REAL Keras, as parity fixtures.

How to run (from the repository root, with the venv of tools/requirements.txt):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_refmodels.py

The four MLPerf Tiny reference models are transcribed from mlcommons/tiny
(``benchmark/training/{keyword_spotting/keras_model.py ('ds_cnn'), visual_wake_words/vww_model.py,
image_classification/keras_model.py (resnet_v1_eembc, 16 filters), anomaly_detection/keras_model.py}``)
to Keras 3 imports, as KERAS_GRAPHS.md §3 gives them. The one change: ``DepthwiseConv2D`` loses the
``kernel_initializer``/``kernel_regularizer`` keyword arguments the MLPerf code passes it (tf.keras 2
ignored them; Keras 3 raises, KERAS_GRAPHS.md F5). The fifth model is
``keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None, classes=10)``.

Weights are seeded and random at a realistic scale (He-normal kernels, so activations neither
vanish nor explode through 50 layers), biases small, and BatchNormalization's statistics made
non-trivial: gamma in [0.5, 1.5], beta and the moving mean ~N(0, 0.1²), the moving variance in
[0.5, 2].

Outputs, in ``tests/fixtures/refmodels/``:

* ``<name>.keras``: the model as Keras 3.15.1 saves it (``model.save``);
* ``<name>.x.bin``: a few seeded inputs, ``(n, *input_shape)``; ``<name>.y.bin``: Keras's
  ``model.predict`` on them, ``(n, *output_shape)`` (raw little-endian float32, row-major);
* ``<name>.summary.txt``: ``model.summary()`` without its first line (as ``tools/gen_graphs.py``);
* for the two REAL trained tf.keras 2.4 files already in ``tests/fixtures/files/real/``
  (``pretrainedResnet.h5``, ``ad01.h5``): ``real_resnet8.{x,y}.bin`` and ``real_ad01.{x,y}.bin``,
  Keras 3.15.1's ``load_model(path, compile=False).predict`` on seeded inputs;
* ``manifest.json``: per model the input/output shapes, sample count, ``count_params()``
  (trainable / non-trainable), the layer names and the weight paths in ``model.weights`` order.

Every model seeds its own RNG from its name, so the binary files are byte-identical on reruns
(the ``.keras`` zip holds a save date in its metadata, so it changes on every rerun; it is only
rewritten when the weights or the config change).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import keras
from keras.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    Input,
    add,
)
from keras.models import Model
from keras.regularizers import l2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_fixtures import (  # noqa: E402
    FIXTURES,
    KERAS_VERSION,
    ROOT,
    _f32_bytes,
    _seed,
    _write_if_changed,
)
from gen_graphs import summary_text  # noqa: E402

OUT = FIXTURES / "refmodels"
REAL = FIXTURES / "files" / "real"


# --- mlcommons/tiny keyword_spotting/keras_model.py, get_model(model_name='ds_cnn') ---------------
def kws_dscnn():
    input_shape = (49, 10, 1)
    filters = 64
    weight_decay = 1e-4
    regularizer = l2(weight_decay)
    final_pool_size = (int(input_shape[0] / 2), int(input_shape[1] / 2))
    inputs = Input(shape=input_shape)
    x = Conv2D(filters, (10, 4), strides=(2, 2), padding="same",
               kernel_regularizer=regularizer)(inputs)
    x = BatchNormalization()(x)
    x = Activation("relu")(x)
    x = Dropout(rate=0.2)(x)
    for _ in range(4):
        # F5: the MLPerf code also passes kernel_regularizer= here (ignored by tf.keras 2).
        x = DepthwiseConv2D(depth_multiplier=1, kernel_size=(3, 3), padding="same")(x)
        x = BatchNormalization()(x)
        x = Activation("relu")(x)
        x = Conv2D(filters, (1, 1), padding="same", kernel_regularizer=regularizer)(x)
        x = BatchNormalization()(x)
        x = Activation("relu")(x)
    x = Dropout(rate=0.4)(x)
    x = AveragePooling2D(pool_size=final_pool_size)(x)
    x = Flatten()(x)
    outputs = Dense(12, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)


# --- mlcommons/tiny visual_wake_words/vww_model.py, mobilenet_v1() ---------------------------------
def vww_mobilenet():
    input_shape = [96, 96, 3]
    num_classes = 2
    num_filters = 8
    inputs = Input(shape=input_shape)

    def conv(x, f, k, s):
        x = Conv2D(f, kernel_size=k, strides=s, padding="same",
                   kernel_initializer="he_normal", kernel_regularizer=l2(1e-4))(x)
        x = BatchNormalization()(x)
        return Activation("relu")(x)

    def dw(x, s):
        # F5: kernel_initializer= and kernel_regularizer= dropped.
        x = DepthwiseConv2D(kernel_size=3, strides=s, padding="same")(x)
        x = BatchNormalization()(x)
        return Activation("relu")(x)

    x = conv(inputs, num_filters, 3, 2)  # 1st layer: 3x3, stride 2
    blocks = [(1, 16), (2, 32), (1, 32), (2, 64), (1, 64), (2, 128)]
    blocks += [(1, 128)] * 5 + [(2, 256), (1, 256)]
    for s, f in blocks:
        x = dw(x, s)
        x = conv(x, f, 1, 1)
    pool = tuple(int(d) for d in x.shape[1:3])
    x = AveragePooling2D(pool_size=pool)(x)
    x = Flatten()(x)
    outputs = Dense(num_classes, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)


# --- mlcommons/tiny image_classification/keras_model.py, resnet_v1_eembc() (16 filters) -----------
def resnet8():
    input_shape = [32, 32, 3]
    num_classes = 10
    num_filters = 16  # the 2021 reference and pretrainedResnet.h5 (HEAD says 26, F10)

    def conv(f, k, s):
        return Conv2D(f, kernel_size=k, strides=s, padding="same", kernel_initializer="he_normal",
                      kernel_regularizer=l2(1e-4))

    inputs = Input(shape=input_shape)
    x = conv(num_filters, 3, 1)(inputs)
    x = BatchNormalization()(x)
    x = Activation("relu")(x)
    # First stack
    y = conv(num_filters, 3, 1)(x)
    y = BatchNormalization()(y)
    y = Activation("relu")(y)
    y = conv(num_filters, 3, 1)(y)
    y = BatchNormalization()(y)
    x = add([x, y])
    x = Activation("relu")(x)
    # Second and third stacks
    for num_filters in (32, 64):
        y = conv(num_filters, 3, 2)(x)
        y = BatchNormalization()(y)
        y = Activation("relu")(y)
        y = conv(num_filters, 3, 1)(y)
        y = BatchNormalization()(y)
        x = conv(num_filters, 1, 2)(x)
        x = add([x, y])
        x = Activation("relu")(x)
    pool_size = int(np.amin(x.shape[1:3]))
    x = AveragePooling2D(pool_size=pool_size)(x)
    y = Flatten()(x)
    outputs = Dense(num_classes, activation="softmax", kernel_initializer="he_normal")(y)
    return Model(inputs=inputs, outputs=outputs)


# --- mlcommons/tiny anomaly_detection/keras_model.py, get_model(inputDim=640) ----------------------
def ad_autoencoder():
    input_dim = 640
    input_layer = Input(shape=(input_dim,))
    h = input_layer
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        h = Dense(units)(h)
        h = BatchNormalization()(h)
        h = Activation("relu")(h)
    h = Dense(input_dim)(h)
    return Model(inputs=input_layer, outputs=h)


def mobilenetv2_035():
    return keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None,
                                          classes=10)


# name -> (builder, number of seeded samples). The 96×96×3 inputs are 110 KB a sample: two.
MODELS = {
    "kws_dscnn": (kws_dscnn, 4),
    "vww_mobilenet": (vww_mobilenet, 2),
    "resnet8": (resnet8, 4),
    "ad_autoencoder": (ad_autoencoder, 4),
    "mobilenetv2_035": (mobilenetv2_035, 2),
}

# The real trained files: name -> (file in tests/fixtures/files/real/, samples).
REAL_MODELS = {
    "real_resnet8": ("pretrainedResnet.h5", 4),
    "real_ad01": ("ad01.h5", 4),
}


# The classifier's kernel is scaled up so that the softmax is not near uniform (a near-uniform
# softmax would hide errors in the logits from the comparison).
SOFTMAX_KERNEL_SCALE = 8.0


def randomise(model, rng):
    """Seeded weights at a realistic scale, BatchNormalization statistics non-trivial."""
    softmax = {
        layer.kernel.path
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense)
        and layer.activation is keras.activations.softmax
    }
    for v in model.weights:
        shape = tuple(int(d) for d in v.shape)
        leaf = v.path.rsplit("/", 1)[-1]
        if v.path in softmax:
            w = rng.standard_normal(shape) * SOFTMAX_KERNEL_SCALE * np.sqrt(2.0 / shape[0])
        elif leaf == "depthwise_kernel":  # (kh, kw, c, multiplier): fan-in kh·kw
            w = rng.standard_normal(shape) * np.sqrt(2.0 / (shape[0] * shape[1]))
        elif leaf == "kernel":  # (..., c_in, c_out): fan-in = everything but c_out
            w = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[:-1]))
        elif leaf == "gamma":
            w = rng.uniform(0.5, 1.5, shape)
        elif leaf == "moving_variance":
            w = rng.uniform(0.5, 2.0, shape)
        elif leaf in ("bias", "beta", "moving_mean"):
            w = rng.standard_normal(shape) * 0.1
        else:
            raise ValueError(f"unexpected variable {v.path}")
        v.assign(w.astype(np.float32))


def predict(model, x):
    y = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{model.name}: non-finite output")
    return y


def keras_bytes(model):
    """The `.keras` archive, and its content without the save date (to compare with the file
    on disk: only rewrite it when the config or the weights changed)."""
    path = OUT / "_tmp.keras"
    model.save(path)
    data = path.read_bytes()
    path.unlink()
    return data


def keras_content(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {}
        for n in sorted(z.namelist()):
            raw = z.read(n)
            if n == "metadata.json":
                meta = json.loads(raw)
                meta.pop("date_saved", None)
                raw = json.dumps(meta, sort_keys=True).encode()
            parts[n] = raw
        return parts


def describe(model, n, x, y):
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    params = int(model.count_params())
    return {
        "samples": n,
        "input_shape": [int(d) for d in x.shape[1:]],
        "output_shape": [int(d) for d in y.shape[1:]],
        "params": params,
        "trainable": trainable,
        "non_trainable": params - trainable,
        "layers": [layer.name for layer in model.layers],
        "weights": [{"path": v.path, "shape": [int(d) for d in v.shape]} for v in model.weights],
        "max_abs_y": float(np.max(np.abs(y))),
        "min_abs_y": float(np.min(np.abs(y))),
    }


def gen_model(name, builder, n):
    keras.backend.clear_session()
    rng = np.random.default_rng(_seed("refmodels", name))
    model = builder()
    randomise(model, rng)
    x = rng.standard_normal((n, *model.input_shape[1:])).astype(np.float32)
    y = predict(model, x)
    data = keras_bytes(model)
    path = OUT / f"{name}.keras"
    if not path.exists() or keras_content(path.read_bytes()) != keras_content(data):
        path.write_bytes(data)
    # The saved file gives the same numbers.
    again = keras.saving.load_model(path, compile=False)
    assert np.array_equal(predict(again, x), y), name
    _write_if_changed(OUT / f"{name}.x.bin", _f32_bytes(x))
    _write_if_changed(OUT / f"{name}.y.bin", _f32_bytes(y))
    _write_if_changed(OUT / f"{name}.summary.txt", summary_text(model))
    entry = describe(model, n, x, y)
    entry["file"] = f"{name}.keras"
    print(f"{name}: {entry['params']} params, {len(model.layers)} layers, "
          f"{path.stat().st_size} bytes, |y| in [{entry['min_abs_y']:.3g}, {entry['max_abs_y']:.3g}]")
    return entry


def gen_real(name, file, n):
    keras.backend.clear_session()
    rng = np.random.default_rng(_seed("refmodels", name))
    model = keras.saving.load_model(REAL / file, compile=False)
    x = rng.standard_normal((n, *model.input_shape[1:])).astype(np.float32)
    y = predict(model, x)
    _write_if_changed(OUT / f"{name}.x.bin", _f32_bytes(x))
    _write_if_changed(OUT / f"{name}.y.bin", _f32_bytes(y))
    entry = describe(model, n, x, y)
    entry["file"] = f"files/real/{file}"
    print(f"{name} ({file}): {entry['params']} params, max |y| {entry['max_abs_y']:.3g}")
    return entry


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    models = {name: gen_model(name, b, n) for name, (b, n) in MODELS.items()}
    models |= {name: gen_real(name, f, n) for name, (f, n) in REAL_MODELS.items()}
    manifest = {
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "dtype": "float32 little-endian, row-major",
        "files": "<name>.keras (model.save), <name>.x.bin (samples × input), <name>.y.bin "
                 "(samples × output, model.predict), <name>.summary.txt (model.summary() "
                 "without its first line)",
        "models": models,
    }
    _write_if_changed(OUT / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    print(f"-> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
