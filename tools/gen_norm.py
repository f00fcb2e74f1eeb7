"""Normalization layers for tools/gen_fixtures.py: the "norm" parity suite (BatchNormalization,
LayerNormalization, GroupNormalization, Normalization, Rescaling), all from real Keras.

Imported by gen_fixtures.py (run that script, not this one). Kept in its own file so the suites of
other layer families merge without conflicts.
"""

import numpy as np

# Layer classes the norm cases use (added to gen_fixtures.ALLOWED_LAYERS).
LAYERS = ["BatchNormalization", "LayerNormalization", "GroupNormalization", "Normalization",
          "Rescaling"]

INPUT_GENERATORS = {
    # Far from zero mean and unit scale: a normalization that got its statistics wrong shows.
    "offset": lambda rng, shape: rng.standard_normal(shape) * 2.5 + 4.0,
    # Pixel-like values for Rescaling.
    "pixels": lambda rng, shape: rng.integers(0, 256, size=shape).astype(np.float64),
}


def weight_hook(v, rng):
    """Variables the default N(0, 0.5²) draw does not fit; True when it set `v`.

    Variances must be positive (a negative one gives NaN in Keras too), and Normalization's
    `count` is an integer the inference never reads.
    """
    name = v.path.rsplit("/", 1)[-1]
    shape = tuple(v.shape)
    if name in ("moving_variance", "variance"):
        v.assign(rng.uniform(0.05, 3.0, size=shape).astype(np.float32))
        return True
    if name == "count":
        v.assign(np.asarray(int(rng.integers(1, 1000)), dtype=v.dtype))
        return True
    if name == "gamma":
        # Around 1 with a spread, some negative.
        v.assign((1.0 + rng.standard_normal(shape) * 0.7).astype(np.float32))
        return True
    return False


