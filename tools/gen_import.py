"""Keras's outputs for the saved graph models that `keras_model! { struct Net from "…"; }` imports
(`tests/keras_import_graphs.rs`), and the files its compile-fail tests refuse.

For each model, a seeded random input batch is run through `keras.saving.load_model(path,
compile=False)` of REAL Keras 3.15.1, on every file of that model Keras 3.15.1 can load; they
must all give the same output (they hold the same architecture and weights), which is written
once per model. Keras 3.15.1 cannot load some tf.keras 2.21 files of the graph fixtures (their
`.keras` archives name the class `Functional` from tf_keras, their `.h5` LSTM carries
`time_major`, their nested models use tf.keras 2's node offsets); those files hold the same
weights (`tests/fixtures/files/graph/*.manifest.json` locates every value in every file) and are
compared in the Rust tests with the output Keras computes from the others. The manifest written
here says which files Keras loaded and why it could not load the rest.

How to run (from the repository root):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_import.py

Outputs in ``tests/fixtures/import/``:

* ``<model>.x.i8``    the input batch as signed bytes: value = byte / 32 (exact in float32, so
                      the Rust tests feed Keras's inputs bit for bit; one byte per value keeps the
                      32×32×3 images small). Several inputs: each sample holds every input's
                      values, one input after the other, in ``model.inputs`` order.
* ``<model>.y.bin``   Keras's output, little-endian float32, several outputs concatenated per
                      sample in ``model.outputs`` order
* ``manifest.json``   per model: the batch, input and output shapes, and per file whether Keras
                      loaded it (and the error when it did not)
* ``errors/``         graph files the import must refuse: an unsupported layer inside a branch,
                      and an input with a variable dimension
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "fixtures" / "files"
OUT = ROOT / "tests" / "fixtures" / "import"

# model -> (directory, files with an architecture, batch size)
MODELS = {
    "resblock": ("graph", ["k3151.keras", "k3151.h5", "k333.keras", "k333.h5", "tf2.keras", "tf2.h5"], 3),
    "two_in": ("graph", ["k3151.keras", "k3151.h5", "k333.keras", "k333.h5", "tf2.keras", "tf2.h5"], 3),
    "nested_fn": ("graph", ["k3151.keras", "k3151.h5", "k333.keras", "k333.h5", "tf2.keras", "tf2.h5"], 3),
    "lstm_state": ("graph", ["k3151.keras", "k3151.h5", "k333.keras", "k333.h5", "tf2.keras", "tf2.h5"], 3),
    "pretrainedResnet": ("real", ["h5"], 2),
    "ad01": ("real", ["h5"], 3),
}


def seed(name):
    return zlib.crc32(f"import/{name}".encode()) & 0xFFFFFFFF


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def run(keras, model, name, batch):
    """Seeded inputs for every model input, and Keras's outputs, flattened per sample."""
    rng = np.random.default_rng(seed(name))
    codes = [rng.integers(-128, 128, size=(batch, *t.shape[1:]), dtype=np.int8) for t in model.inputs]
    xs = [c.astype(np.float32) / np.float32(32) for c in codes]
    inputs = keras.tree.pack_sequence_as(model._inputs_struct, xs)
    ys = keras.tree.flatten(model(inputs, training=False))
    ys = [np.asarray(y, dtype=np.float32).reshape(batch, -1) for y in ys]
    x_bytes = np.concatenate([c.reshape(batch, -1) for c in codes], axis=1).tobytes()
    y = np.concatenate(ys, axis=1)
    return x_bytes, y, [list(t.shape[1:]) for t in model.inputs], [list(t.shape[1:]) for t in model.outputs]


def outputs():
    import keras

    manifest = {}
    for name, (folder, suffixes, batch) in MODELS.items():
        entry = {"batch": batch, "files": {}}
        reference = None
        for suffix in suffixes:
            path = FILES / folder / f"{name}.{suffix}"
            keras.backend.clear_session()
            try:
                model = keras.saving.load_model(path, compile=False)
            except Exception as e:  # noqa: BLE001  (recorded: which files Keras cannot read)
                entry["files"][path.name] = {"loaded": False, "error": f"{type(e).__name__}: {str(e)[:160]}"}
                continue
            x_bytes, y, in_shapes, out_shapes = run(keras, model, name, batch)
            if reference is None:
                reference = (x_bytes, y)
                entry.update({"inputs": in_shapes, "outputs": out_shapes, "reference": path.name,
                              "max_abs_y": float(np.abs(y).max())})
            else:
                assert x_bytes == reference[0], path
                assert np.array_equal(y, reference[1]), (path, np.abs(y - reference[1]).max())
            entry["files"][path.name] = {"loaded": True}
        assert reference is not None, name
        write(OUT / f"{name}.x.i8", reference[0])
        write(OUT / f"{name}.y.bin", reference[1].astype("<f4").tobytes())
        manifest[name] = entry
        loaded = [f for f, e in entry["files"].items() if e["loaded"]]
        print(f"{name}: batch {batch}, Keras loaded {len(loaded)}/{len(suffixes)} files, max |y| {entry['max_abs_y']:.3g}")
    write(OUT / "manifest.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def errors():
    """Graph files the import refuses, each naming the layer at fault."""
    import keras

    L = keras.layers
    (OUT / "errors").mkdir(parents=True, exist_ok=True)
    keras.backend.clear_session()
    a = keras.Input((6,), name="a")
    x = L.Dense(4, name="d1")(a)
    u = L.UnitNormalization(name="unit")(x)
    s = L.Dense(4, name="skip")(a)
    out = L.Add(name="add")([u, s])
    keras.Model(a, out, name="unsupported_in_graph").save(OUT / "errors" / "unsupported_in_graph.keras")

    keras.backend.clear_session()
    seq = keras.Input((None, 3), name="seq")
    o = L.GRU(4, name="gru")(seq)
    p = L.GlobalAveragePooling1D(name="pool")(seq)
    out = L.Concatenate(name="cat")([o, p])
    keras.Model(seq, out, name="variable_steps").save(OUT / "errors" / "variable_steps.keras")
    print("errors/unsupported_in_graph.keras, errors/variable_steps.keras")


if __name__ == "__main__":
    outputs()
    errors()
