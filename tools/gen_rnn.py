"""Recurrent layers and Embedding for tools/gen_fixtures.py: the "rnn" parity suite and the
``sentiment`` and ``streaming`` example data, all from real Keras.

Imported by gen_fixtures.py (run that script, not this one). Kept in its own file so the suites of
other layer families merge without conflicts.
"""

import numpy as np
import keras

# Layer classes the rnn cases use (added to gen_fixtures.ALLOWED_LAYERS).
LAYERS = ["SimpleRNN", "LSTM", "GRU", "Embedding"]

# Every token-id case uses this vocabulary size; ids are 0..VOCAB-1, 0 being the padding id.
VOCAB = 24


def _ids_all(rng, shape):
    """Ids anywhere in 0..VOCAB-1, including both ends."""
    x = rng.integers(0, VOCAB, size=shape)
    flat = x.reshape(-1)
    flat[0], flat[1] = 0, VOCAB - 1
    return x


def _ids_padded(rng, shape, pre):
    """Rows of random length 1..T (row 0 full, row 1 a single token) padded with 0s after the
    tokens (post) or before them (pre)."""
    batch, steps = shape
    x = np.zeros(shape, dtype=np.int64)
    for b in range(batch):
        n = steps if b == 0 else 1 if b == 1 else int(rng.integers(1, steps + 1))
        tokens = rng.integers(1, VOCAB, size=n)
        if pre:
            x[b, steps - n:] = tokens
        else:
            x[b, :n] = tokens
    return x


def _ids_mixed(rng, shape):
    """Zeros anywhere (about a third), plus a row with no padding and an all-padding row."""
    x = rng.integers(1, VOCAB, size=shape)
    x[rng.random(shape) < 0.35] = 0
    x[0, :] = rng.integers(1, VOCAB, size=shape[1])
    x[1, :] = 0
    return x


INPUT_GENERATORS = {
    "ids": _ids_all,
    "ids_post": lambda rng, shape: _ids_padded(rng, shape, pre=False),
    "ids_pre": lambda rng, shape: _ids_padded(rng, shape, pre=True),
    "ids_mixed": _ids_mixed,
}


