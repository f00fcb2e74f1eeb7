"""Parity fixtures for functional models (graphs) from REAL Keras.

How to run (from the repository root, with the venv of tools/requirements.txt):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_graphs.py [suite ...]

Each case is one text that is both Python (run here with Keras's functional API) and the
static-keras functional DSL (pasted into ``keras_model! { struct Case { ... } }`` by the
generated test): statements separated by ``;``, ending with ``model = Model(inputs=…, outputs=…)``.
That the same text builds both models is the point: the DSL ports Keras code line by line.

Outputs, per suite (``graph`` …):

* ``tests/fixtures/<suite>/<case>.{w,x,y}.bin``: weights in ``model.weights`` order, the inputs
  (every input of a sample flattened and concatenated, float32 — token ids as floats), Keras's
  outputs (every output of a sample flattened and concatenated);
* ``tests/fixtures/<suite>/manifest.json``; ``tests/generated/<suite>.rs``.

Weights are random and non-trivial (BatchNormalization's moving variance positive). Every case
seeds its own RNG from its name, so the files are byte-identical on reruns.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json
import re
import sys
from pathlib import Path

import numpy as np
import keras

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_fixtures import (  # noqa: E402
    FIXTURES,
    GENERATED,
    KERAS_VERSION,
    ROOT,
    _f32_bytes,
    _manifest_json,
    _seed,
    _write_if_changed,
)

WEIGHT_SCALE = 0.5


def summary_text(model):
    """`model.summary()` as Keras prints it on a wide terminal (108 columns for a model with
    branches, 88 for a chain), without the first line (which names the model)."""
    chunks = []
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"
    try:
        model.summary(print_fn=lambda s, **_: chunks.append(s))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    text = "".join(chunks)
    assert "\x1b" not in text, "ANSI escape in captured summary"
    return text.split("\n", 1)[1]


def namespace():
    """What a case's text may name: Keras's layers, `Input`, `Model`, the merge functions."""
    ns = {"__builtins__": {}, "Input": keras.Input, "Model": keras.Model,
          "True": True, "False": False, "None": None}
    for name in dir(keras.layers):
        if name[0].isupper() or name in ("add", "subtract", "multiply", "average", "maximum",
                                         "minimum", "concatenate", "dot"):
            ns[name] = getattr(keras.layers, name)
    ns["layers"] = keras.layers
    ns["keras"] = keras
    return ns


class Case:
    def __init__(self, name, text, batch=6, ids=None, summary=True):
        self.name = name
        # False: the summary is saved but not compared (Keras lists the mask operations of a
        # functional model, NotEqual, Any, … as layers; static-keras has no such layers).
        self.summary = summary
        self.text = " ".join(text.split())
        self.batch = batch
        # Names of inputs holding token ids, with their vocabulary size.
        self.ids = ids or {}


def randomise(model, rng):
    for v in model.weights:
        shape = tuple(v.shape)
        w = rng.standard_normal(shape) * WEIGHT_SCALE
        if v.path.endswith("moving_variance"):
            w = rng.uniform(0.5, 2.0, shape)
        v.assign(w.astype(np.float32))


def build(case):
    keras.backend.clear_session()
    ns = namespace()
    exec(case.text, ns)  # noqa: S102 -- trusted, local strings
    return ns["model"]


def run_case(suite, case, out_dir):
    if not re.match(r"^[a-z][a-z0-9_]*$", case.name):
        raise ValueError(case.name)
    rng = np.random.default_rng(_seed(suite, case.name))
    model = build(case)
    randomise(model, rng)
    xs = []
    for inp in model.inputs:
        shape = (case.batch, *inp.shape[1:])
        vocab = case.ids.get(inp.name)
        if vocab:
            x = rng.integers(0, vocab, size=shape).astype(np.int32)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        xs.append(x)
    y = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    ys = y if isinstance(y, (list, tuple)) else [y]
    ys = [np.asarray(o, dtype=np.float32) for o in ys]
    for o in ys:
        if not np.all(np.isfinite(o)):
            raise ValueError(f"{case.name}: non-finite output")
    x_flat = np.concatenate([x.reshape(case.batch, -1).astype(np.float32) for x in xs], axis=1)
    y_flat = np.concatenate([o.reshape(case.batch, -1) for o in ys], axis=1)
    weights = b"".join(_f32_bytes(np.asarray(v.numpy())) for v in model.weights)
    params = int(model.count_params())
    assert len(weights) == 4 * params
    _write_if_changed(out_dir / f"{case.name}.w.bin", weights)
    _write_if_changed(out_dir / f"{case.name}.x.bin", _f32_bytes(x_flat))
    _write_if_changed(out_dir / f"{case.name}.y.bin", _f32_bytes(y_flat))
    _write_if_changed(out_dir / f"{case.name}.summary.txt", summary_text(model))
    return {
        "name": case.name,
        "text": case.text,
        "input_shapes": [list(x.shape[1:]) for x in xs],
        "output_shapes": [list(o.shape[1:]) for o in ys],
        "batch": case.batch,
        "params": params,
        "layers": [layer.name for layer in model.layers],
        "keras_version": KERAS_VERSION,
        "weights": [{"path": v.path, "shape": [int(d) for d in v.shape]} for v in model.weights],
        **({} if case.summary else {"summary": False}),
    }


def render_rust(suite, entries):
    lines = [
        f"// @generated by tools/gen_graphs.py from real Keras {KERAS_VERSION}; do not edit.",
        "parity_suite! {",
        f'    suite: "{suite}",',
        f'    keras: "{KERAS_VERSION}",',
        "    graphs: [",
    ]
    for e in entries:
        shapes = ", ".join("[" + ", ".join(map(str, s)) + "]" for s in e["output_shapes"])
        lines.append(f"        {e['name']} {{")
        lines.append(f"            graph: {{ {e['text']} }},")
        lines.append(f"            output_shapes: [{shapes}],")
        lines.append(f"            params: {e['params']},")
        if not e.get("summary", True):
            lines.append("            summary: false,")
        lines.append("        },")
    lines += ["    ],", "}", ""]
    return "\n".join(lines)


def gen_suite(suite, cases):
    out_dir = FIXTURES / suite
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "duplicate case names"
    entries = [run_case(suite, c, out_dir) for c in cases]
    keep = {f"{n}.{k}.bin" for n in names for k in ("w", "x", "y")}
    keep |= {f"{n}.summary.txt" for n in names}
    for p in [*out_dir.glob("*.bin"), *out_dir.glob("*.summary.txt")]:
        if p.name not in keep:
            p.unlink()
    manifest = {
        "suite": suite,
        "keras_version": KERAS_VERSION,
        "backend": keras.backend.backend(),
        "dtype": "float32 little-endian, row-major (token ids as float32)",
        "files": "<name>.w.bin (model.weights concatenated), <name>.x.bin (per sample: every "
                 "input flattened, concatenated), <name>.y.bin (per sample: every output "
                 "flattened, concatenated)",
        "cases": entries,
    }
    _write_if_changed(out_dir / "manifest.json", _manifest_json(manifest))
    _write_if_changed(GENERATED / f"{suite}.rs", render_rust(suite, entries))
    print(f"suite {suite}: {len(entries)} cases -> {out_dir.relative_to(ROOT)}")


def graph_cases():
    C = Case
    return [
        # The residual block of KERAS_GRAPHS.md §1.4 (seed layers and Add): the shortcut
        # convolution is created first but ordered after the residual branch's, by depth.
        C("residual_block", """
            img = Input(shape=(8, 8, 4), name="img");
            x = Conv2D(6, 3, padding="same", name="c1")(img);
            s = Conv2D(6, 1, name="zz_short")(img);
            x = Activation("relu")(x);
            y = Add()([s, x]);
            y = Activation("relu")(y);
            model = Model(inputs=img, outputs=y)"""),
        C("residual_swapped", """
            img = Input(shape=(6, 6, 3));
            s = Conv2D(5, 1)(img);
            x = Conv2D(5, 3, padding="same", activation="relu")(img);
            x = Conv2D(5, 3, padding="same")(x);
            y = add([x, s]);
            y = Flatten()(MaxPooling2D(2)(Activation("relu")(y)));
            model = Model(img, Dense(3, activation="softmax")(y))"""),
        C("merge_elementwise", """
            a = Input(shape=(7,));
            b = Input(shape=(7,));
            c = Input(shape=(7,));
            s = Add()([a, b, c]);
            d = Subtract()([a, b]);
            m = Multiply()([a, b, c]);
            v = Average()([a, b, c]);
            hi = Maximum()([a, b, c]);
            lo = Minimum()([b, c]);
            model = Model(inputs=[a, b, c], outputs=[s, d, m, v, hi, lo])"""),
        C("merge_functions", """
            a = Input(shape=(3, 4));
            b = Input(shape=(3, 4));
            x = add([Dense(4)(a), b]);
            y = subtract([x, a]);
            z = multiply([y, b]);
            w = average([z, a]);
            u = maximum([w, b]);
            t = minimum([u, a]);
            model = Model([a, b], concatenate([t, x], axis=1))"""),
        C("concatenate_axes", """
            a = Input(shape=(2, 3, 4));
            b = Input(shape=(2, 3, 5));
            c = Input(shape=(2, 2, 4));
            d = Input(shape=(1, 3, 4));
            last = Concatenate()([a, b]);
            mid = Concatenate(axis=2)([a, c]);
            first = Concatenate(axis=1)([a, d, a]);
            neg = Concatenate(axis=-3)([d, a]);
            model = Model([a, b, c, d], [last, mid, first, neg])"""),
        C("dot_axes", """
            a = Input(shape=(5,));
            b = Input(shape=(5,));
            p = Input(shape=(3, 4));
            q = Input(shape=(6, 4));
            r = Input(shape=(3, 6));
            v = Dot(axes=1)([a, b]);
            cos = Dot(axes=1, normalize=True)([a, b]);
            pq = Dot(axes=(2, 2))([p, q]);
            pr = Dot(axes=1)([p, r]);
            prn = Dot(axes=(1, 1), normalize=True)([p, r]);
            pa = Dot(axes=(-1, 1))([Dense(5)(p), a]);
            model = Model([a, b, p, q, r], [v, cos, pq, pr, prn, pa])"""),
        # A shared layer called twice (one weight group), two inputs, two outputs.
        C("shared_two_in_two_out", """
            a = Input(shape=(5,));
            b = Input(shape=(5,));
            shared = Dense(3, activation="tanh", name="shared");
            ya = shared(a);
            yb = shared(b);
            cat = Concatenate(name="cat")([ya, yb]);
            o1 = Dense(1, name="o1")(cat);
            o2 = Dense(2, activation="softmax")(yb);
            model = Model(inputs=[a, b], outputs=[o1, o2])"""),
        # KERAS_GRAPHS §1.6: an input is not necessarily first in model.layers.
        C("input_not_first", """
            a = Input(shape=(4,));
            b = Input(shape=(2,));
            x = Dense(3)(Dense(3)(Dense(2)(a)));
            y = Add()([Dense(2)(x), b]);
            model = Model([a, b], y)"""),
        # Outputs in the order given, whatever the creation order.
        C("outputs_reordered", """
            a = Input(shape=(6,));
            d1 = Dense(4, name="d1")(a);
            d2 = Dense(3, name="d2")(a);
            model = Model(a, [d2, d1])"""),
        # return_state used downstream; the states feed a merge and a Dense.
        C("lstm_states_downstream", """
            x = Input(shape=(5, 3));
            seq, h, c = LSTM(4, return_sequences=True, return_state=True)(x);
            g = GRU(3)(seq);
            hc = Concatenate()([h, c]);
            y = Dense(2)(Concatenate()([hc, g]));
            model = Model(x, y)"""),
        C("gru_state_is_output", """
            x = Input(shape=(4, 2));
            out, state = GRU(3, return_state=True)(x);
            model = Model(x, [out, Dense(2)(state)])"""),
        # Token ids beside floats: an Embedding branch and a Dense branch.
        C("ids_and_floats", """
            ids = Input(shape=(6,), dtype="int32", name="ids");
            feats = Input(shape=(3,), name="feats");
            e = LSTM(4)(Embedding(10, 5)(ids));
            f = Dense(4, activation="relu")(feats);
            model = Model([ids, feats], Dense(2)(Concatenate()([e, f])))""", ids={"ids": 10}),
        # Nested calls in one expression, Keras's spelling of the layer path.
        C("nested_calls", """
            x = Input(shape=(10, 3));
            y = layers.Dense(2)(layers.Flatten()(layers.Conv1D(4, 3, activation="relu")(x)));
            model = Model(x, y)"""),
        # A value read by several layers, the branches merging later (a diamond).
        C("diamond", """
            x = Input(shape=(8,));
            h = Dense(6, activation="relu")(x);
            a = Dense(5)(h);
            b = Dense(5, activation="sigmoid")(h);
            c = Dense(5)(x);
            model = Model(x, Average()([a, b, c]))"""),
        # The same layer applied to the outputs of itself (a chain through one weight set).
        C("shared_chain", """
            x = Input(shape=(4,));
            d = Dense(4, activation="tanh");
            y = d(d(d(x)));
            model = Model(x, y)"""),
    ]


import gen_wrappers  # noqa: E402  (tools/gen_wrappers.py)

SUITES = {"graph": graph_cases, "wrappers_graph": lambda: gen_wrappers.graph_cases(Case)}


def main(argv):
    wanted = argv or list(SUITES)
    for name in wanted:
        gen_suite(name, SUITES[name]())


if __name__ == "__main__":
    main(sys.argv[1:])
