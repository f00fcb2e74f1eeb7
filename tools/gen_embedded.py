"""Trains, in real Keras, the models the firmware example (examples/firmware) runs on the
microcontroller, and saves what it and its tests need.

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_embedded.py [sine] [sensor]

sine: the TensorFlow Lite Micro "hello world" regressor, Dense(16, relu) -> Dense(16, relu) ->
Dense(1) on one input, fit to y = sin(x) + noise for x in [0, 2*pi]. Writes in examples/data/:

* sine.weights.bin   raw little-endian f32, model.weights order (321 values)
* sine_x.bin         64 test inputs (f32), evenly spaced over [0, 2*pi]
* sine_keras_y.bin   Keras's predict on them (f32)
* sine_keras.txt     keras version, params, mean absolute error against sin(x)

sensor: a small recurrent classifier of synthetic 3-axis sensor windows (32 steps x 3 channels:
still / walking-like oscillation / shaking-like noise bursts), Conv1D(8, 5, strides=2, relu) ->
GRU(16) -> Dense(3, softmax). Writes sensor.weights.bin, sensor_x.bin (48 test windows),
sensor_keras_y.bin, sensor_y.bin (labels, u8) and sensor_keras.txt.
"""
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras
import numpy as np

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"


def sensor_windows(rng, n):
    """Synthetic accelerometer-like windows, label 0 still, 1 periodic, 2 bursts."""
    t = np.arange(32, dtype=np.float32)
    x = np.zeros((n, 32, 3), np.float32)
    y = rng.integers(0, 3, size=n)
    for i in range(n):
        base = rng.normal(0.0, 0.05, size=(32, 3))
        if y[i] == 1:
            freq = rng.uniform(0.15, 0.35)
            phase = rng.uniform(0, 2 * np.pi, size=3)
            base += rng.uniform(0.5, 1.0) * np.sin(freq * t[:, None] + phase)
        elif y[i] == 2:
            start = rng.integers(0, 24)
            base[start : start + 8] += rng.normal(0.0, 1.0, size=(8, 3))
        x[i] = base
    return x, y.astype(np.uint8)


def sensor():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x, y = sensor_windows(rng, 600)
    x_test, y_test = sensor_windows(rng, 48)
    model = keras.Sequential(
        [
            keras.Input((32, 3)),
            keras.layers.Conv1D(8, 5, strides=2, activation="relu"),
            keras.layers.GRU(16),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="SensorNet",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    probs = model.predict(x_test, verbose=0).astype(np.float32)
    weights = np.concatenate([np.asarray(w).astype("<f4").ravel() for w in model.weights])
    (DATA / "sensor.weights.bin").write_bytes(weights.tobytes())
    (DATA / "sensor_x.bin").write_bytes(x_test.astype("<f4").tobytes())
    (DATA / "sensor_keras_y.bin").write_bytes(probs.astype("<f4").tobytes())
    (DATA / "sensor_y.bin").write_bytes(y_test.tobytes())
    accuracy = float(np.mean(np.argmax(probs, axis=1) == y_test))
    (DATA / "sensor_keras.txt").write_text(
        f"keras_version={keras.__version__}\nparams={model.count_params()}\n"
        f"test_samples={len(y_test)}\nkeras_accuracy={accuracy:.6f}\n"
    )
    print(f"sensor: params={model.count_params()} accuracy={accuracy:.3f}")


def sine():
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


def main(argv):
    DATA.mkdir(parents=True, exist_ok=True)
    wanted = set(argv) or {"sine", "sensor"}
    if "sine" in wanted:
        sine()
    if "sensor" in wanted:
        sensor()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