def cases(Case):
    out = []
    C = lambda *a, **k: out.append(Case(*a, **k))  # noqa: E731

    # --- each cell x return_sequences x go_backwards x activations x use_bias x return_state --
    cells = [
        ("simple_rnn", "SimpleRNN", ""),
        ("lstm", "LSTM", ""),
        ("gru", "GRU", ""),
        ("gru_v1", "GRU", "reset_after=False, "),
    ]
    for name, cls, extra in cells:
        layer = lambda args, units=4: f"{cls}({units}, {extra}{args})".replace(", )", ")")  # noqa: E731
        recurrent = "activation" if cls == "SimpleRNN" else "recurrent_activation"
        C(f"{name}_last", (6, 3), layer(""))
        C(f"{name}_seq", (6, 3), layer("return_sequences=True"))
        C(f"{name}_back", (6, 3), layer("go_backwards=True"))
        C(f"{name}_back_seq", (6, 3), layer("go_backwards=True, return_sequences=True"))
        C(f"{name}_no_bias", (6, 3), layer("use_bias=False, return_sequences=True"))
        C(f"{name}_relu", (6, 3), layer('activation="relu", return_sequences=True'))
        C(f"{name}_softsign", (6, 3), layer('activation="softsign"'))
        C(f"{name}_hard_sigmoid", (6, 3), layer(f'{recurrent}="hard_sigmoid", return_sequences=True'))
        C(f"{name}_state", (6, 3), layer("return_state=True"))
        C(f"{name}_seq_state_back", (6, 3),
          layer("return_sequences=True, return_state=True, go_backwards=True"))
        C(f"{name}_one_unit_one_step", (1, 2), layer("return_sequences=True", units=1))
        # 13 steps: not a multiple of the runtime's 4-step input-projection chunks.
        C(f"{name}_long", (13, 5), layer("go_backwards=True, return_sequences=True", units=8),
          batch=4)

    C("lstm_relu_hard_sigmoid", (6, 3),
      'LSTM(5, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True)')
    C("gru_softsign_relu_no_bias", (6, 3),
      'GRU(5, activation="softsign", recurrent_activation="relu", use_bias=False, reset_after=False)')
    C("gru_hard_sigmoid_no_bias_after", (6, 3),
      'GRU(5, recurrent_activation="hard_sigmoid", use_bias=False, return_sequences=True)')
    C("simple_rnn_linear", (6, 3), 'SimpleRNN(4, activation=None, return_sequences=True)')
    C("lstm_ignored_args", (6, 3),
      'LSTM(4, dropout=0.5, recurrent_dropout=0.3, unroll=True, unit_forget_bias=False, '
      'kernel_initializer="zeros", seed=3, return_sequences=True)')
    C("lstm_positional", (6, 3), 'LSTM(4, "softsign", "hard_sigmoid", False)')

    # --- stacks -------------------------------------------------------------------------------
    C("stack_lstm_lstm", (7, 3), "LSTM(5, return_sequences=True), LSTM(3)")
    C("stack_gru_simple", (7, 3),
      'GRU(5, return_sequences=True), SimpleRNN(3, activation="relu")')
    C("stack_back_lstm_gru", (7, 3),
      "LSTM(4, return_sequences=True, go_backwards=True), GRU(3, reset_after=False)")
    C("stack_three", (7, 3),
      "SimpleRNN(6, return_sequences=True), LSTM(5, return_sequences=True, go_backwards=True), "
      "GRU(4)")
    C("stack_rnn_dense", (7, 3), 'LSTM(6), Dense(3, activation="softmax")')
    C("stack_seq_dense_rnn", (7, 3),
      'LSTM(6, return_sequences=True), Dense(4, activation="relu"), GRU(3)')
    C("stack_dense_rnn", (7, 3), 'Dense(8, activation="tanh"), LSTM(4)')
    C("stack_rnn_flatten", (7, 3), "GRU(3, return_sequences=True), Flatten(), Dense(2)")
    C("stack_reshape_rnn", (24,), "Reshape((6, 4)), SimpleRNN(3)")
    C("stack_state_last", (7, 3), "GRU(5, return_sequences=True), LSTM(3, return_state=True)")

    # --- Embedding, with and without masks ---------------------------------------------------
    C("emb_alone", (7,), "Embedding(24, 5)", inputs="ids")
    C("emb_ids_2d", (2, 4), "Embedding(24, 3)", inputs="ids")
    C("emb_flatten_dense", (7,), "Embedding(24, 4, mask_zero=True), Flatten(), Dense(3)",
      inputs="ids_post")
    C("emb_reshape_drops_mask", (7,),
      "Embedding(24, 4, mask_zero=True), Reshape((14, 2)), LSTM(3)", inputs="ids_post")
    C("emb_lstm_no_mask_post", (7,), "Embedding(24, 6), LSTM(4)", inputs="ids_post")
    C("emb_lstm_no_mask_pre", (7,), "Embedding(24, 6), GRU(4)", inputs="ids_pre")
    for cls, short in [("SimpleRNN", "simple"), ("LSTM", "lstm"), ("GRU", "gru")]:
        for pad in ["post", "pre", "mixed"]:
            C(f"emb_mask_{short}_{pad}", (7,),
              f"Embedding(24, 6, mask_zero=True), {cls}(4)", inputs=f"ids_{pad}")
    C("emb_mask_gru_v1_mixed", (7,),
      "Embedding(24, 6, mask_zero=True), GRU(4, reset_after=False, return_sequences=True)",
      inputs="ids_mixed")
    C("emb_mask_simple_back_post", (7,),
      "Embedding(24, 6, mask_zero=True), SimpleRNN(4, go_backwards=True)", inputs="ids_post")
    C("emb_mask_lstm_back_seq_pre", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(4, go_backwards=True, return_sequences=True)",
      inputs="ids_pre")
    C("emb_mask_gru_back_seq_mixed", (7,),
      "Embedding(24, 6, mask_zero=True), GRU(4, go_backwards=True, return_sequences=True)",
      inputs="ids_mixed")
    C("emb_mask_stack_post", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(5, return_sequences=True), GRU(3)",
      inputs="ids_post")
    C("emb_mask_stack_back_mixed", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(5, return_sequences=True, go_backwards=True), "
      "SimpleRNN(3)", inputs="ids_mixed")
    C("emb_mask_through_dense", (7,),
      'Embedding(24, 6, mask_zero=True), Dense(6, activation="relu"), Dropout(0.2), '
      'Activation("tanh"), GRU(4, reset_after=False)', inputs="ids_mixed")
    C("emb_mask_seq_dense_seq", (7,),
      'Embedding(24, 6, mask_zero=True), GRU(5, return_sequences=True), Dense(4), '
      'LSTM(3, return_sequences=True)', inputs="ids_pre")
    C("emb_mask_zero_output_seq", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(4, return_sequences=True, zero_output_for_mask=True)",
      inputs="ids_mixed")
    C("emb_mask_zero_output_last", (7,),
      "Embedding(24, 6, mask_zero=True), GRU(3, zero_output_for_mask=True)", inputs="ids_post")
    C("emb_mask_lstm_state", (7,),
      "Embedding(24, 6, mask_zero=True), LSTM(4, return_state=True)", inputs="ids_post")
    C("emb_mask_gru_state_back_seq", (7,),
      "Embedding(24, 6, mask_zero=True), "
      "GRU(3, return_sequences=True, return_state=True, go_backwards=True)", inputs="ids_mixed")
    C("emb_input_length", (7,),
      "Embedding(24, 4, input_length=7, mask_zero=True), SimpleRNN(3)", inputs="ids_pre")
    C("emb_mask_dense_head", (7,),
      'Embedding(24, 8, mask_zero=True), LSTM(6), Dense(1, activation="sigmoid")',
      inputs="ids_pre")
    return out


