"""Functional models saved by REAL Keras, for the loader's graph tests (`file/tests/graph_files.rs`).

Every model is saved by every Keras at hand in every format it writes, with the same weights, and
a manifest records what Keras itself says about the model: its layer order, its inputs and
outputs, how each call is wired, each layer's variables, and which dataset of each file holds
which variable (found by value: every weight value is a distinct random number).

How to run (from the repository root), once per Keras:

    # Keras 3.15.1 (tools/requirements.txt); also writes the manifests and the real-file manifests
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_graph_files.py
    # Keras 3.3.3: `pip install --no-deps keras==3.3.3 --target .venv-keras33` with the same Python
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu PYTHONPATH=.venv-keras33 .venv/bin/python tools/gen_graph_files.py
    # tf.keras 2: a venv with `pip install tensorflow-cpu tf-keras`
    .venv-tf/bin/python tools/gen_graph_files.py tf

Outputs in ``tests/fixtures/files/graph/``:

* ``<model>.<tag>.keras``, ``<model>.<tag>.weights.h5``, ``<model>.<tag>.h5`` (legacy)
  (``tag``: ``k3151``, ``k333``, ``tf2``; tf.keras 2 also writes ``<model>.tf2w.h5``, its legacy
  ``save_weights``)
* ``<model>.w.bin``      each layer's variables (Keras's ``layer.weights``), layers in ``flat_order``,
                         little-endian float32
* ``<model>.manifest.json``:
  - ``layers``: ``model.layers`` (name, class) as each Keras lists it (nested models as one entry)
  - ``flat_order``: the same graph built without nesting (each nested model's layers called
    directly, in the same call order; same layer names) — Keras's ``model.layers`` of that flat
    twin, InputLayers included: the order the loader must give a flattened graph
  - ``inputs``: name, shape, dtype per ``model.inputs``; ``outputs``: ``[layer, call, tensor]`` per
    ``model.outputs`` of the flat twin
  - ``wiring``: per layer of the flat twin, per call, its input tensors ``[layer, call, tensor]``
  - ``weights``: per layer, its variables (name, shape)
  - ``files``: per file, its writer, format and ``paths``: per layer, the dataset of each variable
* ``errors/``: files the loader must refuse: a raw-op model (Keras 3) and a ``TFOpLambda`` model
  (tf.keras 2)

``tests/fixtures/files/real/*.manifest.json`` describe the two real tf.keras 2.4 files there
(copied from the MLPerf Tiny repository, see the README beside them) as Keras 3.15.1 loads them.
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
OUT = ROOT / "tests" / "fixtures" / "files" / "graph"
REAL = ROOT / "tests" / "fixtures" / "files" / "real"


def seed(*parts):
    return zlib.crc32("/".join(parts).encode()) & 0xFFFFFFFF


def write(path, data):
    if isinstance(data, str):
        data = data.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


# --------------------------------------------------------------------------------------
# The models. Each builder takes the Keras module and `flat`: with flat=True it builds the same
# graph without nested models (the flat twin), with the same layer names and call order.
# --------------------------------------------------------------------------------------


def resblock(keras, flat=False):
    """A residual block (KERAS_GRAPHS §1.4): the shortcut conv is created first but listed after
    the residual branch's first conv; `Model(inp, out)` writes flat-triple endpoints."""
    L = keras.layers
    img = keras.Input((6, 6, 3), name="img")
    short = L.Conv2D(4, 1, name="short")
    c1 = L.Conv2D(4, 3, padding="same", activation="relu", name="c1")(img)
    c2 = L.Conv2D(4, 3, padding="same", name="c2")(c1)
    add = L.Add(name="add")([short(img), c2])
    out = L.Activation("relu", name="act")(add)
    return keras.Model(img, out, name="resblock")


def two_in(keras, flat=False):
    """Two inputs, a shared layer, a nested Sequential, two outputs (KERAS_GRAPHS §1.5)."""
    L = keras.layers
    a = keras.Input((5,), name="a")
    b = keras.Input((5,), name="b")
    shared = L.Dense(3, name="shared")
    sa, sb = shared(a), shared(b)
    o1 = L.Dense(1, name="o1")(L.Concatenate(name="cat")([sa, sb]))
    inner = [L.Dense(4, activation="relu", name="inner1"), L.BatchNormalization(name="inner_bn"),
             L.Dense(2, name="inner2")]
    if flat:
        o2 = sb
        for layer in inner:
            o2 = layer(o2)
    else:
        o2 = keras.Sequential(inner, name="sub")(sb)
    return keras.Model([a, b], [o1, o2], name="two_in")


