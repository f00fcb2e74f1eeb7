"""The wrappers, Bidirectional and TimeDistributed, for tools/gen_fixtures.py and tools/gen_graphs.py:
the "wrappers" parity suite (Sequential), the "wrappers_graph" suite (functional models with two
outputs, states and masks on both outputs, and Keras's summaries) and the ``wrappers_files``
saved models, all from real Keras.

Imported by gen_fixtures.py and gen_graphs.py (run those, not this one):

    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_fixtures.py wrappers wrappers_files
    KERAS_BACKEND=jax JAX_PLATFORMS=cpu .venv/bin/python tools/gen_graphs.py wrappers_graph

Keras 3.15.1 behaviours the cases pin down:

* Bidirectional forces both layers' ``zero_output_for_mask`` to ``return_sequences`` (masked steps
  of a returned sequence are zeros, whatever the wrapped layer said) and saves it so in the
  config of ``layer`` and ``backward_layer``;
* ``Bidirectional(LSTM(4, go_backwards=True))`` raises (both copies would read backwards); with
  ``backward_layer`` given, the forward layer may read backwards;
* with ``return_sequences`` the backward output is flipped back in time before merging;
* TimeDistributed passes its input's mask on unchanged and gives each step's slice of it to a
  wrapped layer that takes a mask (``TimeDistributed(LSTM(…))`` after a 2-D Embedding).
"""

import json
from pathlib import Path

import numpy as np
import keras

# Layer names the cases use beyond the other families' (added to gen_fixtures.ALLOWED_LAYERS):
# the wrappers, and Keras's other names of the convolution and global pooling classes.
LAYERS = [
    "Bidirectional", "TimeDistributed",
    "Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
    "SeparableConvolution1D", "SeparableConvolution2D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
]

VOCAB = 24


def _ids_grid(rng, shape):
    """Token ids (batch, outer, inner): each inner row padded with 0s after a random number of
    tokens, one inner row all padding, one with none."""
    x = np.zeros(shape, dtype=np.int64)
    batch, outer, inner = shape
    for b in range(batch):
        for o in range(outer):
            n = inner if (b, o) == (0, 0) else 0 if (b, o) == (0, 1) else int(rng.integers(0, inner + 1))
            x[b, o, :n] = rng.integers(1, VOCAB, size=n)
    return x


def _zero_padded(rng, shape):
    """Floats (batch, steps, features) whose trailing steps are all 0 (for Masking()): a random
    number of them per row, none in row 0, all in row 1."""
    x = rng.standard_normal(shape)
    batch, steps = shape[0], shape[1]
    for b in range(batch):
        n = steps if b == 0 else 0 if b == 1 else int(rng.integers(1, steps + 1))
        x[b, n:] = 0.0
    return x


INPUT_GENERATORS = {"ids_grid": _ids_grid, "zero_padded": _zero_padded}


