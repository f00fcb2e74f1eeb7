"""Keras's initial-weight statistics, for the `init_stats` test of `Net::init(seed)`.

For each model below (the same declarations are in `tests/init_stats.rs`), builds it in Keras
with `keras.utils.set_random_seed(seed)` for SEEDS seeds and records, per layer and variable,
the mean over the seeds and the standard deviation across seeds of four statistics of the
initial values: mean, variance, max|w| and, for 2-D-flattened orthogonal variables
(`recurrent_kernel`), the orthogonality error ‖W Wᵀ − I‖∞ (rows ≤ cols).

Writes tests/fixtures/init/stats.txt, one line per (model, layer, variable, statistic):
`model layer variable stat keras_mean keras_std`.

Run: KERAS_BACKEND=jax JAX_PLATFORMS=cpu python tools/gen_init_stats.py
"""

import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from keras import layers  # noqa: E402

SEEDS = 16
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "init", "stats.txt")


def recurrent():
    return keras.Sequential(
        [
            keras.Input((5, 8)),
            layers.LSTM(16, return_sequences=True, name="lstm"),
            layers.GRU(12, return_sequences=True, name="gru"),
            layers.SimpleRNN(10, name="rnn"),
            layers.Dense(32, name="dense"),
        ]
    )


def spatial():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(16, 3, name="conv"),
            layers.BatchNormalization(name="bn"),
            layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw"),
            layers.SeparableConv2D(8, 3, name="sep"),
            layers.Conv2DTranspose(6, 3, name="convt"),
            layers.PReLU(name="prelu"),
            layers.LayerNormalization(name="ln"),
            layers.Flatten(name="flat"),
            layers.Dense(5, name="out"),
        ]
    )


def tokens():
    return keras.Sequential(
        [
            keras.Input((7,)),
            layers.Embedding(50, 8, name="emb"),
            layers.Conv1D(6, 3, name="conv1d"),
        ]
    )


def named():
    return keras.Sequential(
        [
            keras.Input((24,)),
            layers.Dense(40, kernel_initializer="he_normal", bias_initializer="ones", name="he_n"),
            layers.Dense(
                30,
                kernel_initializer="lecun_uniform",
                bias_initializer="random_uniform",
                name="lecun_u",
            ),
            layers.Dense(
                20,
                kernel_initializer="truncated_normal",
                bias_initializer="random_normal",
                name="trunc",
            ),
            layers.Dense(16, kernel_initializer="glorot_normal", name="glorot_n"),
            layers.Dense(12, kernel_initializer="he_uniform", name="he_u"),
            layers.Dense(10, kernel_initializer="lecun_normal", name="lecun_n"),
            layers.Dense(8, kernel_initializer="random_uniform", name="rand_u"),
            layers.Dense(6, kernel_initializer="random_normal", name="rand_n"),
        ]
    )


def wrappers():
    """Initializers declared on wrapped layers, and LSTM's `unit_forget_bias=False`."""
    return keras.Sequential(
        [
            keras.Input((5, 8)),
            layers.Bidirectional(
                layers.LSTM(16, return_sequences=True, kernel_initializer="he_normal",
                            unit_forget_bias=False, bias_initializer="random_normal"),
                name="bi",
            ),
            layers.Bidirectional(
                layers.LSTM(8, return_sequences=True),
                backward_layer=layers.LSTM(8, return_sequences=True, go_backwards=True,
                                           kernel_initializer="lecun_uniform",
                                           bias_initializer="random_normal"),
                name="bi_given",
            ),
            layers.TimeDistributed(
                layers.Dense(12, kernel_initializer="he_uniform", bias_initializer="ones"),
                name="td",
            ),
            layers.LSTM(6, unit_forget_bias=False, name="lstm"),
        ]
    )


def stats(name, w):
    w = np.asarray(w, dtype=np.float64)
    out = {
        "mean": w.mean(),
        "var": w.var(),
        "maxabs": np.abs(w).max(),
    }
    if name == "recurrent_kernel":
        m = w.reshape(-1, w.shape[-1])
        if m.shape[0] > m.shape[1]:
            m = m.T
        out["orth"] = np.abs(m @ m.T - np.eye(m.shape[0])).max()
    return out


def main():
    lines = []
    for model_name, build in [("recurrent", recurrent), ("spatial", spatial), ("tokens", tokens), ("named", named),
                              ("wrappers", wrappers)]:
        per = {}
        for seed in range(SEEDS):
            keras.utils.set_random_seed(seed)
            model = build()
            for layer in model.layers:
                seen = {}
                for v in layer.weights:
                    # A Bidirectional has each name twice (forward, then backward layer): the
                    # second is `name#1`.
                    k = seen.get(v.name, 0)
                    seen[v.name] = k + 1
                    key = v.name if k == 0 else f"{v.name}#{k}"
                    for stat, value in stats(v.name, v.numpy()).items():
                        per.setdefault((layer.name, key, stat), []).append(value)
        for (layer, var, stat), values in per.items():
            values = np.array(values)
            lines.append(
                f"{model_name} {layer} {var} {stat} {values.mean():.9e} {values.std(ddof=1):.9e}"
            )
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(f"# keras {keras.__version__}, {SEEDS} seeds: model layer variable stat mean std\n")
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