# ------------------------------------------------------------------------------------------
# Examples
# ------------------------------------------------------------------------------------------

def _root():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent


def _data_dir():
    d = _root() / "examples" / "data"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _f32(a):
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def _write(path, data):
    if isinstance(data, str):
        data = data.encode()
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)


def _weights(model):
    return b"".join(_f32(np.asarray(v.numpy())) for v in model.weights)


# --- sentiment: Embedding(mask_zero) -> LSTM -> Dense(sigmoid) on a synthetic corpus ----------

SENTIMENT_SEED = 7
SENTIMENT_MAXLEN = 16
SENTIMENT_LABEL_NOISE = 0.06
POSITIVE = ["good", "great", "excellent", "fun", "love", "wonderful", "best", "enjoyable",
            "brilliant", "nice"]
NEGATIVE = ["bad", "awful", "boring", "terrible", "hate", "worst", "dull", "poor", "waste",
            "weak"]
NEGATORS = ["not", "never"]
NEUTRAL = ["the", "movie", "film", "plot", "actors", "story", "was", "is", "it", "this", "a",
           "and", "but", "i", "of", "acting", "music", "ending", "scenes", "characters", "very",
           "really"]
# id 0 is the padding id (mask_zero=True); words start at 1.
SENTIMENT_VOCAB = ["<pad>"] + POSITIVE + NEGATIVE + NEGATORS + NEUTRAL


def _sentence(rng):
    """A review and its label: 1 to 3 sentiment words, each negated with probability 0.3 by a
    negator right before it, among neutral words. Label 1 when the (negation-aware) sum is > 0."""
    while True:
        words, score = [], 0
        for _ in range(int(rng.integers(1, 4))):
            polarity = 1 if rng.random() < 0.5 else -1
            word = rng.choice(POSITIVE if polarity > 0 else NEGATIVE)
            for _ in range(int(rng.integers(0, 3))):
                words.append(str(rng.choice(NEUTRAL)))
            if rng.random() < 0.3:
                words.append(str(rng.choice(NEGATORS)))
                polarity = -polarity
            words.append(str(word))
            score += polarity
        for _ in range(int(rng.integers(0, 3))):
            words.append(str(rng.choice(NEUTRAL)))
        if score != 0 and len(words) <= SENTIMENT_MAXLEN:
            return words, int(score > 0)


