"""Checks that real Keras loads every file static-keras wrote and predicts what we predicted.

`cargo test --test save` writes, per case, into target/saved/:
  <case>.weights.h5   (net.save_weights)
  <case>.keras        (net.save)
  <case>.json         the model's text (both our DSL and Keras Python), its inputs, our outputs

For each case this script
  1. builds the model in Keras from the text (independently of our config.json) and loads the
     .weights.h5 into it with model.load_weights;
  2. loads the .keras archive with keras.saving.load_model (architecture from our config.json);
  3. checks that both have the same layer classes and frozen layers, that their weights are
     bit-equal, and that both predict our recorded outputs: |keras - ours| / max(1, |ours|) <= 1e-6.

Run: KERAS_BACKEND=jax JAX_PLATFORMS=cpu python tools/check_saved.py [target/saved]
Exits non-zero (and says which case and why) on any failure, or if there is no case at all.
"""

import json
import os
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import Input, Model, Sequential  # noqa: E402,F401
from keras.layers import *  # noqa: E402,F401,F403

TOLERANCE = 1e-6


def build(python):
    """The Keras model the case's text declares (its last statement binds `model`)."""
    scope = dict(globals())
    keras.utils.clear_session()
    exec(python, scope)  # noqa: S102 - the text is our own test's model declaration
    return scope["model"]


def inputs_of(record):
    xs = []
    for tensor, dtype in zip(record["inputs"], record["input_dtypes"]):
        shape = [len(tensor["values"])] + list(tensor["shape"])
        xs.append(np.array(tensor["values"], dtype=dtype).reshape(shape))
    return xs[0] if len(xs) == 1 else xs


def outputs_of(prediction, record):
    got = prediction if isinstance(prediction, (list, tuple)) else [prediction]
    if len(got) != len(record["outputs"]):
        raise AssertionError(f"Keras returns {len(got)} outputs, we recorded {len(record['outputs'])}")
    worst = 0.0
    for k, (g, tensor) in enumerate(zip(got, record["outputs"])):
        want = np.array(tensor["values"], dtype=np.float64)
        g = np.asarray(g, dtype=np.float64).reshape(want.shape)
        err = float(np.max(np.abs(g - want) / np.maximum(1.0, np.abs(want))))
        if not err <= TOLERANCE:
            raise AssertionError(f"output {k}: worst error {err:.3e} > {TOLERANCE:g}")
        worst = max(worst, err)
    return worst


def check(directory, record):
    name = record["name"]
    weights_file, keras_file = (os.path.join(directory, f) for f in record["files"])
    x = inputs_of(record)

    declared = build(record["python"])
    declared.load_weights(weights_file)
    e1 = outputs_of(declared.predict(x, verbose=0), record)

    loaded = keras.saving.load_model(keras_file)
    e2 = outputs_of(loaded.predict(x, verbose=0), record)

    classes = [type(l).__name__ for l in declared.layers]
    loaded_classes = [type(l).__name__ for l in loaded.layers]
    if classes != loaded_classes:
        raise AssertionError(f"the .keras model's layers are {loaded_classes}, the declared {classes}")
    frozen = [l.name for l in declared.layers if not l.trainable]
    loaded_frozen = [l.name for l in loaded.layers if not l.trainable]
    if frozen != loaded_frozen:
        raise AssertionError(f"the .keras model freezes {loaded_frozen}, the declared {frozen}")
    for a, b in zip(declared.weights, loaded.weights, strict=True):
        if a.shape != b.shape or not np.array_equal(np.asarray(a), np.asarray(b)):
            raise AssertionError(f"weight {a.path} differs between the two files")
    kind = type(loaded).__name__
    print(f"ok   {name:28s} {kind:10s} {len(declared.weights):3d} weights  "
          f"worst error .weights.h5 {e1:.1e}  .keras {e2:.1e}")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "target/saved"
    records = sorted(f for f in os.listdir(directory) if f.endswith(".json")) if os.path.isdir(directory) else []
    if not records:
        print(f"no saved models in {directory}: run `cargo test --test save` first")
        return 1
    failed = 0
    for f in records:
        with open(os.path.join(directory, f)) as fh:
            record = json.load(fh)
        try:
            check(directory, record)
        except Exception as e:  # report every case, then fail
            failed += 1
            print(f"FAIL {record['name']}: {type(e).__name__}: {e}")
            traceback.print_exc(limit=3)
    passed = len(records) - failed
    print(f"check_saved: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