def after_weights(model):
    """Normalization computes its mean and variance tensors from its variables once
    (``finalize_state``, run by ``build`` and by loading); assigned variables need it again."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is None:
            layer.finalize_state()


def cases(Case):
    out = []
    C = lambda name, shape, layers, batch=4, inputs="normal": out.append(  # noqa: E731
        Case(name, shape, layers, batch=batch, inputs=inputs))

    # --- BatchNormalization ----------------------------------------------------------------
    C("bn_rank1", (6,), "BatchNormalization()")
    C("bn_rank3", (4, 5, 3), "BatchNormalization()")
    C("bn_many_channels", (3, 3, 37), "BatchNormalization()")
    C("bn_axis1", (4, 3), "BatchNormalization(axis=1)")
    C("bn_axis_neg2", (3, 4, 2), "BatchNormalization(axis=-2)")
    C("bn_axis_middle_rank4", (2, 3, 4, 5), "BatchNormalization(axis=2)")
    C("bn_axis_last_positive", (3, 4), "BatchNormalization(axis=2)")
    C("bn_no_center", (5, 3), "BatchNormalization(center=False)")
    C("bn_no_scale", (5, 3), "BatchNormalization(scale=False)")
    C("bn_neither", (5, 3), "BatchNormalization(center=False, scale=False)")
    C("bn_integer_flags", (5, 3), "BatchNormalization(center=1, scale=0)")
    C("bn_epsilon", (7,), "BatchNormalization(epsilon=0.1)")
    C("bn_tiny_epsilon", (7,), "BatchNormalization(epsilon=1e-6)")
    C("bn_positional", (3, 4), "BatchNormalization(-1, 0.9, 0.01, True, False)")
    C("bn_training_args", (6,),
      'BatchNormalization(momentum=0.999, beta_initializer="ones", '
      'gamma_regularizer=None, synchronized=False, renorm=False)')
    C("bn_offset_inputs", (4, 4, 8), "BatchNormalization()", inputs="offset")
    C("bn_after_conv", (6, 6, 2),
      'Conv2D(8, 3, padding="same"), BatchNormalization(), Activation("relu"), '
      "Conv2D(4, 1), BatchNormalization(center=False)", batch=3)
    C("bn_after_dense", (10,),
      'Dense(16), BatchNormalization(), Activation("relu"), Dense(3), BatchNormalization()')

    # --- LayerNormalization ----------------------------------------------------------------
    C("ln_rank1", (8,), "LayerNormalization()", inputs="offset")
    C("ln_rank2", (4, 6), "LayerNormalization()", inputs="offset")
    C("ln_long_row", (3, 130), "LayerNormalization()", inputs="offset")
    C("ln_block", (4, 6), "LayerNormalization(axis=(1, 2))", inputs="offset")
    C("ln_block_negative", (3, 4, 5), "LayerNormalization(axis=[-2, -1])", inputs="offset")
    C("ln_mixed_signs", (3, 4, 5), "LayerNormalization(axis=(2, -1))", inputs="offset")
    C("ln_middle_axis", (4, 6), "LayerNormalization(axis=1)", inputs="offset")
    C("ln_middle_rank3", (3, 4, 5), "LayerNormalization(axis=-2)", inputs="offset")
    C("ln_no_center", (4, 6), "LayerNormalization(center=False)")
    C("ln_no_scale", (4, 6), "LayerNormalization(scale=False)")
    C("ln_neither", (4, 6), "LayerNormalization(center=False, scale=False)")
    C("ln_rms", (4, 6), "LayerNormalization(rms_scaling=True)", inputs="offset")
    C("ln_rms_no_scale", (4, 6), "LayerNormalization(scale=False, rms_scaling=True)")
    C("ln_epsilon", (4, 6), "LayerNormalization(epsilon=1e-5)")
    C("ln_positional", (4, 6), "LayerNormalization(-1, 0.01, False, True)")
    C("ln_after_dense", (5, 4),
      'Dense(8), LayerNormalization(), Dense(3, activation="gelu")')

    # --- GroupNormalization ----------------------------------------------------------------
    C("gn_default_groups", (3, 3, 32), "GroupNormalization()", inputs="offset")
    C("gn_groups2", (5, 6), "GroupNormalization(groups=2)", inputs="offset")
    C("gn_groups3_rank3", (3, 4, 6), "GroupNormalization(3)", inputs="offset")
    C("gn_one_group", (6, 4), "GroupNormalization(groups=1)", inputs="offset")
    C("gn_instance", (4, 5), "GroupNormalization(groups=-1)", inputs="offset")
    C("gn_axis1", (6, 3), "GroupNormalization(groups=2, axis=1)", inputs="offset")
    C("gn_axis_middle_rank3", (2, 4, 3), "GroupNormalization(2, -2)", inputs="offset")
    C("gn_no_center", (5, 6), "GroupNormalization(groups=3, center=False)")
    C("gn_no_scale", (5, 6), "GroupNormalization(groups=3, scale=False)")
    C("gn_neither", (5, 6), "GroupNormalization(groups=3, center=False, scale=False)")
    C("gn_epsilon", (5, 6), "GroupNormalization(groups=2, epsilon=0.5)")
    C("gn_many_positions", (16, 16, 8), "GroupNormalization(groups=4)", batch=2, inputs="offset")
    C("gn_after_conv", (6, 6, 2),
      'Conv2D(8, 3), GroupNormalization(groups=4), Activation("relu")', batch=3)

    # --- Normalization ---------------------------------------------------------------------
    C("norm_adapted", (5,), "Normalization()", inputs="offset")
    C("norm_adapted_rank2", (3, 4), "Normalization()", inputs="offset")
    C("norm_adapted_block", (3, 4), "Normalization(axis=(1, 2))", inputs="offset")
    C("norm_adapted_middle", (3, 4), "Normalization(axis=1)", inputs="offset")
    C("norm_adapted_none", (3, 4), "Normalization(axis=None)", inputs="offset")
    C("norm_adapted_invert", (5,), "Normalization(invert=True)")
    C("norm_config", (4,),
      "Normalization(mean=(1.0, -2.0, 0.5, 3.0), variance=(4.0, 0.25, 1.0, 2.0))",
      inputs="offset")
    C("norm_config_rank2", (3, 2), "Normalization(mean=(1.0, -1.0), variance=(2.0, 0.5))")
    C("norm_config_scalar", (3, 4), "Normalization(mean=0.5, variance=2.0)")
    C("norm_config_scalar_none", (3, 4), "Normalization(axis=None, mean=2.0, variance=9.0)")
    C("norm_config_one_value", (3, 4), "Normalization(mean=(1.5,), variance=(0.5,))")
    C("norm_config_middle", (3, 2), "Normalization(axis=1, mean=(1.0, 2.0, 3.0), variance=(1.0, 4.0, 9.0))")
    C("norm_config_invert", (4,),
      "Normalization(mean=(1.0, -2.0, 0.5, 3.0), variance=(4.0, 0.25, 1.0, 2.0), invert=True)")
    C("norm_zero_variance", (3,),
      "Normalization(mean=(0.0, 1.0, 2.0), variance=(0.0, 1e-16, 1.0))")

    # --- Rescaling -------------------------------------------------------------------------
    C("rescale_pixels", (4, 4, 3), "Rescaling(1.0 / 255)", inputs="pixels")
    C("rescale_offset", (4, 4, 3), "Rescaling(scale=1.0 / 127.5, offset=-1)", inputs="pixels")
    C("rescale_negative", (6,), "Rescaling(-2.5, 0.75)")
    C("rescale_then_bn", (4, 4, 3),
      'Rescaling(1.0 / 255), Conv2D(4, 3), BatchNormalization(), Activation("relu")',
      inputs="pixels")
    return out


# --- Saved files for the loader (tests/keras_files_norm.rs) -------------------------------

FILE_SHAPE = (6, 6, 3)
FILE_LAYERS = (
    'Rescaling(1.0 / 4, offset=-0.5), Conv2D(4, 3, padding="same"), BatchNormalization(), '
    'Activation("relu"), Conv2D(6, 3), BatchNormalization(center=False, axis=3), '
    "GroupNormalization(groups=3), LayerNormalization(axis=(1, 2, 3)), Flatten(), Dense(5), "
    "LayerNormalization(rms_scaling=True), Normalization(), "
    "Normalization(mean=(0.5, -0.5, 1.0, 0.0, 2.0), variance=(1.0, 2.0, 0.5, 1.0, 4.0), invert=True)"
)


def gen_files():
    """``tests/fixtures/norm_files/``: one model with every normalization layer, saved by Keras
    as ``.keras``, ``.weights.h5`` and legacy ``.h5``, with its input and Keras's predictions."""
    from pathlib import Path

    import keras

    import gen_fixtures as gf

    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "norm_files"
    out.mkdir(parents=True, exist_ok=True)
    case = gf.Case("norm_file", FILE_SHAPE, FILE_LAYERS, batch=3, inputs="pixels")
    rng = np.random.default_rng(gf._seed("norm_files", case.name))
    model = gf.build_model(case)
    gf.randomise_weights(model, rng)
    x = INPUT_GENERATORS["pixels"](rng, (case.batch, *FILE_SHAPE)).astype(np.float32)
    y = np.asarray(model.predict(x, verbose=0))
    gf._write_if_changed(out / "norm.x.bin", gf._f32_bytes(x))
    gf._write_if_changed(out / "norm.y.bin", gf._f32_bytes(y))
    gf._write_if_changed(out / "norm.w.bin", b"".join(
        gf._f32_bytes(np.asarray(v.numpy())) for v in model.weights))
    model.save(out / "norm.keras")
    model.save_weights(out / "norm.weights.h5")
    model.save(out / "norm.h5")
    print(f"norm_files: {model.count_params()} params, "
          f"{[(v.path, str(v.dtype)) for v in model.weights if 'count' in v.path]}")


EXAMPLES = {"norm_files": gen_files}
