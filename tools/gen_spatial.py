"""Global pooling, zero padding, cropping and up-sampling for tools/gen_fixtures.py: the
"spatial" parity suite, from real Keras.

Imported by gen_fixtures.py (run that script for the suite). Kept in its own file so the suites of
other layer families merge without conflicts.

Run on its own with the argument ``files`` it writes the saved-model fixtures of this family
(``tests/fixtures/files/spatial*``, see ``gen_files`` below):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_spatial.py files

Keras 3.15.1 behaviours these fixtures pin down:

* ``GlobalAveragePooling1D`` given a mask (``Embedding(mask_zero=True)`` before it, or a layer
  that passes the mask on) averages the unmasked steps only: ``sum(where(mask, x, 0)) /
  sum(mask)``; a row with every step masked gives NaN (0/0), so the cases below always keep at
  least one token per row (gen_fixtures refuses non-finite outputs). ``GlobalMaxPooling1D`` does
  not support masking and takes the max over every step.
* ``UpSampling2D(interpolation="bilinear")`` is ``jax.image.resize``: half-pixel centres, the edge
  pixels repeated, no antialiasing; the name is lower-cased (``"Bilinear"`` works).
* Defaults differ per rank: ``Cropping1D`` crops (1, 1), ``Cropping2D`` nothing,
  ``Cropping3D`` one each side; ``ZeroPadding*`` pads one each side.
"""

import numpy as np

# Layer classes the spatial cases use (added to gen_fixtures.ALLOWED_LAYERS).
LAYERS = [
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "Cropping1D", "Cropping2D", "Cropping3D",
    "UpSampling1D", "UpSampling2D", "UpSampling3D",
]

VOCAB = 24  # as gen_rnn: ids 0..23, 0 the padding id