def gen_sentiment():
    rng = np.random.default_rng(SENTIMENT_SEED)
    index = {w: i for i, w in enumerate(SENTIMENT_VOCAB)}
    n_train, n_test = 3000, 500
    sentences = [_sentence(rng) for _ in range(n_train + n_test)]
    ids = keras.utils.pad_sequences(
        [[index[w] for w in words] for words, _ in sentences], maxlen=SENTIMENT_MAXLEN
    ).astype(np.int32)  # Keras's default: padding (and truncation) at the front
    labels = np.array([label for _, label in sentences], dtype=np.int32)
    # Annotator noise: a few labels flipped, so accuracy stays below 100% and the comparison
    # of predictions is not trivially all-correct.
    labels = np.where(rng.random(labels.shape) < SENTIMENT_LABEL_NOISE, 1 - labels, labels)
    x_train, y_train = ids[:n_train], labels[:n_train]
    x_test, y_test = ids[n_train:], labels[n_train:]

    keras.backend.clear_session()
    keras.utils.set_random_seed(SENTIMENT_SEED)
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((SENTIMENT_MAXLEN,), dtype="int32"),
         L.Embedding(len(SENTIMENT_VOCAB), 16, mask_zero=True),
         L.LSTM(16),
         L.Dense(1, activation="sigmoid")],
        name="Sentiment",
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20, batch_size=32, shuffle=True, verbose=0)
    probs = np.asarray(model.predict(x_test, verbose=0), dtype=np.float32)  # (n_test, 1)
    acc = float(np.mean((probs[:, 0] > 0.5).astype(np.int32) == y_test))
    if acc <= 0.85:
        raise RuntimeError(f"sentiment accuracy too low: {acc}")

    d = _data_dir()
    _write(d / "sentiment.weights.bin", _weights(model))
    _write(d / "sentiment_test_ids.bin", x_test.astype("<u4").tobytes())
    _write(d / "sentiment_test_y.bin", y_test.astype(np.uint8).tobytes())
    _write(d / "sentiment_keras_probs.bin", _f32(probs))
    _write(d / "sentiment_vocab.txt", "\n".join(SENTIMENT_VOCAB) + "\n")
    _write(d / "sentiment_keras.txt",
           f"keras_version={keras.__version__}\n"
           f"test_samples={n_test}\n"
           f"keras_accuracy={acc:.6f}\n"
           f"params={model.count_params()}\n"
           f"maxlen={SENTIMENT_MAXLEN}\n"
           f"vocab={len(SENTIMENT_VOCAB)}\n")
    model.save(d / "sentiment.keras")
    print(f"sentiment: test_samples={n_test} keras_accuracy={acc:.6f} "
          f"params={model.count_params()}")


# --- streaming: a stateful GRU -> LSTM -> Dense fed chunk by chunk --------------------------

STREAM_SEED = 11
STREAM_CHUNK = 4
STREAM_CHUNKS = 6
STREAM_FEATURES = 3


def _stream_model(batch_shape, stateful):
    L = keras.layers
    return keras.Sequential(
        [keras.Input(batch_shape=batch_shape),
         L.GRU(8, return_sequences=True, stateful=stateful),
         L.LSTM(6, stateful=stateful),
         L.Dense(3, activation="softmax")],
        name="Stream",
    )


def gen_streaming():
    rng = np.random.default_rng(STREAM_SEED)
    keras.backend.clear_session()
    chunked = _stream_model((1, STREAM_CHUNK, STREAM_FEATURES), stateful=True)
    for v in chunked.weights:
        v.assign((rng.standard_normal(tuple(v.shape)) * 0.5).astype(np.float32))
    steps = STREAM_CHUNK * STREAM_CHUNKS
    stream = rng.standard_normal((1, steps, STREAM_FEATURES)).astype(np.float32)
    per_chunk = []
    for k in range(STREAM_CHUNKS):
        chunk = stream[:, k * STREAM_CHUNK:(k + 1) * STREAM_CHUNK]
        per_chunk.append(np.asarray(chunked(chunk, training=False))[0])
    per_chunk = np.stack(per_chunk).astype(np.float32)  # (chunks, 3)

    whole = _stream_model((None, steps, STREAM_FEATURES), stateful=False)
    whole.set_weights(chunked.get_weights())
    whole_out = np.asarray(whole.predict(stream, verbose=0), dtype=np.float32)[0]
    # Keras's own stateful stream ends where the whole sequence does.
    assert np.allclose(per_chunk[-1], whole_out, atol=1e-6), (per_chunk[-1], whole_out)

    d = _data_dir()
    _write(d / "streaming.weights.bin", _weights(chunked))
    _write(d / "streaming_input.bin", _f32(stream[0]))
    _write(d / "streaming_keras_chunks.bin", _f32(per_chunk))
    _write(d / "streaming_keras_whole.bin", _f32(whole_out))
    print(f"streaming: {STREAM_CHUNKS} chunks of {STREAM_CHUNK} steps, "
          f"params={chunked.count_params()}")


EXAMPLES = {"sentiment": gen_sentiment, "streaming": gen_streaming}
