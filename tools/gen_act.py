"""Activation layers, shape/identity layers, Masking and the Keras class aliases for
tools/gen_fixtures.py: the "act" parity suite and the ``act_files`` saved models, all from real
Keras.

Imported by gen_fixtures.py (run that script, not this one):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_fixtures.py act act_files

Layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, RepeatVector, Permute, Masking, Identity,
SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout, and the aliases
``keras.layers`` exports for the seed layers (Convolution1D/2D/3D, MaxPool1D/2D/3D,
AvgPool1D/2D/3D: the same class objects as Conv1D, MaxPooling1D, ...).
"""

import json
from pathlib import Path

import numpy as np
import keras

LAYERS = [
    "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "RepeatVector", "Permute", "Masking",
    "Identity", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
    "GaussianDropout", "AlphaDropout",
    "Convolution1D", "Convolution2D", "Convolution3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D",
]


def _padded(rng, shape, pattern, value):
    """Normal values whose padding positions (every axis but the last) are all ``value``:
    ``post``/``pre`` pad each row after/before a random number of real steps (row 0 none, row 1
    all but one, row 2 everything), ``mixed`` pads about a third of the positions anywhere (row 0
    none, row 1 everything). About a fifth of the single values of real positions equal
    ``value`` too: a position is padding only when all its features are."""
    batch, features = shape[0], shape[-1]
    x = rng.standard_normal(shape)
    flat = x.reshape(batch, -1, features)
    steps = flat.shape[1]
    flat[rng.random(flat.shape) < 0.2] = value
    for b in range(batch):
        if pattern == "mixed":
            pad = rng.random(steps) < 0.35
            if b < 2:
                pad[:] = b == 1
        else:
            real = steps if b == 0 else 1 if b == 1 else 0 if b == 2 else int(rng.integers(0, steps + 1))
            pad = np.arange(steps) >= real
            if pattern == "pre":
                pad = pad[::-1]
        flat[b, pad] = value
    # A real position whose features are all the mask value but one.
    if steps > 1 and features > 1:
        flat[0, 0, 1:] = value
        flat[0, 0, 0] = value + 0.75
    return x


INPUT_GENERATORS = {
    f"act_pad{tag}_{pattern}": (lambda p, v: lambda rng, shape: _padded(rng, shape, p, v))(pattern, value)
    for tag, value in [("0", 0.0), ("m1", -1.0)]
    for pattern in ["post", "pre", "mixed"]
}