def nested_fn(keras, flat=False):
    """A nested Functional (holding a nested Sequential) called twice; dict inputs and outputs
    (flattened by sorted key: `sum` before `z`)."""
    L = keras.layers
    pre = L.Dense(4, name="pre")
    sd = L.Dense(3, activation="relu", name="sd")
    sbn = L.BatchNormalization(name="sbn")
    post = L.Dense(4, activation="tanh", name="post")
    if flat:
        def inner(t):
            return post(sbn(sd(pre(t))))
    else:
        inner_in = keras.Input((4,), name="inner_in")
        seq = keras.Sequential([sd, sbn], name="seq")
        inner = keras.Model(inner_in, post(seq(pre(inner_in))), name="inner")
    x = keras.Input((4,), name="x")
    y = inner(x)
    z = inner(y)
    s = L.Add(name="sum")([y, z])
    return keras.Model({"x": x}, {"z": z, "sum": s}, name="nested_fn")


def lstm_state(keras, flat=False):
    """`LSTM(return_state=True)`: its three outputs (tensor_index 0, 1, 2) used downstream."""
    L = keras.layers
    seq = keras.Input((5, 3), name="seq")
    o, h, c = L.LSTM(4, return_state=True, name="lstm")(seq)
    d = L.Dense(2, name="head")(L.Concatenate(name="hc")([h, c]))
    return keras.Model(seq, [d, o], name="lstm_state")


MODELS = {"resblock": resblock, "two_in": two_in, "nested_fn": nested_fn, "lstm_state": lstm_state}