def _ids_holes(rng, shape):
    """Zeros anywhere (about 40%), but at least one token in every row (an all-padding row
    averages to NaN in Keras); row 0 has no padding, row 1 a single token."""
    x = rng.integers(1, VOCAB, size=shape)
    x[rng.random(shape) < 0.4] = 0
    x[0, :] = rng.integers(1, VOCAB, size=shape[1])
    x[1, :] = 0
    x[1, shape[1] // 2] = 5
    for row in x:
        if not row.any():
            row[rng.integers(0, shape[1])] = int(rng.integers(1, VOCAB))
    return x


INPUT_GENERATORS = {
    "ids_holes": _ids_holes,
}


def cases(Case):
    out = []
    C = lambda name, shape, layers, batch=3, inputs="normal": out.append(  # noqa: E731
        Case(name, shape, layers, batch=batch, inputs=inputs))

    # --- global pooling: every rank, keepdims both ways, odd sizes, many channels ------------
    for short, cls in [("gap", "GlobalAveragePooling"), ("gmp", "GlobalMaxPooling")]:
        inputs = "negative" if short == "gmp" else "normal"
        C(f"{short}1d", (7, 3), f"{cls}1D()", inputs=inputs)
        C(f"{short}1d_keepdims", (7, 3), f"{cls}1D(keepdims=True)", inputs=inputs)
        C(f"{short}2d", (5, 7, 4), f"{cls}2D()", inputs=inputs)
        C(f"{short}2d_keepdims", (5, 7, 4), f"{cls}2D(keepdims=True)", inputs=inputs)
        C(f"{short}3d", (3, 4, 5, 2), f"{cls}3D()", inputs=inputs)
        C(f"{short}3d_keepdims", (3, 4, 5, 2), f"{cls}3D(keepdims=True)", inputs=inputs)
        C(f"{short}2d_positional", (4, 3, 5), f'{cls}2D("channels_last", True)', inputs=inputs)
        C(f"{short}2d_many_channels", (3, 3, 70), f"{cls}2D()", batch=2, inputs=inputs)
        C(f"{short}1d_one_step", (1, 5), f'{cls}1D(data_format="channels_last")', inputs=inputs)
    C("gap2d_after_conv", (6, 7, 2),
      'Conv2D(8, 3, padding="same", activation="relu"), GlobalAveragePooling2D(), '
      'Dense(3, activation="softmax")')
    C("gmp1d_keepdims_flatten", (9, 3),
      'Conv1D(5, 3), GlobalMaxPooling1D(keepdims=True), Flatten(), Dense(2)')
    C("gap3d_keepdims_conv", (4, 4, 4, 2),
      'GlobalAveragePooling3D(keepdims=True), Conv3D(3, 1), Flatten()')

    # --- GlobalAveragePooling1D and masks ----------------------------------------------------
    for pad in ["post", "pre", "holes"]:
        C(f"emb_mask_gap1d_{pad}", (7,), "Embedding(24, 6, mask_zero=True), GlobalAveragePooling1D()",
          batch=6, inputs=f"ids_{pad}")
    C("emb_mask_gap1d_keepdims", (7,),
      "Embedding(24, 5, mask_zero=True), GlobalAveragePooling1D(keepdims=True), Flatten(), Dense(3)",
      batch=6, inputs="ids_holes")
    C("emb_mask_dense_gap1d", (7,),
      'Embedding(24, 6, mask_zero=True), Dense(4, activation="tanh"), Dropout(0.3), '
      "GlobalAveragePooling1D(), Dense(2)", batch=6, inputs="ids_holes")
    C("emb_mask_lstm_seq_gap1d", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(4, return_sequences=True), GlobalAveragePooling1D()",
      batch=6, inputs="ids_pre")
    # Keras's GlobalMaxPooling1D does not support masking: every step counts.
    C("emb_mask_gmp1d", (7,), "Embedding(24, 6, mask_zero=True), GlobalMaxPooling1D()",
      batch=6, inputs="ids_holes")
    # Conv1D drops the mask: the mean is over every step.
    C("emb_mask_conv_gap1d", (7,),
      'Embedding(24, 4, mask_zero=True), Conv1D(3, 2, padding="same"), GlobalAveragePooling1D()',
      batch=6, inputs="ids_holes")
    C("emb_gap1d_no_mask", (7,), "Embedding(24, 6), GlobalAveragePooling1D()",
      batch=6, inputs="ids_holes")

    # --- ZeroPadding: every argument form -------------------------------------------------------
    C("zp1d_default", (5, 3), "ZeroPadding1D()")
    C("zp1d_int", (5, 3), "ZeroPadding1D(2)")
    C("zp1d_tuple", (5, 3), "ZeroPadding1D((0, 3))")
    C("zp1d_tuple_keyword", (4, 2), 'ZeroPadding1D(padding=(2, 0), data_format="channels_last")')
    C("zp1d_zero", (4, 2), "ZeroPadding1D(0)")
    C("zp2d_default", (4, 5, 3), "ZeroPadding2D()")
    C("zp2d_int", (4, 5, 3), "ZeroPadding2D(2)")
    C("zp2d_symmetric", (4, 5, 3), "ZeroPadding2D((1, 2))")
    C("zp2d_pairs", (4, 5, 3), "ZeroPadding2D(((1, 2), (0, 3)))")
    C("zp2d_mixed", (3, 4, 2), "ZeroPadding2D((1, (0, 2)))")
    C("zp2d_list", (3, 4, 2), "ZeroPadding2D([[2, 0], [1, 1]])")
    C("zp2d_none", (3, 4, 2), "ZeroPadding2D(((0, 0), (0, 0)))")
    C("zp2d_many_channels", (3, 3, 40), "ZeroPadding2D(((0, 1), (2, 0)))", batch=2)
    # ZeroPadding2D(((0, 1), (0, 1))) + a stride-2 valid conv: the "same" of MobileNet.
    C("zp2d_then_conv_s2", (6, 6, 2), "ZeroPadding2D(((0, 1), (0, 1))), Conv2D(4, 3, strides=2)")
    C("zp3d_default", (2, 3, 4, 2), "ZeroPadding3D()")
    C("zp3d_int", (2, 3, 2, 2), "ZeroPadding3D(2)")
    C("zp3d_symmetric", (2, 3, 4, 2), "ZeroPadding3D((1, 0, 2))")
    C("zp3d_pairs", (2, 3, 4, 2), "ZeroPadding3D(((0, 1), (2, 0), (1, 1)))")
    C("zp3d_mixed", (2, 3, 4, 1), "ZeroPadding3D((1, (0, 2), 0))")

    # --- Cropping: every argument form and Keras 3's per-rank defaults --------------------------
    C("crop1d_default", (6, 3), "Cropping1D()")
    C("crop1d_int", (6, 3), "Cropping1D(2)")
    C("crop1d_tuple", (6, 3), "Cropping1D((0, 3))")
    C("crop1d_keyword", (6, 3), "Cropping1D(cropping=(4, 1))")
    C("crop2d_default", (4, 5, 3), "Cropping2D()")
    C("crop2d_int", (4, 5, 3), "Cropping2D(1)")
    C("crop2d_symmetric", (5, 7, 3), "Cropping2D((1, 2))")
    C("crop2d_pairs", (5, 7, 3), "Cropping2D(((1, 0), (2, 1)))")
    C("crop2d_mixed", (5, 7, 2), 'Cropping2D(((0, 2), 1), data_format="channels_last")')
    C("crop2d_to_one", (3, 4, 2), "Cropping2D(((2, 0), (1, 2)))")
    C("crop2d_many_channels", (4, 4, 40), "Cropping2D(((1, 0), (0, 2)))", batch=2)
    C("crop3d_default", (3, 4, 5, 2), "Cropping3D()")
    C("crop3d_int", (3, 4, 5, 2), "Cropping3D(0)")
    C("crop3d_symmetric", (3, 4, 5, 2), "Cropping3D((1, 0, 2))")
    C("crop3d_pairs", (4, 4, 5, 2), "Cropping3D(((0, 1), (1, 0), (1, 3)))")

    # --- UpSampling ------------------------------------------------------------------------------
    C("up1d_default", (4, 3), "UpSampling1D()")
    C("up1d_size3", (5, 2), "UpSampling1D(3)")
    C("up1d_size1", (5, 2), "UpSampling1D(size=1)")
    C("up2d_default", (3, 4, 2), "UpSampling2D()")
    C("up2d_rect", (3, 4, 2), "UpSampling2D((3, 2))")
    C("up2d_int", (2, 3, 2), "UpSampling2D(3)")
    C("up2d_nearest_explicit", (3, 2, 3),
      'UpSampling2D(size=(1, 3), data_format="channels_last", interpolation="nearest")')
    C("up2d_many_channels", (2, 3, 40), "UpSampling2D()", batch=2)
    C("up2d_bilinear", (3, 4, 2), 'UpSampling2D(interpolation="bilinear")')
    C("up2d_bilinear_32", (4, 3, 3), 'UpSampling2D((3, 2), interpolation="bilinear")')
    C("up2d_bilinear_41", (3, 5, 2), 'UpSampling2D((4, 1), interpolation="bilinear")')
    C("up2d_bilinear_15", (5, 2, 1), 'UpSampling2D((1, 5), None, "bilinear")')
    C("up2d_bilinear_one_pixel", (1, 1, 3), 'UpSampling2D(3, interpolation="bilinear")')
    C("up2d_bilinear_capitals", (2, 3, 2), 'UpSampling2D(2, interpolation="Bilinear")')
    C("up2d_bilinear_many_channels", (3, 3, 40), 'UpSampling2D(interpolation="bilinear")',
      batch=2)
    C("up3d_default", (2, 3, 2, 2), "UpSampling3D()")
    C("up3d_rect", (2, 3, 2, 2), "UpSampling3D((1, 2, 3))")
    C("up3d_int", (1, 2, 2, 3), "UpSampling3D(3)")

    # --- stacks ----------------------------------------------------------------------------------
    C("unet_like", (7, 6, 2),
      'Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), '
      'UpSampling2D(2, interpolation="bilinear"), ZeroPadding2D(((1, 0), (0, 0))), '
      'Cropping2D(((0, 0), (1, 1))), Conv2D(3, 3), GlobalAveragePooling2D(), '
      'Dense(2, activation="softmax")')
    C("seq_pad_crop_up", (6, 3),
      "ZeroPadding1D((2, 1)), Conv1D(4, 3), UpSampling1D(2), Cropping1D((1, 2)), "
      "GlobalMaxPooling1D()")
    C("vol_pad_up_crop", (2, 3, 3, 2),
      "ZeroPadding3D(((1, 0), (0, 1), (1, 1))), UpSampling3D((1, 2, 1)), "
      'Cropping3D(((0, 1), (2, 1), (0, 2))), Conv3D(2, 2, activation="relu"), '
      "GlobalAveragePooling3D(keepdims=True), Flatten(), Dense(2)")
    return out


# ------------------------------------------------------------------------------------------
# Saved-model fixtures: one small model per layer family, every format Keras 3 writes
# ------------------------------------------------------------------------------------------

# name -> (input shape, layer string): Keras Python and static-keras DSL alike. Weighted layers
# between the weightless ones check that weights are matched by class order past them.
FILE_MODELS = {
    "spatial2d": ((7, 6, 3),
                  'ZeroPadding2D(((1, 2), (0, 1))), Conv2D(4, 3, activation="relu"), '
                  'Cropping2D(((1, 0), (0, 2))), UpSampling2D((2, 1), interpolation="bilinear"), '
                  "Conv2D(3, 2), GlobalAveragePooling2D(keepdims=True), Flatten(), Dense(2)"),
    "spatial1d": ((8, 3),
                  "ZeroPadding1D(2), Cropping1D((0, 3)), UpSampling1D(3), Conv1D(4, 3), "
                  "GlobalMaxPooling1D(), Dense(2)"),
    "spatial3d": ((3, 3, 4, 2),
                  "ZeroPadding3D((1, 1, 0)), Cropping3D(), UpSampling3D((2, 1, 1)), "
                  "Conv3D(2, 2), GlobalAveragePooling3D(), Dense(3)"),
}


def gen_files():
    import json
    import os
    import zlib
    from pathlib import Path

    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import keras

    out_dir = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "files"
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = "k" + keras.__version__.replace(".", "")
    namespace = {"__builtins__": {}}
    namespace.update({n: getattr(keras.layers, n)
                      for n in LAYERS + ["Conv1D", "Conv2D", "Conv3D", "Dense", "Flatten"]})

    def write(path, data):
        if not (path.exists() and path.read_bytes() == data):
            path.write_bytes(data)

    def f32(a):
        return np.ascontiguousarray(a, dtype="<f4").tobytes()

    for name, (shape, text) in FILE_MODELS.items():
        keras.backend.clear_session()
        layers = eval("[" + text + "]", namespace)  # noqa: S307 -- local, trusted strings
        model = keras.Sequential([keras.Input(shape)] + layers, name=name)
        rng = np.random.default_rng(zlib.crc32(f"files/{name}".encode()))
        weights = [(rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32)
                   for v in model.weights]
        for v, w in zip(model.weights, weights):
            v.assign(w)
        x = rng.standard_normal((4, *shape)).astype(np.float32)
        y = np.asarray(model.predict(x, verbose=0))
        write(out_dir / f"{name}.x.bin", f32(x))
        write(out_dir / f"{name}.w.bin", b"".join(f32(w) for w in weights))
        write(out_dir / f"{name}.{tag}.y.bin", f32(y))
        files = {}
        for fmt in ("keras", "weights.h5", "h5"):
            path = out_dir / f"{name}.{tag}.{fmt}"
            if fmt == "weights.h5":
                model.save_weights(path)
            else:
                model.save(path)
            files[path.name] = {"writer": f"keras {keras.__version__}", "format": fmt,
                                "y": f"{name}.{tag}.y.bin"}
        manifest = {"input_shape": list(shape), "output_shape": list(y.shape[1:]),
                    "params": int(model.count_params()), "layers": text,
                    "files": dict(sorted(files.items()))}
        write(out_dir / f"{name}.manifest.json",
              (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
        print(f"{name}: {sorted(files)}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["files"]:
        sys.exit("usage: gen_spatial.py files  (the parity suite comes from gen_fixtures.py)")
    gen_files()