def cases(Case):
    out = []
    C = lambda *a, **k: out.append(Case(*a, **k))  # noqa: E731

    # --- ReLU: every argument, alone and combined, positional and by keyword ------------------
    C("relu_default", (40,), "ReLU()", inputs="act")
    C("relu6_positional", (40,), "ReLU(6.0)", inputs="act")
    C("relu6_int", (40,), "ReLU(6)", inputs="act")
    C("relu_max", (40,), "ReLU(max_value=2.5)", inputs="act")
    C("relu_slope", (40,), "ReLU(negative_slope=0.1)", inputs="act")
    C("relu_threshold", (40,), "ReLU(threshold=1.5)", inputs="act")
    C("relu_all_three", (40,), "ReLU(max_value=4.0, negative_slope=0.2, threshold=1.0)",
      inputs="act")
    C("relu_max_below_threshold", (40,), "ReLU(max_value=0.5, threshold=2.0)", inputs="act")
    C("relu_max_zero_slope", (40,), "ReLU(max_value=0.0, negative_slope=0.3)", inputs="act")
    C("relu_positional_pair", (40,), "ReLU(6, 0.25)", inputs="act")
    C("relu_slope_threshold", (40,), "ReLU(negative_slope=0.5, threshold=3.0)", inputs="act")
    C("relu_explicit_defaults", (40,),
      "ReLU(max_value=None, negative_slope=0.0, threshold=0.0)", inputs="act")
    C("relu_rank3", (2, 3, 4), "ReLU(max_value=6.0)", batch=4, inputs="act")
    C("relu_between_dense", (6,), "Dense(8), ReLU(6.0), Dense(3)")

    # --- LeakyReLU ---------------------------------------------------------------------------
    C("leaky_default", (40,), "LeakyReLU()", inputs="act")
    C("leaky_positional", (40,), "LeakyReLU(0.1)", inputs="act")
    C("leaky_alpha_legacy", (40,), "LeakyReLU(alpha=0.05)", inputs="act")
    C("leaky_zero_slope", (40,), "LeakyReLU(negative_slope=0.0)", inputs="act")
    C("leaky_rank2", (5, 4), "LeakyReLU(negative_slope=1.5)", inputs="act")

    # --- PReLU: one slope per value, or shared along every combination of axes ----------------
    C("prelu_rank1", (10,), "PReLU()", inputs="act")
    C("prelu_rank2", (5, 4), "PReLU()", inputs="act")
    C("prelu_rank2_shared1", (5, 4), "PReLU(shared_axes=1)", inputs="act")
    C("prelu_rank3", (4, 5, 3), "PReLU()", batch=4, inputs="act")
    C("prelu_rank3_shared12", (4, 5, 3), "PReLU(shared_axes=[1, 2])", batch=4, inputs="act")
    C("prelu_rank3_shared3", (4, 5, 3), "PReLU(shared_axes=[3])", batch=4, inputs="act")
    C("prelu_rank3_shared23", (4, 5, 3), "PReLU(shared_axes=(2, 3))", batch=4, inputs="act")
    C("prelu_rank3_shared13", (4, 5, 3), "PReLU(shared_axes=[1, 3])", batch=4, inputs="act")
    C("prelu_rank3_all", (2, 3, 4), "PReLU(shared_axes=[1, 2, 3])", batch=4, inputs="act")
    C("prelu_rank4_shared123", (3, 4, 2, 3), "PReLU(shared_axes=[1, 2, 3])", batch=3,
      inputs="act")
    C("prelu_rank4_shared2", (3, 4, 2, 3), "PReLU(shared_axes=[2])", batch=3, inputs="act")
    C("prelu_ignored_args", (6,),
      'PReLU(alpha_initializer="ones", alpha_regularizer=None, alpha_constraint=None)',
      inputs="act")
    C("prelu_after_conv", (6, 6, 2),
      "Conv2D(4, 3), PReLU(shared_axes=[1, 2]), Flatten(), Dense(3)", batch=4)

    # --- ELU -----------------------------------------------------------------------------------
    C("elu_default", (40,), "ELU()", inputs="act")
    C("elu_positional", (40,), "ELU(0.5)", inputs="act")
    C("elu_alpha", (40,), "ELU(alpha=2.5)", inputs="act")
    C("elu_rank3", (2, 3, 4), "ELU(alpha=0.1)", batch=4, inputs="act")

    # --- Softmax: the last axis, any other axis, tuples of contiguous or separate axes --------
    C("softmax_default", (4, 10), "Softmax()", inputs="act")
    C("softmax_rank1", (10,), "Softmax()", inputs="act")
    C("softmax_rank1_axis1", (10,), "Softmax(axis=1)", inputs="act")
    C("softmax_axis1", (4, 10), "Softmax(axis=1)", inputs="act")
    C("softmax_axis_neg2", (4, 10), "Softmax(-2)", inputs="act")
    C("softmax_rank3_axis1", (3, 4, 5), "Softmax(axis=1)", batch=4, inputs="act")
    C("softmax_rank3_axis2", (3, 4, 5), "Softmax(axis=2)", batch=4, inputs="act")
    C("softmax_tuple_one", (3, 4, 5), "Softmax(axis=(2,))", batch=4, inputs="act")
    C("softmax_tuple_12", (3, 4, 5), "Softmax(axis=(1, 2))", batch=4, inputs="act")
    C("softmax_tuple_23", (3, 4, 5), "Softmax(axis=(2, 3))", batch=4, inputs="act")
    C("softmax_list_13", (3, 4, 5), "Softmax(axis=[1, 3])", batch=4, inputs="act")
    C("softmax_tuple_negative", (3, 4, 5), "Softmax(axis=(-1, 1))", batch=4, inputs="act")
    C("softmax_all_axes", (2, 3, 4), "Softmax(axis=(1, 2, 3))", batch=4, inputs="act")
    C("softmax_rank4", (2, 3, 2, 3), "Softmax(axis=(1, 3))", batch=3, inputs="act")
    C("softmax_overflow", (4, 10), "Softmax()", inputs="overflow")
    C("softmax_overflow_tuple", (4, 10), "Softmax(axis=(1, 2))", inputs="overflow")

    # --- RepeatVector and Permute -------------------------------------------------------------
    C("repeat_vector", (5,), "RepeatVector(3)")
    C("repeat_vector_one", (3,), "RepeatVector(1)")
    C("repeat_then_lstm", (4,), "Dense(6), RepeatVector(5), LSTM(3, return_sequences=True)")
    C("lstm_repeat_gru", (6, 3), "LSTM(4), RepeatVector(3), GRU(2, return_sequences=True)")
    for dims in ["(2, 1)", "(1, 2)", "[2, 1]"]:
        tag = "".join(c for c in dims if c.isdigit())
        C(f"permute_rank2_{tag}" + ("_list" if dims[0] == "[" else ""), (3, 5), f"Permute({dims})")
    for dims in ["(1, 2, 3)", "(1, 3, 2)", "(2, 1, 3)", "(2, 3, 1)", "(3, 1, 2)", "(3, 2, 1)"]:
        tag = "".join(c for c in dims if c.isdigit())
        C(f"permute_rank3_{tag}", (4, 3, 2), f"Permute({dims})", batch=4)
    C("permute_size_one", (4, 3, 1), "Permute((3, 1, 2))", batch=4)
    C("permute_rank4", (2, 3, 4, 5), "Permute((4, 2, 1, 3))", batch=3)
    C("permute_rank1", (6,), "Permute((1,))")
    C("permute_then_dense", (3, 5), "Permute((2, 1)), Dense(4)")
    C("permute_then_conv1d", (6, 4), "Permute((2, 1)), Conv1D(2, 3)")

    # --- Masking in front of the recurrent layers (padded steps: post, pre, anywhere) ---------
    C("masking_alone", (6, 3), "Masking()", inputs="act_pad0_mixed")
    C("masking_value", (6, 3), "Masking(mask_value=-1.0)", inputs="act_padm1_mixed")
    C("masking_positional", (6, 3), "Masking(-1)", inputs="act_padm1_post")
    C("masking_rank1", (5,), "Masking(), Dense(3)", inputs="act_pad0_mixed")
    C("masking_rank3", (3, 4, 2), "Masking()", batch=4, inputs="act_pad0_mixed")
    for cls, short in [("SimpleRNN", "simple"), ("LSTM", "lstm"), ("GRU", "gru")]:
        for pad in ["post", "pre", "mixed"]:
            C(f"masking_{short}_{pad}", (7, 3), f"Masking(), {cls}(4)", inputs=f"act_pad0_{pad}")
        C(f"masking_{short}_seq", (7, 3), f"Masking(), {cls}(4, return_sequences=True)",
          inputs="act_pad0_mixed")
        C(f"masking_{short}_value_back", (7, 3),
          f"Masking(-1.0), {cls}(3, go_backwards=True, return_sequences=True)",
          inputs="act_padm1_mixed")
    C("masking_gru_v1_seq", (7, 3), "Masking(), GRU(4, reset_after=False, return_sequences=True)",
      inputs="act_pad0_pre")
    C("masking_dense_lstm", (7, 3), 'Masking(), Dense(5, activation="relu"), LSTM(3)',
      inputs="act_pad0_mixed")
    C("masking_activations_rnn", (7, 3),
      "Masking(), ReLU(), PReLU(), LeakyReLU(), ELU(), SimpleRNN(3, return_sequences=True)",
      inputs="act_pad0_mixed")
    C("masking_identities_gru", (7, 3),
      "Masking(), SpatialDropout1D(0.2), GaussianNoise(0.1), Identity(), GaussianDropout(0.3), "
      "AlphaDropout(0.1), GRU(3, return_sequences=True)", inputs="act_pad0_post")
    C("masking_stack", (7, 3), "Masking(), LSTM(5, return_sequences=True), GRU(3)",
      inputs="act_pad0_mixed")
    C("masking_zero_output", (7, 3),
      "Masking(), GRU(3, return_sequences=True, zero_output_for_mask=True)",
      inputs="act_pad0_mixed")
    C("masking_lstm_state", (7, 3), "Masking(), LSTM(4, return_state=True)",
      inputs="act_pad0_post")
    C("masking_permute_drops", (7, 3), "Masking(), Permute((2, 1)), LSTM(3)",
      inputs="act_pad0_mixed")
    C("masking_conv_drops", (7, 3), "Masking(), Conv1D(4, 2), LSTM(3)", inputs="act_pad0_mixed")
    C("masking_twice", (7, 3), "Masking(), Dense(3), Masking(0.5), LSTM(3)",
      inputs="act_pad0_mixed")

    # --- the identities at inference ----------------------------------------------------------
    C("spatial_dropout1d", (6, 4), "SpatialDropout1D(0.3)")
    C("spatial_dropout1d_seed", (6, 4), "Dense(4), SpatialDropout1D(0.5, seed=3), Dense(2)")
    C("spatial_dropout2d", (4, 5, 3), "SpatialDropout2D(0.2)", batch=4)
    C("spatial_dropout2d_args", (4, 5, 3),
      'SpatialDropout2D(0.2, data_format="channels_last", seed=7)', batch=4)
    C("spatial_dropout3d", (2, 3, 4, 2), "SpatialDropout3D(0.5, seed=1)", batch=3)
    C("gaussian_noise", (8,), "Dense(6), GaussianNoise(0.5), Dense(2)")
    C("gaussian_noise_stddev_one", (8,), "GaussianNoise(1.0, seed=2)")
    C("gaussian_dropout", (8,), "Dense(6), GaussianDropout(0.4), Dense(2)")
    C("alpha_dropout", (3, 4), "AlphaDropout(0.2, noise_shape=(None, 1, 4), seed=5)")
    C("alpha_dropout_selu", (8,), 'Dense(6, activation="selu"), AlphaDropout(0.1), Dense(2)')
    C("identity", (8,), "Identity()")
    C("identity_chain", (8,), "Dense(4), Identity(), Identity(), Dense(2)")
    C("only_identities", (6, 4), "Identity(), SpatialDropout1D(0.1), GaussianNoise(0.2)")

    # --- the Keras aliases of the seed layers --------------------------------------------------
    C("alias_convolution1d", (9, 3), 'Convolution1D(4, 3, padding="causal")', batch=3)
    C("alias_convolution2d", (6, 6, 2), 'Convolution2D(3, 3, activation="relu")', batch=3)
    C("alias_convolution3d", (4, 4, 4, 1), "Convolution3D(2, 2)", batch=3)
    C("alias_maxpool1d", (9, 3), "MaxPool1D()", batch=3, inputs="negative")
    C("alias_maxpool2d", (7, 6, 2), 'MaxPool2D(2, padding="same")', batch=3, inputs="negative")
    C("alias_maxpool3d", (4, 4, 4, 2), "MaxPool3D(pool_size=2, strides=1)", batch=3)
    C("alias_avgpool1d", (9, 3), "AvgPool1D(2)", batch=3)
    C("alias_avgpool2d", (7, 6, 2), 'AvgPool2D((2, 3), padding="same")', batch=3)
    C("alias_avgpool3d", (4, 4, 4, 2), "AvgPool3D(2)", batch=3)
    C("alias_mixed_stack", (8, 8, 1),
      'Convolution2D(4, 3, padding="same"), MaxPool2D(2), Conv2D(4, 3), '
      'AvgPool2D(2, padding="same"), Flatten(), Dense(3)', batch=3)

    # --- small models mixing the new layers ---------------------------------------------------
    C("mobilenet_like", (8, 8, 3),
      'Conv2D(8, 3, padding="same"), ReLU(6.0), Conv2D(8, 1), PReLU(shared_axes=[1, 2]), '
      "MaxPool2D(2), SpatialDropout2D(0.1), Flatten(), Dense(4), Softmax()", batch=4)
    C("seq2seq_like", (5, 3),
      "LSTM(6), RepeatVector(4), LSTM(5, return_sequences=True), Permute((2, 1)), Dense(3), "
      "Softmax(axis=1)", batch=4)
    return out


