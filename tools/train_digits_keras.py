"""Keras's side of `examples/train_digits.rs`: the digits CNN trained from Keras's initial
weights, with the same data split, epochs, batch size, optimizer and loss, for 3 seeds.

Writes (to examples/data/):
* ``digits_train_x.u8`` / ``digits_train_y.u8``: the training split (the pixels are scikit-learn's
  integers 0..16, divided by 16 when read; labels 0..9), the complement of the held-back
  ``digits_test_*.bin`` split of ``tools/gen_fixtures.py``;
* ``train_digits_keras.txt``: Keras's test accuracy per seed and their mean.

Run: KERAS_BACKEND=jax JAX_PLATFORMS=cpu python tools/train_digits_keras.py
"""

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "examples" / "data"
# The split of tools/gen_fixtures.py (DIGITS_SPLIT_SEED, DIGITS_TEST_SIZE).
SPLIT_SEED = 0
TEST_SIZE = 360
# Shared with examples/train_digits.rs.
EPOCHS = 20
BATCH_SIZE = 32
SEEDS = [1, 2, 3]


def model():
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, activation="relu"),
            L.Flatten(),
            L.Dropout(0.25),
            L.Dense(10, activation="softmax"),
        ],
        name="DigitsCnn",
    )


def main():
    digits = load_digits()
    raw = digits.data.astype(np.uint8)  # integers 0..16
    y = digits.target.astype(np.int64)
    raw_train, raw_test, y_train, y_test = train_test_split(
        raw, y, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED, shuffle=True
    )
    x_train = (raw_train / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    x_test = (raw_test / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    # The held-back split is the one the inference examples use.
    committed = np.frombuffer((DATA / "digits_test_x.bin").read_bytes(), dtype="<f4")
    assert np.array_equal(committed, x_test.reshape(-1)), "test split changed"
    (DATA / "digits_train_x.u8").write_bytes(raw_train.tobytes())
    (DATA / "digits_train_y.u8").write_bytes(y_train.astype(np.uint8).tobytes())

    accs = []
    for seed in SEEDS:
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        m = model()
        m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        m.fit(
            x_train,
            keras.utils.to_categorical(y_train, 10),
            epochs=EPOCHS,
            batch_size=BATCH_SIZE,
            shuffle=True,
            verbose=0,
        )
        probs = np.asarray(m.predict(x_test, verbose=0))
        acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
        print(f"seed {seed}: accuracy {acc:.6f}")
        accs.append(acc)
    lines = [
        f"keras_version={keras.__version__}",
        f"epochs={EPOCHS}",
        f"batch_size={BATCH_SIZE}",
        f"train_samples={len(y_train)}",
        f"test_samples={len(y_test)}",
    ]
    lines += [f"keras_accuracy_seed{s}={a:.6f}" for s, a in zip(SEEDS, accs)]
    lines.append(f"keras_accuracy_mean={np.mean(accs):.6f}")
    (DATA / "train_digits_keras.txt").write_text("\n".join(lines) + "\n")
    print(lines[-1])


if __name__ == "__main__":
    main()