def cases(Case):
    out = []
    C = lambda *a, **k: out.append(Case(*a, **k))  # noqa: E731

    # --- Bidirectional: each cell x every merge mode x return_sequences ----------------------
    cells = [
        ("simple", "SimpleRNN", ""),
        ("lstm", "LSTM", ""),
        ("gru", "GRU", ""),
        ("gru_v1", "GRU", "reset_after=False, "),
    ]
    for name, cls, extra in cells:
        layer = lambda args, units=4: f"{cls}({units}, {extra}{args})".replace(", )", ")")  # noqa: E731
        C(f"bi_{name}_concat", (6, 3), f"Bidirectional({layer('')})")
        C(f"bi_{name}_concat_seq", (6, 3), f"Bidirectional({layer('return_sequences=True')})")
        C(f"bi_{name}_sum_seq", (6, 3),
          f'Bidirectional({layer("return_sequences=True")}, merge_mode="sum")')
        C(f"bi_{name}_mul", (6, 3), f'Bidirectional({layer("")}, merge_mode="mul")')
        C(f"bi_{name}_ave_seq", (6, 3),
          f'Bidirectional({layer("return_sequences=True")}, merge_mode="ave")')
        C(f"bi_{name}_none", (6, 3), f"Bidirectional({layer('')}, merge_mode=None)")
        C(f"bi_{name}_none_seq", (6, 3),
          f"Bidirectional({layer('return_sequences=True')}, merge_mode=None)")
        C(f"bi_{name}_state", (6, 3), f"Bidirectional({layer('return_state=True')})")
        C(f"bi_{name}_seq_state_none", (6, 3),
          f"Bidirectional({layer('return_sequences=True, return_state=True')}, merge_mode=None)")
        C(f"bi_{name}_state_sum", (6, 3),
          f'Bidirectional({layer("return_state=True")}, merge_mode="sum")')
        # 13 steps: not a multiple of the runtime's input-projection chunks.
        C(f"bi_{name}_long", (13, 5),
          f"Bidirectional({layer('return_sequences=True', units=8)})", batch=4)

    # --- the wrapped layer's options ---------------------------------------------------------
    C("bi_lstm_options", (6, 3),
      'Bidirectional(LSTM(5, activation="relu", recurrent_activation="hard_sigmoid", '
      'use_bias=False, return_sequences=True), merge_mode="concat")')
    C("bi_gru_options", (6, 3),
      'Bidirectional(GRU(3, activation="softsign", use_bias=False, reset_after=False), "mul")')
    C("bi_simple_linear", (6, 3),
      'Bidirectional(SimpleRNN(4, activation=None, return_sequences=True), "ave")')
    C("bi_ignored_args", (6, 3),
      'Bidirectional(LSTM(4, dropout=0.5, recurrent_dropout=0.2, unroll=True, '
      'kernel_initializer="zeros", zero_output_for_mask=False), merge_mode="sum", weights=None)')
    C("bi_positional", (6, 3), 'Bidirectional(GRU(4, "tanh", "sigmoid", True), "sum", None, None)')
    C("bi_one_step", (1, 2), "Bidirectional(LSTM(2, return_sequences=True))")

    # --- backward_layer given: another cell, other units, the forward layer reading backwards --
    C("bi_backward_other_cell", (6, 3),
      "Bidirectional(LSTM(4, return_sequences=True), "
      "backward_layer=GRU(3, go_backwards=True, return_sequences=True))")
    C("bi_backward_other_units", (6, 3),
      'Bidirectional(SimpleRNN(2), backward_layer=LSTM(5, go_backwards=True, activation="relu"))')
    C("bi_forward_reads_backwards", (6, 3),
      "Bidirectional(GRU(3, go_backwards=True, return_sequences=True), merge_mode=\"sum\", "
      "backward_layer=GRU(3, return_sequences=True))")
    C("bi_backward_state", (6, 3),
      "Bidirectional(LSTM(3, return_state=True), "
      'backward_layer=LSTM(3, go_backwards=True, return_state=True, activation="relu"))')

    # --- stacks -------------------------------------------------------------------------------
    C("bi_stack", (7, 3),
      'Bidirectional(LSTM(5, return_sequences=True)), Bidirectional(GRU(3), merge_mode="ave"), '
      'Dense(2, activation="softmax")')
    C("bi_then_lstm", (7, 3),
      "Bidirectional(GRU(4, return_sequences=True), merge_mode=\"mul\"), LSTM(3)")
    C("bi_dense_before", (7, 3),
      'Dense(6, activation="tanh"), Bidirectional(SimpleRNN(4, return_sequences=True)), '
      "Flatten(), Dense(3)")

    # --- masks: Embedding(mask_zero=True) and Masking --------------------------------------------
    for cls, short in [("SimpleRNN", "simple"), ("LSTM", "lstm"), ("GRU", "gru")]:
        for pad in ["post", "pre", "mixed"]:
            C(f"bi_mask_{short}_{pad}", (7,),
              f"Embedding(24, 5, mask_zero=True), Bidirectional({cls}(4))", inputs=f"ids_{pad}")
            C(f"bi_mask_{short}_seq_{pad}", (7,),
              f"Embedding(24, 5, mask_zero=True), "
              f"Bidirectional({cls}(4, return_sequences=True), merge_mode=\"sum\")",
              inputs=f"ids_{pad}")
    C("bi_mask_gru_v1_seq", (7,),
      "Embedding(24, 5, mask_zero=True), "
      "Bidirectional(GRU(3, reset_after=False, return_sequences=True))", inputs="ids_mixed")
    C("bi_mask_stack", (7,),
      "Embedding(24, 5, mask_zero=True), Bidirectional(LSTM(4, return_sequences=True)), "
      'Bidirectional(GRU(3), merge_mode="ave"), Dense(2)', inputs="ids_mixed")
    C("bi_mask_seq_then_lstm", (7,),
      "Embedding(24, 5, mask_zero=True), "
      "Bidirectional(SimpleRNN(4, return_sequences=True), merge_mode=\"mul\"), LSTM(3)",
      inputs="ids_pre")
    C("bi_mask_none_seq", (7,),
      "Embedding(24, 5, mask_zero=True), "
      "Bidirectional(LSTM(3, return_sequences=True), merge_mode=None)", inputs="ids_mixed")
    C("bi_mask_state", (7,),
      "Embedding(24, 5, mask_zero=True), Bidirectional(GRU(3, return_state=True))",
      inputs="ids_post")
    C("bi_mask_zero_output_given", (7,),
      "Embedding(24, 5, mask_zero=True), "
      "Bidirectional(LSTM(3, return_sequences=True, zero_output_for_mask=False))",
      inputs="ids_mixed")
    C("bi_mask_backward_given", (7,),
      "Embedding(24, 5, mask_zero=True), Bidirectional(GRU(3, return_sequences=True), "
      "backward_layer=LSTM(2, go_backwards=True, return_sequences=True))", inputs="ids_post")
    C("bi_masking", (6, 3), "Masking(), Bidirectional(LSTM(4, return_sequences=True))",
      inputs="zero_padded")

    # --- TimeDistributed -------------------------------------------------------------------------
    C("td_dense", (5, 3), "TimeDistributed(Dense(4))")
    C("td_dense_relu_rank3", (4, 2, 3), 'TimeDistributed(Dense(5, activation="relu"))', batch=4)
    C("td_dense_no_bias", (5, 3), 'TimeDistributed(Dense(2, use_bias=False, activation="tanh"))')
    C("td_dense_glu", (5, 3), 'TimeDistributed(Dense(6, activation="glu"))')
    C("td_dense_softmax", (5, 3), 'TimeDistributed(Dense(4, activation="softmax"))')
    C("td_conv2d", (3, 6, 5, 2), 'TimeDistributed(Conv2D(4, 3, activation="relu"))', batch=3)
    C("td_conv2d_same_s2", (3, 7, 6, 2),
      'TimeDistributed(Conv2D(3, (3, 2), strides=2, padding="same"))', batch=3)
    C("td_conv1d", (4, 9, 2), 'TimeDistributed(Conv1D(3, 3, padding="causal"))', batch=4)
    C("td_maxpool2d", (3, 6, 5, 2), "TimeDistributed(MaxPooling2D(2))", batch=3,
      inputs="negative")
    C("td_maxpool2d_same", (3, 5, 5, 2), 'TimeDistributed(MaxPooling2D(2, padding="same"))',
      batch=3, inputs="negative")
    C("td_avgpool1d", (4, 7, 3), 'TimeDistributed(AveragePooling1D(2, padding="same"))',
      batch=4)
    C("td_flatten", (3, 4, 2), "TimeDistributed(Flatten())", batch=4)
    C("td_flatten_rank4", (3, 2, 3, 2), "TimeDistributed(Flatten()), Dense(3)", batch=3)
    C("td_batchnorm", (5, 4), "TimeDistributed(BatchNormalization())")
    C("td_batchnorm_image", (3, 4, 4, 3),
      "TimeDistributed(BatchNormalization(epsilon=0.01, center=False))", batch=3)
    C("td_activation", (5, 4), 'TimeDistributed(Activation("gelu"))')
    C("td_dropout", (5, 4), "TimeDistributed(Dropout(0.5)), Dense(2)")
    C("td_reshape", (4, 6), "TimeDistributed(Reshape((2, 3))), TimeDistributed(Flatten())")
    C("td_global_pool", (3, 5, 4, 2), "TimeDistributed(GlobalAveragePooling2D())", batch=3)
    C("td_lstm", (3, 5, 2), "TimeDistributed(LSTM(4))", batch=4)
    C("td_gru_seq", (3, 5, 2), "TimeDistributed(GRU(3, return_sequences=True))", batch=4)
    C("td_bidirectional", (3, 5, 2), "TimeDistributed(Bidirectional(LSTM(3)))", batch=4)
    C("td_nested", (3, 2, 4), "TimeDistributed(TimeDistributed(Dense(3)))", batch=4)
    C("td_aliases", (3, 6, 6, 2),
      "TimeDistributed(Convolution2D(3, 3)), TimeDistributed(MaxPool2D()), "
      "TimeDistributed(GlobalMaxPool2D())", batch=3)
    C("td_cnn_lstm", (4, 6, 6, 1),
      'TimeDistributed(Conv2D(4, 3, activation="relu")), TimeDistributed(MaxPooling2D(2)), '
      'TimeDistributed(Flatten()), LSTM(5), Dense(3, activation="softmax")', batch=3)
    C("td_then_bi", (6, 3),
      'TimeDistributed(Dense(5, activation="tanh")), Bidirectional(LSTM(4, return_sequences=True)), '
      "TimeDistributed(Dense(2))")
    # Masks through TimeDistributed: passed on to an LSTM, and given by slice to a wrapped LSTM.
    C("td_mask_passes", (7,),
      'Embedding(24, 5, mask_zero=True), TimeDistributed(Dense(4, activation="relu")), LSTM(3)',
      inputs="ids_mixed")
    C("td_mask_bi", (7,),
      "Embedding(24, 5, mask_zero=True), TimeDistributed(Dense(4)), "
      "Bidirectional(GRU(3, return_sequences=True)), TimeDistributed(Dense(2))",
      inputs="ids_post")
    C("td_mask_by_slice", (3, 5),
      "Embedding(24, 4, mask_zero=True), TimeDistributed(LSTM(3))", batch=4, inputs="ids_grid")
    C("td_mask_by_slice_bi", (3, 5),
      "Embedding(24, 4, mask_zero=True), "
      "TimeDistributed(Bidirectional(GRU(2, return_sequences=True), merge_mode=\"sum\"))",
      batch=4, inputs="ids_grid")
    return out