def leaf_layers(model):
    """Every layer that is not a model or an input, depth first (each once)."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            out += [l for l in leaf_layers(layer) if l not in out]
        elif type(layer).__name__ != "InputLayer":
            out.append(layer)
    return out


def reference_values(model_name, layer):
    """Deterministic weights for one layer, independent of Keras and of layer order."""
    values = []
    for i, v in enumerate(layer.weights):
        rng = np.random.default_rng(seed("graph", model_name, layer.name, str(i)))
        w = rng.standard_normal(tuple(v.shape)) * 0.5
        if "moving_variance" in v.name:
            w = np.abs(w) + 0.5
        values.append(w.astype(np.float32))
    return values


def set_weights(model_name, model):
    for layer in leaf_layers(model):
        layer.set_weights(reference_values(model_name, layer))


def datasets(path):
    """Every dataset of an HDF5 file (or of a .keras archive's model.weights.h5): path -> array."""
    import h5py
    import io
    import zipfile

    if zipfile.is_zipfile(path):
        f = h5py.File(io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")), "r")
    else:
        f = h5py.File(path, "r")
    out = {}
    f.visititems(lambda p, o: out.__setitem__(p, np.asarray(o)) if isinstance(o, h5py.Dataset) else None)
    return out


def locate(model_name, model, path):
    """For each layer, the dataset holding each of its variables, found by value."""
    found = datasets(path)
    by_bytes = {}
    for p, a in found.items():
        if a.dtype == np.float32 and a.size > 0:
            by_bytes.setdefault(a.tobytes(), []).append(p)
    paths, used = {}, set()
    for layer in leaf_layers(model):
        layer_paths = []
        for w in reference_values(model_name, layer):
            hits = by_bytes.get(w.tobytes(), [])
            assert len(hits) == 1, (path.name, layer.name, hits)
            layer_paths.append(hits[0])
            used.add(hits[0])
        paths[layer.name] = layer_paths
    left = [p for p, a in found.items() if p not in used and not p.startswith("optimizer")]
    assert not left, (path.name, left)
    return paths


def merge_manifest(name, entry):
    path = OUT / f"{name}.manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    for key in ("files", "layers"):
        merged = manifest.get(key, {})
        merged.update(entry.pop(key, {}))
        entry[key] = dict(sorted(merged.items()))
    manifest.update(entry)
    write(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def save_all(keras, tag, name, model, formats):
    files = {}
    for suffix, fmt in formats:
        path = OUT / f"{name}.{suffix}"
        if fmt == "weights.h5" or fmt == "legacy weights":
            model.save_weights(path)
        else:
            model.save(path)
        files[path.name] = {"writer": f"{tag_writer(keras)}", "format": fmt,
                            "paths": locate(name, model, path)}
    return files


def tag_writer(keras):
    return f"{keras.__name__.split('.')[0].replace('_', '.')} {keras.__version__}"


# --------------------------------------------------------------------------------------
# Keras 3
# --------------------------------------------------------------------------------------


def history(t):
    op, node, tensor = t._keras_history
    return [op.name, int(node), int(tensor)]


def twin_facts(keras, name):
    """What Keras says about the flat twin: order, wiring, outputs, variables."""
    keras.backend.clear_session()
    twin = MODELS[name](keras, flat=True)
    assert not any(hasattr(l, "layers") for l in twin.layers), name
    order = [[l.name, type(l).__name__] for l in twin.layers]
    nodes = twin._nodes
    from keras.src.ops.node import Node  # noqa: F401  (documents where `_inbound_nodes` come from)
    from keras.src.models.functional import make_node_key

    wiring = {}
    for layer in twin.layers:
        calls = []
        for i, node in enumerate(layer._inbound_nodes):
            if make_node_key(layer, i) in nodes and node.input_tensors:
                calls.append([history(t) for t in node.input_tensors])
        if type(layer).__name__ != "InputLayer":
            wiring[layer.name] = calls
    return {
        "flat_order": order,
        "wiring": wiring,
        "outputs": [history(t) for t in twin.outputs],
        "inputs": [[t._keras_history[0].name, list(t.shape[1:]), str(t.dtype)] for t in twin.inputs],
        "weights": {l.name: [[v.path if hasattr(v, "path") else v.name, list(v.shape)] for v in l.weights]
                    for l in leaf_layers(twin)},
    }


def keras3():
    import keras

    tag = "k" + keras.__version__.replace(".", "")
    for name, build in MODELS.items():
        keras.backend.clear_session()
        model = build(keras)
        set_weights(name, model)
        files = save_all(keras, tag, name, model, [(f"{tag}.keras", "keras"),
                                                  (f"{tag}.weights.h5", "weights.h5"),
                                                  (f"{tag}.h5", "h5")])
        entry = {"files": files, "layers": {tag: [[l.name, type(l).__name__] for l in model.layers]}}
        if tag == "k3151":
            entry.update(twin_facts(keras, name))
            write(OUT / f"{name}.w.bin", b"".join(
                np.ascontiguousarray(w, dtype="<f4").tobytes()
                for l in leaf_layers(MODELS[name](keras, flat=True))
                for w in reference_values(name, l)))
        merge_manifest(name, entry)
        print(f"{name}: {tag} {sorted(files)}")

    if tag != "k3151":
        return
    # A raw operation on tensors (KERAS_GRAPHS F3): not a layer, refused by the loader.
    keras.backend.clear_session()
    L = keras.layers
    a = keras.Input((4,), name="a")
    s = L.Dense(4, name="d")(a) + a
    keras.Model(a, L.Dense(2, name="o")(keras.ops.relu(s)), name="raw_op").save(OUT / "errors" / "raw_op.k3151.keras")
    keras.Model(a, L.Dense(2, name="o")(keras.ops.relu(s)), name="raw_op").save(OUT / "errors" / "raw_op.k3151.h5")
    print("errors/raw_op.k3151.keras, errors/raw_op.k3151.h5")
    real_manifests(keras)


def real_manifests(keras):
    """The two real tf.keras 2.4 files as Keras 3.15.1 loads them: `model.layers` order, every
    layer's variables with their shape, sum and first value (to check values without copying
    them), and the wiring of every call."""
    for path in sorted(REAL.glob("*.h5")):
        model = keras.saving.load_model(path, compile=False)
        layers = [[l.name, type(l).__name__] for l in model.layers]
        wiring = {}
        for layer in model.layers:
            calls = [[history(t) for t in node.input_tensors] for node in layer._inbound_nodes
                     if node.input_tensors]
            if type(layer).__name__ != "InputLayer":
                wiring[layer.name] = calls
        weights = {l.name: [[v.path, list(v.shape), float(np.asarray(v.numpy(), dtype=np.float64).sum()),
                             float(np.asarray(v.numpy()).reshape(-1)[0])] for v in l.weights]
                   for l in model.layers if l.weights}
        manifest = {"writer": "keras 2.4.0 (tf.keras)", "reader": f"keras {keras.__version__}",
                    "params": int(model.count_params()), "layers": layers, "wiring": wiring,
                    "inputs": [[t._keras_history[0].name, list(t.shape[1:]), str(t.dtype)] for t in model.inputs],
                    "outputs": [history(t) for t in model.outputs], "weights": weights}
        write(REAL / f"{path.stem}.manifest.json", json.dumps(manifest, indent=1) + "\n")
        print(f"real/{path.stem}.manifest.json: {len(layers)} layers, {manifest['params']} params")


# --------------------------------------------------------------------------------------
# tf.keras 2
# --------------------------------------------------------------------------------------


def tf_keras():
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tf_keras as keras

    tag = "tf2"
    for name, build in MODELS.items():
        keras.backend.clear_session()
        model = build(keras)
        set_weights(name, model)
        files = save_all(keras, tag, name, model, [(f"{tag}.keras", "keras"), (f"{tag}.h5", "h5"),
                                                  ("tf2w.h5", "legacy weights")])
        merge_manifest(name, {"files": files,
                              "layers": {tag: [[l.name, type(l).__name__] for l in model.layers]}})
        print(f"{name}: {tag} {sorted(files)}")
    # A raw TensorFlow operation on a Keras tensor becomes a TFOpLambda layer.
    keras.backend.clear_session()
    L = keras.layers
    a = keras.Input((4,), name="a")
    r = tf.nn.relu(L.Dense(4, name="d")(a) + a)
    keras.Model(a, L.Dense(2, name="o")(r), name="tf_op").save(OUT / "errors" / "tf_op.tf2.h5")
    print("errors/tf_op.tf2.h5")


if __name__ == "__main__":
    (OUT / "errors").mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["tf"]:
        tf_keras()
    else:
        keras3()