# ------------------------------------------------------------------------------------------
# Saved files: every layer of the family in .keras, .weights.h5 and legacy .h5
# ------------------------------------------------------------------------------------------

FILES_SEED = 23
# name -> (input shape, layer string); the same strings declare the models in
# tests/keras_files_act.rs.
FILE_MODELS = {
    "act_seq": ((6, 3),
                "Masking(mask_value=-1.0), Dense(8), PReLU(shared_axes=[1]), LeakyReLU(0.2), "
                "ELU(0.5), ReLU(4.0, 0.1, 0.5), SpatialDropout1D(0.2), GaussianNoise(0.1), "
                "GaussianDropout(0.2), AlphaDropout(0.1), LSTM(5), RepeatVector(3), "
                "Permute((2, 1)), Softmax(axis=1), Identity()"),
    "act_cnn": ((6, 6, 2),
                'Convolution2D(4, 3, padding="same"), PReLU(shared_axes=[1, 2]), MaxPool2D(2), '
                "SpatialDropout2D(0.1), AvgPool2D(1), Flatten(), Dense(6), "
                "Softmax(axis=(1,)), Identity()"),
}


def gen_files():
    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "act_files"
    out.mkdir(parents=True, exist_ok=True)
    L = keras.layers
    namespace = {"__builtins__": {}, **{n: getattr(L, n) for n in LAYERS + ["Dense", "LSTM", "Flatten"]}}
    manifest = {"keras_version": keras.__version__, "models": {}}
    for name, (shape, text) in FILE_MODELS.items():
        rng = np.random.default_rng([FILES_SEED, len(name), sum(map(ord, name))])
        keras.backend.clear_session()
        model = keras.Sequential(
            [keras.Input(shape)] + eval("[" + text + "]", namespace), name=name  # noqa: S307
        )
        for v in model.weights:
            v.assign((rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32))
        x = rng.standard_normal((4, *shape)).astype(np.float32)
        if name == "act_seq":
            x[1, 3:] = -1.0  # padded steps for the Masking layer
            x[2, :2] = -1.0
        y = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
        (out / f"{name}.x.bin").write_bytes(x.astype("<f4").tobytes())
        (out / f"{name}.y.bin").write_bytes(y.astype("<f4").tobytes())
        model.save(out / f"{name}.keras")
        model.save_weights(out / f"{name}.weights.h5")
        model.save(out / f"{name}.h5")
        manifest["models"][name] = {
            "input_shape": list(shape), "output_shape": list(y.shape[1:]), "layers": text,
            "params": int(model.count_params()),
            "weights": [{"path": v.path, "shape": [int(d) for d in v.shape]}
                        for v in model.weights],
        }
        print(f"act_files: {name} ({model.count_params()} params) -> {out.name}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


EXAMPLES = {"act_files": gen_files}
