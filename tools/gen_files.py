"""Keras-saved model files for the static-keras loader tests, written by REAL Keras.

Every model here is saved in every format the Keras at hand writes, with the same weights, so
the Rust tests can load each file and compare ``predict`` with Keras's own output.

How to run (from the repository root), once per Keras:

    # the current Keras 3 (tools/requirements.txt)
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_files.py
    # an older Keras 3: a venv with `pip install --no-deps keras==3.3.3` whose site-packages
    # also sees the first venv's (a .pth file), so jax/h5py/numpy are shared
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv-keras33/bin/python tools/gen_files.py
    # tf.keras 2: a venv with `pip install tensorflow-cpu tf-keras` (the Keras 2 package)
    .venv-tf/bin/python tools/gen_files.py tf

Outputs, in ``tests/fixtures/files/`` (raw binaries are little-endian float32, row-major):

* ``<model>.x.bin``               input batch ``(BATCH, *input_shape)``
* ``<model>.w.bin``               ``model.weights`` flattened and concatenated, as float32
                                  (for the float16/bfloat16/float64 models: the stored values
                                  converted to float32, which is what a loader must produce)
* ``<model>.<tag>.y.bin``         ``model.predict(x)`` of that Keras
* ``<model>.<tag>.keras``         ``model.save(...)``
* ``<model>.<tag>.weights.h5``    ``model.save_weights(...)`` (Keras 3)
* ``<model>.<tag>.h5``            legacy ``model.save("....h5")``
* ``<model>.tf2w.h5``             tf.keras 2 ``save_weights("....h5")`` (layers at the file root)
* ``<model>.synth.h5``            a tf.keras-2.0-era legacy file written with h5py directly, with
                                  FIXED-length string attributes and ``kernel:0`` weight names
                                  (what h5py 2.x wrote; no such Keras runs on Python 3.11)
* ``mlp.k213synth.weights.h5``     the Keras 3 weights with ``layers`` renamed to
                                  ``_layer_checkpoint_dependencies``, as Keras 2.13-2.15 wrote it
* ``<model>.manifest.json``       shapes, parameter count, which files exist and which Keras wrote them

``tag`` is ``k<major><minor><patch>`` for Keras 3 (``k3151``, ``k333``) and ``tf2`` for tf.keras.

Reduced-precision models (``*_f16``, ``*_bf16``, ``*_f64``) are saved with that dtype policy; their
``y.bin`` comes from a float32 Keras model holding the *converted* weights, since a float16 model
also computes in float16 and a float32 re-computation cannot match it to 1e-5.

The models cover every layer family: Dense/Activation/Dropout/Flatten/Reshape, Conv1D/2D/3D
with both poolings, and SimpleRNN/LSTM/GRU (reset_after both ways, go_backwards). Embedding,
whose input is token ids, is covered by `examples/data/sentiment.keras`
(tests/keras_files_families.rs).
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "files"
BATCH = 4
WEIGHT_SCALE = 0.5

ACTS12 = ["relu", "tanh", "sigmoid", "elu", "selu", "softplus",
          "softsign", "swish", "gelu", "linear", "exponential", "relu"]

# name -> (input shape, layer string). Layer strings are Keras Python and static-keras DSL.
MODELS = {
    "mlp": ((6,), 'Dense(8, activation="relu"), Dropout(0.3), '
                  'Dense(4, activation="tanh", use_bias=False), Activation("softmax")'),
    "shapes": ((2, 3, 4), 'Flatten(), Dense(12, activation="selu"), Reshape((3, 4)), '
                          'Dense(5, activation="gelu"), Reshape((-1,)), Dense(3)'),
    "deep12": ((5,), ", ".join(f'Dense(3, activation="{a}")' for a in ACTS12)),
    "cnn": ((8, 8, 2), 'Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), '
                       'AveragePooling2D(2, strides=1, padding="same"), Reshape((4, 16)), '
                       'Conv1D(3, 2, padding="causal", dilation_rate=2), MaxPooling1D(2), '
                       'Flatten(), Dense(3)'),
    "cnn3d": ((4, 4, 4, 1), 'Conv3D(2, 2, activation="relu"), MaxPooling3D(1), '
                            'AveragePooling3D(2, padding="same"), Flatten(), Dense(2)'),
    "rnn": ((5, 3), 'GRU(4, return_sequences=True, reset_after=False), '
                    'LSTM(4, return_sequences=True, go_backwards=True), SimpleRNN(3), '
                    'Dense(2, activation="softmax")'),
    "gru": ((6, 2), 'GRU(5, return_sequences=True), GRU(3, activation="relu")'),
}
FUNCTIONAL = "mlp"  # also saved as a Functional chain, `<model>_functional`
DTYPES = {"f16": "float16", "bf16": "bfloat16", "f64": "float64"}  # of `mlp`, .keras only
LAYER_NAMES = ["Dense", "Activation", "Dropout", "Flatten", "Reshape",
               "Conv1D", "Conv2D", "Conv3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
               "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
               "SimpleRNN", "LSTM", "GRU"]


def seed(*parts):
    return zlib.crc32("/".join(parts).encode()) & 0xFFFFFFFF


def f32(a):
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def write(path, data):
    if isinstance(data, str):
        data = data.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def layer_list(L, text):
    namespace = {"__builtins__": {}}
    namespace.update({n: getattr(L, n) for n in LAYER_NAMES})
    return eval("[" + text + "]", namespace)  # noqa: S307 -- local, trusted strings


def reference_weights(name, shapes):
    rng = np.random.default_rng(seed("files", name))
    return [(rng.standard_normal(s) * WEIGHT_SCALE).astype(np.float32) for s in shapes]


def inputs(name, shape):
    rng = np.random.default_rng(seed("files", name, "x"))
    return rng.standard_normal((BATCH, *shape)).astype(np.float32)


def merge_manifest(name, entry):
    path = OUT / f"{name}.manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {"files": {}}
    files = manifest.pop("files")
    files.update(entry.pop("files", {}))
    manifest.update(entry)
    manifest["files"] = dict(sorted(files.items()))
    write(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------
# Keras 3
# --------------------------------------------------------------------------------------


def keras3():
    import keras

    tag = "k" + keras.__version__.replace(".", "")
    L = keras.layers

    def build(name, shape, text, functional=False, dtype="float32"):
        keras.backend.clear_session()  # also resets the global dtype policy: set it after
        keras.config.set_dtype_policy(dtype)
        if functional:
            x = inp = keras.Input(shape)
            for layer in layer_list(L, text):
                x = layer(x)
            return keras.Model(inp, x, name=name)
        return keras.Sequential([keras.Input(shape)] + layer_list(L, text), name=name)

    def save_all(model, name, x, formats=("keras", "weights.h5", "h5")):
        files = {}
        for fmt in formats:
            path = OUT / f"{name}.{tag}.{fmt}"
            if fmt == "weights.h5":
                model.save_weights(path)
            else:
                model.save(path)
            files[path.name] = {"writer": f"keras {keras.__version__}", "format": fmt,
                                "y": f"{name}.{tag}.y.bin"}
        return files

    jobs = [(n, s, t, False) for n, (s, t) in MODELS.items()]
    jobs.append((f"{FUNCTIONAL}_functional", *MODELS[FUNCTIONAL], True))
    for name, shape, text, functional in jobs:
        model = build(name, shape, text, functional)
        weights = reference_weights(name.removesuffix("_functional"), [tuple(v.shape) for v in model.weights])
        for v, w in zip(model.weights, weights):
            v.assign(w)
        x = inputs(name.removesuffix("_functional"), shape)
        y = np.asarray(model.predict(x, verbose=0))
        write(OUT / f"{name}.x.bin", f32(x))
        write(OUT / f"{name}.w.bin", b"".join(f32(w) for w in weights))
        write(OUT / f"{name}.{tag}.y.bin", f32(y))
        files = save_all(model, name, x)
        merge_manifest(name, {
            "input_shape": list(shape), "output_shape": list(y.shape[1:]),
            "params": int(model.count_params()), "layers": text, "files": files,
        })
        print(f"{name}: {tag} {sorted(files)}")

    # Reduced and extended precision: weights stored as float16 / bfloat16 (opaque) / float64.
    if tag != "k3151":
        return
    shape, text = MODELS["mlp"]
    for suffix, dtype in DTYPES.items():
        name = f"mlp_{suffix}"
        x64 = dtype == "float64"  # JAX truncates float64 to float32 unless x64 is enabled
        if x64:
            import jax
            jax.config.update("jax_enable_x64", True)
        model = build(name, shape, text, dtype=dtype)
        keras.config.set_dtype_policy("float32")
        assert all(v.dtype == dtype for v in model.weights), [v.dtype for v in model.weights]
        for v, w in zip(model.weights, reference_weights("mlp", [tuple(v.shape) for v in model.weights])):
            v.assign(w.astype(v.dtype))
        stored = [np.asarray(v.numpy()).astype(np.float32) for v in model.weights]
        files = save_all(model, name, None, formats=("keras",))
        if x64:
            jax.config.update("jax_enable_x64", False)
        # Golden outputs: a float32 model holding exactly the converted stored values.
        ref = build(name, shape, text)
        for v, w in zip(ref.weights, stored):
            v.assign(w)
        x = inputs("mlp", shape)
        write(OUT / f"{name}.x.bin", f32(x))
        write(OUT / f"{name}.w.bin", b"".join(f32(w) for w in stored))
        write(OUT / f"{name}.{tag}.y.bin", f32(np.asarray(ref.predict(x, verbose=0))))
        merge_manifest(name, {
            "input_shape": list(shape), "params": int(ref.count_params()), "layers": text,
            "dtype": dtype, "files": files,
        })
        print(f"{name}: {tag} {sorted(files)}")

    # Files the loader must refuse, with a message: a layer static-keras does not have, and a
    # Functional model with two branches.
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Lambda(lambda x: x * 2.0)], name="unsupported")
    model.save(OUT / "unsupported_layer.keras")
    keras.backend.clear_session()
    inp = keras.Input((4,))
    out = L.Add()([L.Dense(3)(inp), L.Dense(3)(inp)])
    keras.Model(inp, out, name="branches").save(OUT / "branches.keras")
    print("unsupported_layer.keras, branches.keras")

    synthesize_keras2_h5()
    synthesize_keras213_weights()


def synthesize_keras213_weights():
    """Keras 2.13-2.15 wrote `.keras` weights under `_layer_checkpoint_dependencies` where Keras 3
    writes `layers` (KERAS_SEMANTICS.md §12.2, point 8): the Keras 3 file with that one rename."""
    import shutil
    import h5py

    src, dst = OUT / "mlp.k3151.weights.h5", OUT / "mlp.k213synth.weights.h5"
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f.move("layers", "_layer_checkpoint_dependencies")
    merge_manifest("mlp", {"files": {dst.name: {"writer": "keras 3.15.1, renamed as Keras 2.13",
                                                "format": "weights.h5", "y": "mlp.k3151.y.bin"}}})
    print(f"mlp: {dst.name}")


def synthesize_keras2_h5():
    """A legacy .h5 as h5py 2.x / Keras 2.0-era tf.keras wrote it: fixed-length byte-string
    attributes, `<layer>/kernel:0` weight names, `batch_input_shape` on the first layer, dtype
    strings, no module/registered_name keys (KERAS_SEMANTICS.md §12.3)."""
    import h5py

    shape, text = MODELS["mlp"]
    x = inputs("mlp", shape)
    weights = reference_weights("mlp", [(6, 8), (8,), (8, 4)])
    layers = [
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "dtype": "float32",
         "batch_input_shape": [None, 6], "units": 8, "activation": "relu", "use_bias": True,
         "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
         "bias_initializer": {"class_name": "Zeros", "config": {}},
         "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
         "kernel_constraint": None, "bias_constraint": None}},
        {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True, "dtype": "float32",
         "rate": 0.3, "noise_shape": None, "seed": None}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "dtype": "float32",
         "units": 4, "activation": "tanh", "use_bias": False}},
        {"class_name": "Activation", "config": {"name": "activation", "trainable": True,
         "dtype": "float32", "activation": "softmax"}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "mlp", "layers": layers}}
    path = OUT / "mlp.synth.h5"
    fixed = lambda items: np.array([s.encode() for s in items], dtype=f"S{max([1] + [len(s) for s in items])}")  # noqa: E731
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_(b"2.0.8")
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(config).encode())
        g = f.create_group("model_weights")
        names = ["dense", "dropout", "dense_1", "activation"]
        g.attrs["layer_names"] = fixed(names)
        g.attrs["backend"] = np.bytes_(b"tensorflow")
        g.attrs["keras_version"] = np.bytes_(b"2.0.8")
        owned = {"dense": [("kernel:0", weights[0]), ("bias:0", weights[1])],
                 "dense_1": [("kernel:0", weights[2])]}
        for layer in names:
            lg = g.create_group(layer)
            pairs = owned.get(layer, [])
            if pairs:
                lg.attrs["weight_names"] = fixed([f"{layer}/{n}" for n, _ in pairs])
            else:
                lg.attrs["weight_names"] = np.zeros((0,), dtype="f8")
            for n, w in pairs:
                lg.create_dataset(f"{layer}/{n}", data=w)
    merge_manifest("mlp", {"files": {path.name: {"writer": "h5py (Keras 2.0-era layout)", "format": "h5",
                                                 "y": "mlp.k3151.y.bin"}}})
    print(f"mlp: {path.name}")


# --------------------------------------------------------------------------------------
# tf.keras 2
# --------------------------------------------------------------------------------------


def tf_keras():
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tf_keras as keras

    tag = "tf2"
    L = keras.layers
    for name, (shape, text) in MODELS.items():
        keras.backend.clear_session()
        model = keras.Sequential([keras.Input(shape)] + layer_list(L, text), name=name)
        weights = reference_weights(name, [tuple(v.shape) for v in model.weights])
        model.set_weights(weights)
        x = inputs(name, shape)
        y = np.asarray(model.predict(x, verbose=0))
        write(OUT / f"{name}.{tag}.y.bin", f32(y))
        files = {}
        for suffix, kwargs in [(".h5", {}), (".keras", {})]:
            path = OUT / f"{name}.{tag}{suffix}"
            model.save(path, **kwargs)
            files[path.name] = {"writer": f"tf_keras {keras.__version__}", "format": suffix[1:],
                                "y": f"{name}.{tag}.y.bin"}
        path = OUT / f"{name}.tf2w.h5"
        model.save_weights(path)
        files[path.name] = {"writer": f"tf_keras {keras.__version__}", "format": "weights h5",
                            "y": f"{name}.{tag}.y.bin"}
        merge_manifest(name, {"files": files})
        print(f"{name}: {tag} {sorted(files)}")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["tf"]:
        tf_keras()
    else:
        keras3()