def graph_cases(Case):
    """Functional models: several outputs of one Bidirectional call, masks on both outputs of
    `merge_mode=None`, states used downstream, and the automatic names of the wrapped layers
    (their summaries are compared with Keras's)."""
    return [
        Case("bi_two_outputs", """
            x = Input(shape=(6, 3));
            out_f, out_b = Bidirectional(LSTM(4), merge_mode=None)(x);
            model = Model(x, [out_f, out_b])"""),
        Case("bi_states_downstream", """
            x = Input(shape=(6, 3));
            y, fh, fc, bh, bc = Bidirectional(LSTM(3, return_sequences=True, return_state=True))(x);
            h = Concatenate()([fh, bh]);
            c = Add()([fc, bc]);
            z = Dense(2)(Concatenate()([h, c]));
            model = Model(x, [GRU(2)(y), z])"""),
        Case("bi_gru_states_separate", """
            x = Input(shape=(5, 2));
            f, b, fh, bh = Bidirectional(GRU(3, return_sequences=True, return_state=True),
                                         merge_mode=None)(x);
            model = Model(x, [Add()([f, b]), Multiply()([fh, bh])])"""),
        # A float input beside the ids: graph fixtures store every input as float32, which a
        # model whose only input is token ids would read as integers. Keras's summary lists the
        # mask's NotEqual operation as a layer, so only the outputs are compared.
        Case("bi_masks_on_both_outputs", """
            ids = Input(shape=(7,), dtype="int32", name="ids");
            feats = Input(shape=(2,), name="feats");
            e = Embedding(24, 5, mask_zero=True)(ids);
            f, b = Bidirectional(LSTM(3, return_sequences=True), merge_mode=None)(e);
            g = Concatenate()([GRU(2)(b), Dense(2)(feats)]);
            model = Model([ids, feats], [LSTM(2)(f), g])""", ids={"ids": 24}, summary=False),
        Case("wrapped_names", """
            x = Input(shape=(6, 3));
            y = TimeDistributed(Dense(4))(x);
            y = Dense(4)(y);
            y = Bidirectional(LSTM(3, return_sequences=True))(y);
            y = LSTM(2)(y);
            model = Model(x, Dense(2)(y))"""),
        Case("wrapped_named", """
            x = Input(shape=(6, 3));
            y = TimeDistributed(Dense(4, name="inner"), name="td")(x);
            y = Bidirectional(GRU(3, name="rnn"), backward_layer=GRU(3, go_backwards=True))(y);
            model = Model(x, Dense(2)(y))"""),
        # Trainable and non-trainable counts of the summaries: the wrapped layer's
        # trainable=False freezes, the wrapper's own does not (Keras 3.15.1).
        Case("wrapped_trainable", """
            x = Input(shape=(5, 3));
            y = TimeDistributed(Dense(4, trainable=False))(x);
            y = TimeDistributed(Dense(4), trainable=False)(y);
            y = Bidirectional(GRU(3, trainable=False), merge_mode="sum")(y);
            model = Model(x, Dense(2)(y))"""),
        Case("td_shared", """
            a = Input(shape=(4, 3));
            b = Input(shape=(4, 3));
            td = TimeDistributed(Dense(2, activation="tanh"));
            model = Model([a, b], Concatenate()([td(a), td(b)]))"""),
    ]


