"""Trains the TensorFlow Lite Micro "hello world" sine regressor in real Keras and saves what the
firmware example and its tests need.

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_sine.py

Model (as in the TFLM example): Dense(16, relu) -> Dense(16, relu) -> Dense(1) on one input,
fit to y = sin(x) + noise for x in [0, 2*pi]. Writes, in examples/data/:

* sine.weights.bin   raw little-endian f32, model.weights order (321 values)
* sine_x.bin         64 test inputs (f32), evenly spaced over [0, 2*pi]
* sine_keras_y.bin   Keras's predict on them (f32)
* sine_keras.txt     keras version, params, mean absolute error against sin(x)
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras
import numpy as np

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"


def main():
    keras.utils.set_random_seed(2024)
    rng = np.random.default_rng(2024)
    x = rng.uniform(0.0, 2 * np.pi, size=(1000, 1)).astype(np.float32)
    y = (np.sin(x) + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ],
        name="SineModel",
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=300, batch_size=64, verbose=0)

    x_test = np.linspace(0.0, 2 * np.pi, 64, dtype=np.float32).reshape(64, 1)
    y_keras = model.predict(x_test, verbose=0).astype(np.float32)
    weights = np.concatenate([np.asarray(w).astype("<f4").ravel() for w in model.weights])
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "sine.weights.bin").write_bytes(weights.tobytes())
    (DATA / "sine_x.bin").write_bytes(x_test.astype("<f4").tobytes())
    (DATA / "sine_keras_y.bin").write_bytes(y_keras.astype("<f4").tobytes())
    mae = float(np.mean(np.abs(y_keras - np.sin(x_test))))
    (DATA / "sine_keras.txt").write_text(
        f"keras_version={keras.__version__}\nparams={model.count_params()}\nmae_vs_sin={mae:.6f}\n"
    )
    print(f"params={model.count_params()} mae_vs_sin={mae:.4f}")


if __name__ == "__main__":
    main()
