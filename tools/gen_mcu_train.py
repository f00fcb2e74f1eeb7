"""Data and Keras's reference for the firmware's on-device fine-tuning (examples/firmware,
`src/tune.rs`): a frozen feature model in flash, a head that trains in RAM.

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_mcu_train.py

Writes in examples/data/:

* sensor_tune_x.bin  224 windows of 32 x 3 f32 from `gen_embedded.sensor_windows` (seed 1307):
                     the first 128 are the fine-tuning set, the last 96 are held back. They are
                     stored as the generator makes them; the drift (every reading times 3, a
                     sensor whose range setting changed) is applied by the firmware and here alike.
* sensor_tune_y.bin  their labels (u8)
* sensor_tune_keras_head.bin  Keras's head (GRU(16) -> Dense(3), model.weights order, f32) after
                     the same fine-tuning as the firmware's: the Conv1D frozen, SGD(0.02,
                     momentum=0.9), sparse categorical cross-entropy, batches of 8 in order (no
                     shuffle), 64 steps of `train_on_batch`
* sensor_tune_keras_losses.bin  `train_on_batch`'s loss of each step (f32)
* mcu_train_keras.txt  Keras's held-back accuracy before and after, for both models. The digits
                     CNN's head has a Dropout, whose random masks Keras and the firmware draw
                     differently: its figures are a reference, not a bitwise target.

The digits data are the committed digits_train_x.u8 / digits_test_x.bin; the firmware shifts each
image right by one pixel (a camera mounted one pixel off), as `shift_right` below.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_embedded import sensor_windows  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"

# Shared with examples/firmware/src/tune.rs.
SENSOR_SEED = 1307
SENSOR_TUNE = 128
SENSOR_HELD = 96
SENSOR_GAIN = np.float32(3.0)
SENSOR_STEPS = 64
SENSOR_LR = 0.02
SENSOR_BATCH = 8
DIGITS_TUNE = 320
DIGITS_STEPS = 60
DIGITS_BATCH = 16


def shift_right(x):
    """Images (n, 8, 8, 1) moved one pixel right; the first column becomes 0."""
    out = np.zeros_like(x)
    out[:, :, 1:, :] = x[:, :, :-1, :]
    return out


def steps_of(features, labels, steps, batch):
    """The batches of `steps` steps in order, wrapping around the set (no shuffle)."""
    n = len(labels)
    idx = np.array([(s * batch + i) % n for s in range(steps) for i in range(batch)])
    return features[idx], labels[idx]


def flat_weights(model):
    return np.concatenate([np.asarray(w).astype("<f4").ravel() for w in model.weights]).tobytes()


def accuracy(model, x, y):
    return float(np.mean(model.predict(x, verbose=0).argmax(1) == y))


def sensor():
    rng = np.random.default_rng(SENSOR_SEED)
    x, y = sensor_windows(rng, SENSOR_TUNE + SENSOR_HELD)
    (DATA / "sensor_tune_x.bin").write_bytes(x.astype("<f4").tobytes())
    (DATA / "sensor_tune_y.bin").write_bytes(y.astype(np.uint8).tobytes())
    x = x * SENSOR_GAIN

    flat = np.frombuffer((DATA / "sensor.weights.bin").read_bytes(), "<f4")
    net = keras.Sequential(
        [
            keras.Input((32, 3)),
            keras.layers.Conv1D(8, 5, strides=2, activation="relu"),
            keras.layers.GRU(16),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    values, at = [], 0
    for v in net.weights:
        n = int(np.prod(v.shape))
        values.append(flat[at : at + n].reshape(v.shape))
        at += n
    assert at == len(flat)
    net.set_weights(values)
    net.layers[0].trainable = False
    features = keras.Model(net.inputs, net.layers[0].output)
    head = keras.Sequential(
        [keras.Input((14, 8)), keras.layers.GRU(16), keras.layers.Dense(3, activation="softmax")]
    )
    head.set_weights(values[2:])
    f = features.predict(x, verbose=0)
    f_tune, y_tune = f[:SENSOR_TUNE], y[:SENSOR_TUNE]
    f_held, y_held = f[SENSOR_TUNE:], y[SENSOR_TUNE:]
    before = accuracy(head, f_held, y_held)
    head.compile(
        keras.optimizers.SGD(SENSOR_LR, momentum=0.9), "sparse_categorical_crossentropy"
    )
    fx, fy = steps_of(f_tune, y_tune, SENSOR_STEPS, SENSOR_BATCH)
    losses = []
    for step in range(SENSOR_STEPS):
        batch = slice(step * SENSOR_BATCH, (step + 1) * SENSOR_BATCH)
        losses.append(head.train_on_batch(fx[batch], fy[batch]))
    after = accuracy(head, f_held, y_held)
    (DATA / "sensor_tune_keras_head.bin").write_bytes(flat_weights(head))
    (DATA / "sensor_tune_keras_losses.bin").write_bytes(np.array(losses, "<f4").tobytes())
    return before, after


def digits():
    keras.utils.set_random_seed(1)
    raw = np.frombuffer((DATA / "digits_train_x.u8").read_bytes(), np.uint8)
    x = shift_right((raw / np.float32(16.0)).astype(np.float32).reshape(-1, 8, 8, 1))
    y = np.frombuffer((DATA / "digits_train_y.u8").read_bytes(), np.uint8)
    x_held = shift_right(
        np.frombuffer((DATA / "digits_test_x.bin").read_bytes(), "<f4").reshape(-1, 8, 8, 1)
    )
    y_held = np.frombuffer((DATA / "digits_test_y.bin").read_bytes(), np.uint8)
    net = keras.saving.load_model(DATA / "digits_cnn.keras")
    for layer in net.layers[:-2]:
        layer.trainable = False
    before = accuracy(net, x_held, y_held)
    net.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    fx, fy = steps_of(x[:DIGITS_TUNE], y[:DIGITS_TUNE], DIGITS_STEPS, DIGITS_BATCH)
    net.fit(fx, fy, batch_size=DIGITS_BATCH, epochs=1, shuffle=False, verbose=0)
    return before, accuracy(net, x_held, y_held)


def main():
    s_before, s_after = sensor()
    d_before, d_after = digits()
    (DATA / "mcu_train_keras.txt").write_text(
        f"keras_version={keras.__version__}\n"
        f"digits_held_accuracy_before={d_before:.6f}\ndigits_held_accuracy_after={d_after:.6f}\n"
        f"sensor_held_accuracy_before={s_before:.6f}\nsensor_held_accuracy_after={s_after:.6f}\n"
    )
    print((DATA / "mcu_train_keras.txt").read_text())


if __name__ == "__main__":
    main()