def _bidirectional_grads_cases(Case):
    """Bidirectional: each cell x every merge mode but None x return_sequences both ways; masks
    (the backward layer reads them by time), return_state, a given backward_layer, dropout 0."""
    out = []
    cells = [
        ("simple", "SimpleRNN(3{})"),
        ("lstm", "LSTM(3{})"),
        ("gru", "GRU(3{})"),
        ("gru_v1", "GRU(3, reset_after=False{})"),
    ]
    for cell, layer in cells:
        for mode in ["concat", "sum", "mul", "ave"]:
            for seq in [False, True]:
                inner = layer.format(", return_sequences=True" if seq else "")
                head = "Dense(2)(Flatten()(h))" if seq else "Dense(2)(h)"
                out.append(Case(f"bi_{cell}_{mode}{'_seq' if seq else ''}", f"""
            x = Input(shape=(5, 4));
            h = Bidirectional({inner}, merge_mode="{mode}")(x);
            model = Model(x, {head})"""))
    out += [
        Case("bi_lstm_mask_seq", """
            x = Input(shape=(8,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = Bidirectional(LSTM(3, return_sequences=True))(h);
            model = Model(x, Dense(2)(h))""", inputs="ids:8:pad"),
        Case("bi_gru_mask_last_mul", """
            x = Input(shape=(8,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            h = Bidirectional(GRU(3), merge_mode="mul")(h);
            model = Model(x, Dense(2)(h))""", inputs="ids:8:pad"),
        Case("bi_simple_masking_sum", """
            x = Input(shape=(6, 3));
            h = Masking()(x);
            h = Bidirectional(SimpleRNN(4, return_sequences=True), merge_mode="sum")(h);
            model = Model(x, Dense(2)(GlobalAveragePooling1D()(h)))""", inputs="masked"),
        Case("bi_lstm_return_state", """
            x = Input(shape=(5, 4));
            o, hf, cf, hb, cb = Bidirectional(LSTM(3, return_state=True))(x);
            model = Model(x, Dense(2)(Concatenate()([o, hf, cf, hb, cb])))"""),
        Case("bi_gru_return_state_seq_mask", """
            x = Input(shape=(8,), dtype="int32");
            h = Embedding(8, 3, mask_zero=True)(x);
            s, hf, hb = Bidirectional(GRU(3, return_sequences=True, return_state=True), merge_mode="ave")(h);
            model = Model(x, Dense(2)(Concatenate()([GlobalAveragePooling1D()(s), hf, hb])))""",
             inputs="ids:8:pad"),
        Case("bi_backward_layer", """
            x = Input(shape=(5, 4));
            h = Bidirectional(LSTM(3, return_sequences=True), backward_layer=GRU(3, return_sequences=True, go_backwards=True))(x);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        Case("bi_stacked_cce", """
            x = Input(shape=(5, 4));
            h = Bidirectional(GRU(3, return_sequences=True), merge_mode="concat")(x);
            h = Bidirectional(SimpleRNN(3, activation="relu"), merge_mode="ave")(h);
            model = Model(x, Dense(3, activation="softmax")(h))""", loss="cce", targets="probs"),
    ]
    return out


def grads_cases(Case):
    """Gradient parity of the wrappers (tools/gen_grads.py, suite ``grads_wrappers``):
    TimeDistributed's wrapped layer's gradients summed over the steps, through nesting, sharing
    and freezing; Bidirectional's two layers through every merge mode but None."""
    return _bidirectional_grads_cases(Case) + [
        Case("td_dense", """
            x = Input(shape=(4, 5));
            h = TimeDistributed(Dense(3, activation="tanh"))(x);
            model = Model(x, TimeDistributed(Dense(2))(h))"""),
        Case("td_dense_rank3", """
            x = Input(shape=(3, 2, 4));
            h = TimeDistributed(Dense(5, activation="relu"))(x);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        Case("td_flatten_reshape", """
            x = Input(shape=(3, 2, 3));
            h = TimeDistributed(Dense(4, activation="sigmoid"))(TimeDistributed(Flatten())(x));
            h = TimeDistributed(Reshape((2, 2)))(h);
            model = Model(x, Dense(2)(Flatten()(h)))"""),
        Case("td_activation_dropout", """
            x = Input(shape=(4, 3));
            h = TimeDistributed(Activation("gelu"))(TimeDistributed(Dense(5))(x));
            h = TimeDistributed(Dropout(0.0))(h);
            model = Model(x, TimeDistributed(Dense(2, use_bias=False))(h))"""),
        Case("td_nested", """
            x = Input(shape=(3, 2, 4));
            h = TimeDistributed(TimeDistributed(Dense(3, activation="softplus")))(x);
            model = Model(x, Dense(2)(h))"""),
        Case("td_shared", """
            x = Input(shape=(3, 4));
            td = TimeDistributed(Dense(4, activation="tanh"));
            model = Model(x, Dense(2)(td(td(x))))"""),
        # The wrapped layer's trainable=False freezes it; the wrapper's own, given to its
        # constructor, does not in Keras 3.15.1 (its variables stay in trainable_variables).
        Case("td_frozen", """
            x = Input(shape=(3, 4));
            h = TimeDistributed(Dense(5, activation="elu", trainable=False))(x);
            model = Model(x, TimeDistributed(Dense(2))(h))"""),
        Case("td_wrapper_trainable_false", """
            x = Input(shape=(3, 4));
            h = TimeDistributed(Dense(5, activation="elu"), trainable=False)(x);
            model = Model(x, TimeDistributed(Dense(2))(h))"""),
        Case("td_softmax_cce", """
            x = Input(shape=(4, 6));
            h = TimeDistributed(Dense(5, activation="tanh"))(x);
            model = Model(x, TimeDistributed(Dense(3, activation="softmax"))(h))""",
             loss="cce", targets="probs"),
        Case("td_merge", """
            x = Input(shape=(3, 4));
            a = TimeDistributed(Dense(4))(x);
            b = TimeDistributed(Dense(4, activation="relu"))(x);
            model = Model(x, TimeDistributed(Dense(1))(Add()([a, b])))""", loss="mae"),
    ]


# ------------------------------------------------------------------------------------------
# Saved files: .keras, .weights.h5 and legacy .h5 of models with both wrappers
# ------------------------------------------------------------------------------------------

FILES_SEED = 31
# name -> (input shape, input dtype, layer string); the same strings declare the models in
# tests/keras_files_wrappers.rs.
FILE_MODELS = {
    "wrappers_seq": ((7,), "int32",
                     "Embedding(24, 5, mask_zero=True), "
                     "Bidirectional(LSTM(4, return_sequences=True)), "
                     'TimeDistributed(Dense(3, activation="tanh")), '
                     'Bidirectional(GRU(3, reset_after=False), merge_mode="sum", '
                     "backward_layer=GRU(3, reset_after=False, go_backwards=True)), "
                     "Dense(2)"),
    "wrappers_cnn": ((3, 6, 6, 2), "float32",
                     'TimeDistributed(Conv2D(3, 3, activation="relu")), '
                     "TimeDistributed(BatchNormalization()), "
                     "TimeDistributed(MaxPooling2D(2)), TimeDistributed(Flatten()), "
                     'Bidirectional(SimpleRNN(4), merge_mode="ave"), Dense(2)'),
}

# A stateful Bidirectional fed a stream chunk by chunk (predict_stateful).
STREAM_CHUNK, STREAM_CHUNKS, STREAM_FEATURES = 4, 3, 3


def gen_files():
    import gen_norm

    out = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "wrappers_files"
    out.mkdir(parents=True, exist_ok=True)
    L = keras.layers
    names = LAYERS + ["Embedding", "LSTM", "GRU", "SimpleRNN", "Dense", "Conv2D",
                      "BatchNormalization", "MaxPooling2D", "Flatten"]
    namespace = {"__builtins__": {}, "None": None, **{n: getattr(L, n) for n in names}}
    manifest = {"keras_version": keras.__version__, "models": {}}
    for name, (shape, dtype, text) in FILE_MODELS.items():
        rng = np.random.default_rng([FILES_SEED, len(name), sum(map(ord, name))])
        keras.backend.clear_session()
        model = keras.Sequential(
            [keras.Input(shape, dtype=dtype)] + eval("[" + text + "]", namespace),  # noqa: S307
            name=name,
        )
        for v in model.weights:
            if not gen_norm.weight_hook(v, rng):
                v.assign((rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32))
        if dtype == "int32":
            x = _ids_mixed(rng, (4, *shape))
            (out / f"{name}.x.bin").write_bytes(x.astype("<u4").tobytes())
        else:
            x = rng.standard_normal((4, *shape)).astype(np.float32)
            (out / f"{name}.x.bin").write_bytes(x.astype("<f4").tobytes())
        y = np.asarray(model.predict(x, verbose=0), dtype=np.float32)
        (out / f"{name}.y.bin").write_bytes(y.astype("<f4").tobytes())
        (out / f"{name}.w.bin").write_bytes(
            b"".join(np.asarray(v.numpy(), dtype="<f4").tobytes() for v in model.weights))
        model.save(out / f"{name}.keras")
        model.save_weights(out / f"{name}.weights.h5")
        model.save(out / f"{name}.h5")
        manifest["models"][name] = {
            "input_shape": list(shape), "input_dtype": dtype, "output_shape": list(y.shape[1:]),
            "layers": text, "params": int(model.count_params()),
            "weights": [{"path": v.path, "shape": [int(d) for d in v.shape]}
                        for v in model.weights],
        }
        print(f"wrappers_files: {name} ({model.count_params()} params) -> {out.name}")

    # The stream: Keras's stateful model on chunks, and the same weights on the whole stream
    # (whose forward half must end where the chunks' does).
    rng = np.random.default_rng([FILES_SEED, 99])
    keras.backend.clear_session()
    chunked = keras.Sequential([
        keras.Input(batch_shape=(1, STREAM_CHUNK, STREAM_FEATURES)),
        L.Bidirectional(L.GRU(4, return_sequences=True, stateful=True)),
        L.Bidirectional(L.LSTM(3, stateful=True), merge_mode="sum"),
    ], name="stream")
    for v in chunked.weights:
        v.assign((rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32))
    stream = rng.standard_normal((1, STREAM_CHUNK * STREAM_CHUNKS, STREAM_FEATURES))
    stream = stream.astype(np.float32)
    per_chunk = np.stack([
        np.asarray(chunked(stream[:, k * STREAM_CHUNK:(k + 1) * STREAM_CHUNK], training=False))[0]
        for k in range(STREAM_CHUNKS)
    ]).astype(np.float32)
    (out / "stream.w.bin").write_bytes(
        b"".join(np.asarray(v.numpy(), dtype="<f4").tobytes() for v in chunked.weights))
    (out / "stream.x.bin").write_bytes(stream.astype("<f4").tobytes())
    (out / "stream.y.bin").write_bytes(per_chunk.astype("<f4").tobytes())
    manifest["stream"] = {"chunk": STREAM_CHUNK, "chunks": STREAM_CHUNKS,
                          "features": STREAM_FEATURES, "params": int(chunked.count_params())}
    print(f"wrappers_files: stream of {STREAM_CHUNKS} chunks ({chunked.count_params()} params)")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _ids_mixed(rng, shape):
    """Zeros anywhere (about a third), a row with no padding and an all-padding row."""
    x = rng.integers(1, VOCAB, size=shape)
    x[rng.random(shape) < 0.35] = 0
    x[0, :] = rng.integers(1, VOCAB, size=shape[1])
    x[1, :] = 0
    return x


EXAMPLES = {"wrappers_files": gen_files}
