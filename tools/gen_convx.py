"""Depthwise, separable and transposed convolutions for tools/gen_fixtures.py: the "convx"
parity suite, all from real Keras.

Imported by gen_fixtures.py (run that script for the suite, not this one). Kept in its own file
so the suites of other layer families merge without conflicts.

Run on its own, this script writes the saved-file fixtures of the family instead
(``tests/fixtures/files/convx.*``, read by tests/keras_files_convx.rs):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_convx.py

* ``convx.k3151.{keras,weights.h5,h5}``  one model with every layer of the family, saved by Keras
* ``convx.x.bin``, ``convx.w.bin``, ``convx.k3151.y.bin``  input batch, ``model.weights`` and
  ``model.predict`` (raw little-endian float32, row-major)
* ``convx.tf2groups.h5``  the legacy ``.h5`` with ``"groups": 1`` added to every layer config,
  as tf.keras 2 wrote DepthwiseConv2D (Keras 3.15 itself cannot load such a file;
  KERAS_GRAPHS.md §0 F4). No TensorFlow is needed: the attribute is rewritten with h5py.
* ``convx.groups2.keras``  the archive with ``"groups": 2`` on the DepthwiseConv2D, which a
  loader must refuse
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

# Layer classes the convx cases use (added to gen_fixtures.ALLOWED_LAYERS).
LAYERS = [
    "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
]


def cases(Case):
    out = []
    C = lambda name, shape, layers, batch=3, inputs="normal": out.append(  # noqa: E731
        Case(name, shape, layers, batch=batch, inputs=inputs))

    # --- DepthwiseConv2D: odd and even sizes, strides, dilation, multipliers -----------------
    C("dw2_valid_k3", (7, 6, 3), "DepthwiseConv2D(3)")
    C("dw2_same_k3", (6, 7, 5), 'DepthwiseConv2D(3, padding="same")')
    C("dw2_same_s2_odd", (7, 7, 4), 'DepthwiseConv2D(3, strides=2, padding="same")')
    C("dw2_same_s2_even", (8, 8, 3), 'DepthwiseConv2D(3, strides=2, padding="same")')
    C("dw2_valid_s2", (9, 8, 2), "DepthwiseConv2D(3, strides=2)")
    C("dw2_m2_s2_same", (7, 6, 3),
      'DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)')
    C("dw2_valid_d2", (9, 9, 2), "DepthwiseConv2D(3, dilation_rate=2)")
    # Keras lets depthwise layers combine strides and dilation (Conv does not).
    C("dw2_s2_d2_same", (11, 10, 3),
      'DepthwiseConv2D(3, strides=2, dilation_rate=2, padding="same")')
    C("dw2_rect_m3", (6, 8, 3),
      'DepthwiseConv2D((3, 2), strides=(1, 2), padding="same", depth_multiplier=3)')
    C("dw2_k5_same_relu", (7, 7, 6), 'DepthwiseConv2D(5, padding="same", activation="relu")')
    C("dw2_k4_even_same", (6, 5, 2), 'DepthwiseConv2D(4, padding="same")')
    C("dw2_k1", (4, 5, 3), "DepthwiseConv2D(1, depth_multiplier=2)")
    C("dw2_no_bias_relu6", (6, 6, 4),
      'DepthwiseConv2D(3, use_bias=False, activation="relu6")')
    C("dw2_kernel_wider", (3, 2, 3), 'DepthwiseConv2D(5, padding="same")')
    C("dw2_softmax", (5, 5, 3), 'DepthwiseConv2D(3, padding="same", activation="softmax")')
    C("dw2_glu", (5, 5, 2), 'DepthwiseConv2D(3, depth_multiplier=2, activation="glu")')
    C("dw2_uppercase_same", (5, 5, 2), 'DepthwiseConv2D(3, padding="SAME")')
    C("dw2_positional", (7, 6, 2), 'DepthwiseConv2D(3, 2, "same", 2)')
    C("dw2_explicit_defaults", (6, 6, 2),
      'DepthwiseConv2D(kernel_size=(3, 3), strides=(1, 1), padding="valid", '
      'depth_multiplier=1, data_format="channels_last", dilation_rate=(1, 1), '
      'activation=None, use_bias=True, depthwise_initializer="he_normal", '
      'bias_initializer="zeros", depthwise_regularizer=None)')
    # Channel counts over every block width of the kernel (32, 8, then single channels).
    C("dw2_channels_41", (4, 5, 41), 'DepthwiseConv2D(3, padding="same")', batch=2)
    C("dw2_channels_70_s2", (6, 6, 70), "DepthwiseConv2D(3, strides=2)", batch=2)
    C("dw2_channels_96_m2", (5, 4, 96),
      'DepthwiseConv2D(3, padding="same", depth_multiplier=2)', batch=2)

    # --- DepthwiseConv1D --------------------------------------------------------------------
    C("dw1_valid_k3", (9, 3), "DepthwiseConv1D(3)")
    C("dw1_same_s2", (10, 4), 'DepthwiseConv1D(3, strides=2, padding="same")')
    C("dw1_m3_d2_tanh", (11, 2),
      'DepthwiseConv1D(3, dilation_rate=2, depth_multiplier=3, activation="tanh")')
    C("dw1_k4_same_no_bias", (9, 5), 'DepthwiseConv1D(4, padding="same", use_bias=False)')
    C("dw1_s3", (10, 3), "DepthwiseConv1D(2, strides=3)")
    C("dw1_channels_40", (8, 40), 'DepthwiseConv1D(5, padding="same")', batch=2)

    # --- SeparableConv2D / 1D ---------------------------------------------------------------
    C("sep2_valid", (7, 6, 3), "SeparableConv2D(4, 3)")
    C("sep2_same_s2_m2", (7, 8, 3),
      'SeparableConv2D(5, 3, strides=2, padding="same", depth_multiplier=2)')
    C("sep2_d2_relu", (9, 9, 2), 'SeparableConv2D(3, 3, dilation_rate=2, activation="relu")')
    C("sep2_s2_d2", (11, 9, 2), 'SeparableConv2D(3, 3, strides=2, dilation_rate=2)')
    C("sep2_rect_no_bias", (6, 6, 4),
      'SeparableConv2D(6, (3, 2), padding="same", use_bias=False)')
    C("sep2_positional", (6, 5, 2),
      'SeparableConv2D(4, 3, 1, "same", "channels_last", 1, 2, "relu", False)')
    C("sep2_wide", (5, 5, 40), 'SeparableConv2D(24, 3, padding="same", depth_multiplier=2)',
      batch=2)
    C("sep2_glu", (5, 5, 3), 'SeparableConv2D(4, 3, activation="glu")')
    C("sep1_valid", (9, 3), "SeparableConv1D(4, 3)")
    C("sep1_same_s2_m2", (10, 3),
      'SeparableConv1D(5, 3, strides=2, padding="same", depth_multiplier=2)')
    C("sep1_d2_sigmoid_no_bias", (11, 4),
      'SeparableConv1D(3, 3, dilation_rate=2, activation="sigmoid", use_bias=False)')

    # --- Conv1DTranspose: the 12 measured cases of KERAS_GRAPHS.md §2.2 ------------------------
    # (n, k, s, d, padding, output_padding)
    measured = [
        (5, 3, 2, 1, "same", None), (5, 3, 2, 1, "valid", None),
        (5, 4, 2, 1, "same", None), (5, 4, 2, 1, "valid", None),
        (5, 3, 2, 1, "same", 1), (5, 3, 2, 1, "valid", 1),
        (5, 4, 3, 1, "same", 2), (5, 2, 3, 1, "valid", None),
        (5, 3, 1, 2, "same", None), (5, 3, 1, 2, "valid", None),
        (4, 5, 2, 1, "same", 0), (4, 1, 3, 1, "same", None),
    ]
    for n, k, s, d, pad, op in measured:
        name = f"ct1_n{n}_k{k}_s{s}_d{d}_{pad}" + ("" if op is None else f"_op{op}")
        args = f'Conv1DTranspose(2, {k}, strides={s}, padding="{pad}"'
        args += f", dilation_rate={d}" if d != 1 else ""
        args += f", output_padding={op})" if op is not None else ")"
        C(name, (n, 3), args)
    C("ct1_valid_op0_relu", (4, 2), 'Conv1DTranspose(3, 3, strides=2, output_padding=0, '
      'activation="relu")')
    C("ct1_no_bias_tanh", (6, 4), 'Conv1DTranspose(5, 2, use_bias=False, activation="tanh")')
    C("ct1_positional", (5, 2), 'Conv1DTranspose(3, 3, 2, "same", 1)')

    # --- Conv2DTranspose --------------------------------------------------------------------
    C("ct2_s2_same", (4, 3, 3), 'Conv2DTranspose(4, 3, strides=2, padding="same")')
    C("ct2_rect_same", (4, 3, 2), 'Conv2DTranspose(2, (3, 2), strides=(2, 3), padding="same")')
    C("ct2_s2_valid_k2", (3, 4, 2), "Conv2DTranspose(3, 2, strides=2)")
    C("ct2_op1_same", (4, 4, 2),
      'Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1)')
    C("ct2_op_tuple_valid", (3, 3, 2),
      "Conv2DTranspose(2, 3, strides=(2, 3), output_padding=(1, 0))")
    C("ct2_d2_same_relu", (4, 4, 2),
      'Conv2DTranspose(2, 3, dilation_rate=2, padding="same", activation="relu")')
    C("ct2_s1_valid", (4, 5, 2), "Conv2DTranspose(3, 3)")
    C("ct2_no_bias_tanh", (3, 3, 3), 'Conv2DTranspose(4, 3, use_bias=False, activation="tanh")')
    C("ct2_kernel_below_stride", (3, 3, 2), "Conv2DTranspose(2, 2, strides=3)")
    C("ct2_filters40", (3, 3, 5), 'Conv2DTranspose(40, 3, strides=2, padding="same")', batch=2)
    C("ct2_glu", (3, 3, 2), 'Conv2DTranspose(4, 2, strides=2, activation="glu")')

    # --- Conv3DTranspose (data_format comes before output_padding positionally) --------------
    C("ct3_s2_valid", (2, 2, 2, 2), "Conv3DTranspose(2, 2, strides=2)")
    C("ct3_same_s122", (3, 2, 3, 2),
      'Conv3DTranspose(3, 3, strides=(1, 2, 2), padding="same")')
    C("ct3_op_same", (2, 3, 2, 1),
      'Conv3DTranspose(2, (2, 3, 2), strides=2, padding="same", output_padding=(1, 0, 1))')
    C("ct3_positional", (2, 2, 2, 1), 'Conv3DTranspose(2, 2, 2, "valid", "channels_last", 1)')

    # --- stacks: MobileNet and DS-CNN blocks, an autoencoder -----------------------------------
    C("mobilenet_blocks", (12, 12, 8),
      'DepthwiseConv2D(3, padding="same"), Conv2D(16, 1, activation="relu"), '
      'DepthwiseConv2D(3, strides=2, padding="same", use_bias=False), '
      'Conv2D(16, 1, activation="relu6"), Flatten(), Dense(3, activation="softmax")', batch=2)
    C("ds_cnn_block", (25, 5, 64),
      'DepthwiseConv2D(depth_multiplier=1, kernel_size=(3, 3), padding="same"), '
      'Activation("relu"), Conv2D(64, (1, 1), padding="same"), AveragePooling2D((24, 5)), '
      'Flatten(), Dense(12, activation="softmax")', batch=2)
    C("autoencoder", (8, 8, 1),
      'Conv2D(4, 3, strides=2, padding="same", activation="relu"), '
      'SeparableConv2D(8, 3, padding="same", activation="relu"), '
      'Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"), '
      'Conv2D(1, 3, padding="same", activation="sigmoid")', batch=2)
    C("sequence_upsampler", (6, 3),
      'SeparableConv1D(4, 3, padding="same"), Conv1DTranspose(2, 4, strides=2, padding="same"), '
      'DepthwiseConv1D(3, depth_multiplier=2)')
    return out


# ------------------------------------------------------------------------------------------
# Saved files (run this script on its own)
# ------------------------------------------------------------------------------------------

FILE_SHAPE = (8, 8, 3)
FILE_LAYERS = (
    'DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu"), '
    'SeparableConv2D(4, 3, strides=2, padding="same"), '
    'Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1), '
    'Reshape((64, 3)), SeparableConv1D(2, 3, use_bias=False), '
    'Conv1DTranspose(2, 2, strides=2), DepthwiseConv1D(3)'
)


def _patch_configs(text, groups):
    """The saved JSON config with ``"groups": groups`` added to every DepthwiseConv2D (as
    tf.keras 2 wrote it), or to every layer of the family when ``groups`` is 1."""
    import json

    config = json.loads(text)
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "DepthwiseConv2D" or (
                groups == 1 and layer["class_name"] in LAYERS):
            layer["config"]["groups"] = groups
    return json.dumps(config)


def gen_files():
    import zipfile
    import zlib
    from pathlib import Path

    import h5py
    import keras

    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "files"
    tag = "k" + keras.__version__.replace(".", "")
    f32 = lambda a: np.ascontiguousarray(a, dtype="<f4").tobytes()  # noqa: E731

    def write(path, data):
        if not (path.exists() and path.read_bytes() == data):
            path.write_bytes(data)

    keras.backend.clear_session()
    namespace = {"__builtins__": {}}
    namespace.update({n: getattr(keras.layers, n) for n in LAYERS + ["Reshape"]})
    layers = eval("[" + FILE_LAYERS + "]", namespace)  # noqa: S307 -- local, trusted string
    model = keras.Sequential([keras.Input(FILE_SHAPE)] + layers, name="convx")
    rng = np.random.default_rng(zlib.crc32(b"files/convx"))
    for v in model.weights:
        v.assign((rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32))
    x = rng.standard_normal((4, *FILE_SHAPE)).astype(np.float32)
    y = np.asarray(model.predict(x, verbose=0))
    write(out / "convx.x.bin", f32(x))
    write(out / "convx.w.bin", b"".join(f32(np.asarray(v.numpy())) for v in model.weights))
    write(out / f"convx.{tag}.y.bin", f32(y))
    model.save(out / f"convx.{tag}.keras")
    model.save_weights(out / f"convx.{tag}.weights.h5")
    model.save(out / f"convx.{tag}.h5")

    # tf.keras 2's `"groups": 1` (F4), in a legacy file.
    legacy = out / "convx.tf2groups.h5"
    legacy.write_bytes((out / f"convx.{tag}.h5").read_bytes())
    with h5py.File(legacy, "r+") as f:
        text = f.attrs["model_config"]
        text = text.decode() if isinstance(text, bytes) else text
        f.attrs["model_config"] = _patch_configs(text, 1)
    # A DepthwiseConv2D with groups 2, which no Keras writes: the loader must refuse it.
    with zipfile.ZipFile(out / f"convx.{tag}.keras") as src, \
            zipfile.ZipFile(out / "convx.groups2.keras", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                data = _patch_configs(data.decode(), 2).encode()
            dst.writestr(item, data)
    print(f"convx: {tag} files, output {y.shape[1:]}, {model.count_params()} params -> "
          f"{out.relative_to(out.parent.parent.parent)}")


if __name__ == "__main__":
    gen_files()
