//! `save_weights` and `save` on models of every family: each file is read back by
//! `from_keras_file` into the same model bit-exactly, and left in `target/saved/` with the
//! model's Keras Python text, its inputs and our predictions, for `tools/check_saved.py` to
//! check that real Keras loads it and predicts the same.
//!
//! A case's model text is both our DSL and Keras Python (`stringify!` gives the Python), so the
//! script builds the architecture independently of our `config.json` for the `.weights.h5`.

use std::path::PathBuf;

use static_keras::keras_file::{keras_bytes, save, save_weights, weights_h5_bytes, Error};
use static_keras::losses::MeanSquaredError;
use static_keras::optimizers::Adam;
use static_keras::{keras_model, Model, Tensor};

/// Where the files go: `target/saved/` of the workspace.
fn saved_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/saved");
    std::fs::create_dir_all(&dir).expect("create target/saved");
    dir
}

/// A deterministic generator (splitmix64) for weights and inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Input elements a test can make: floats, or token ids below the vocabulary.
trait Elem: Copy {
    fn make(rng: &mut Rng, vocab: Option<usize>) -> Self;
    fn to_f64(self) -> f64;
}

impl Elem for f32 {
    fn make(rng: &mut Rng, vocab: Option<usize>) -> Self {
        match vocab {
            // Token ids passed as floats (models with several inputs).
            Some(v) => (rng.next() * v as f32).floor().min(v as f32 - 1.0),
            None => rng.next() * 2.0 - 1.0,
        }
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Elem for u32 {
    fn make(rng: &mut Rng, vocab: Option<usize>) -> Self {
        let v = vocab.expect("token ids need an Embedding");
        ((rng.next() * v as f32) as u32).min(v as u32 - 1)
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

/// Every variable's values in `model.weights` order.
fn weights<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

/// Fills every variable with values in [-0.5, 0.5), variances with values in [0.5, 1.5), and
/// Normalization's count with an integer.
fn randomize<M: Model>(model: &mut M, rng: &mut Rng) {
    model
        .visit_layers_mut(&mut |_, layer| {
            for (i, var) in layer.variables().iter().enumerate() {
                let values: Vec<f32> = (0..var.len())
                    .map(|_| match var.name {
                        "moving_variance" | "variance" => 0.5 + rng.next(),
                        "count" => 100.0,
                        _ => rng.next() - 0.5,
                    })
                    .collect();
                layer.load_variable(i, &mut values.into_iter());
            }
            Ok(())
        })
        .unwrap();
}

/// The vocabulary of the Embedding reading each input, if one does.
fn vocabularies<M: Model>(model: &M) -> Vec<Option<usize>> {
    let mut vocab = vec![None; M::INPUT_SHAPES.len()];
    model.visit_layers(&mut |info, _| {
        if info.class != "Embedding" {
            return;
        }
        let dim = info.config.iter().find_map(|(k, v)| match (k, v) {
            (&"input_dim", static_keras::ConfigValue::Int(n)) => Some(*n as usize),
            _ => None,
        });
        for call in info.calls {
            if let [static_keras::Source::Input(i)] = call {
                vocab[*i] = dim;
            }
        }
    });
    vocab
}

const SAMPLES: usize = 3;

/// Saves a model with random weights both ways, reloads both files bit-exactly, and records
/// what `tools/check_saved.py` needs.
fn run<M>(name: &str, python: &str)
where
    M: Model,
    M::InputElem: Elem,
{
    let mut rng = Rng(name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let mut model = M::zeroed();
    randomize(&mut model, &mut rng);
    check_and_record(name, python, &model, &mut rng);
}

/// Saves `model` both ways (`keras_file::save_weights`, `keras_file::save`, what the generated
/// `save_weights`/`save` call), reloads both files bit-exactly, and records inputs and our
/// predictions for `tools/check_saved.py`.
fn check_and_record<M>(name: &str, python: &str, model: &M, rng: &mut Rng)
where
    M: Model,
    M::InputElem: Elem,
{
    let vocab = vocabularies(model);

    // Inputs: per sample, every input's values one after the other.
    let mut samples: Vec<Vec<M::InputElem>> = Vec::new();
    for _ in 0..SAMPLES {
        let mut values = Vec::new();
        for (shape, vocab) in M::INPUT_SHAPES.iter().zip(&vocab) {
            let len: usize = shape.iter().product();
            values.extend((0..len).map(|_| M::InputElem::make(rng, *vocab)));
        }
        samples.push(values);
    }
    let predict = |model: &M| -> Vec<Vec<f32>> {
        samples
            .iter()
            .map(|values| {
                let x = M::input_from_slice(values).unwrap();
                let mut out = vec![0.0; M::OUTPUT_LEN];
                M::output_to_slice(&model.predict(&x), &mut out);
                out
            })
            .collect()
    };
    let outputs = predict(model);

    let dir = saved_dir();
    let weights_path = dir.join(format!("{name}.weights.h5"));
    let keras_path = dir.join(format!("{name}.keras"));
    save_weights(model, &weights_path).unwrap();
    save(model, &keras_path).unwrap();

    for path in [&weights_path, &keras_path] {
        let back: M = static_keras::keras_file::load(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (a, b) = (weights(model), weights(&back));
        assert_eq!(a.len(), b.len());
        assert!(
            a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{}: weights differ after the round trip",
            path.display()
        );
        let again = predict(&back);
        assert!(
            outputs
                .iter()
                .flatten()
                .zip(again.iter().flatten())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{}: predictions differ after the round trip",
            path.display()
        );
    }

    // The record: inputs and outputs per tensor, samples first.
    let split = |flat: &[Vec<f64>], shapes: &[&[usize]]| -> Vec<serde_json::Value> {
        let mut at = 0;
        shapes
            .iter()
            .map(|shape| {
                let len: usize = shape.iter().product();
                let rows: Vec<&[f64]> = flat.iter().map(|s| &s[at..at + len]).collect();
                at += len;
                serde_json::json!({"shape": shape, "values": rows})
            })
            .collect()
    };
    let inputs: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| s.iter().map(|v| v.to_f64()).collect())
        .collect();
    let outs: Vec<Vec<f64>> = outputs
        .iter()
        .map(|s| s.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let dtypes: Vec<&str> = M::GRAPH.unwrap().inputs.iter().map(|i| i.dtype).collect();
    let record = serde_json::json!({
        "name": name,
        "python": python,
        "sequential": M::GRAPH.unwrap().sequential,
        "input_dtypes": dtypes,
        "inputs": split(&inputs, M::INPUT_SHAPES),
        "outputs": split(&outs, M::OUTPUT_SHAPES),
        "files": [
            weights_path.file_name().unwrap().to_str(),
            keras_path.file_name().unwrap().to_str(),
        ],
    });
    std::fs::write(dir.join(format!("{name}.json")), record.to_string()).unwrap();
}

/// A Sequential case: `input_shape` and `layers`, as in `keras_model!`.
macro_rules! sequential {
    ($name:ident, $shape:tt, [$($layers:tt)*]) => {
        #[test]
        fn $name() {
            keras_model! {
                struct Net {
                    input_shape: $shape,
                    layers: [$($layers)*],
                }
            }
            let python = format!(
                "model = Sequential([Input(shape={}), {}])",
                stringify!($shape),
                stringify!($($layers)*).replace('\n', " ")
            );
            run::<Net>(stringify!($name), &python);
        }
    };
}

/// A functional case: statements that are both our DSL and Keras Python.
macro_rules! functional {
    ($name:ident, { $($body:tt)* }) => {
        #[test]
        fn $name() {
            keras_model! {
                struct Net {
                    $($body)*
                }
            }
            // `stringify!` may break long token streams across lines; `;` separates the
            // statements on one Python line.
            run::<Net>(stringify!($name), &stringify!($($body)*).replace('\n', " "));
        }
    };
}

sequential!(
    seq_dense,
    (6,),
    [
        Dense(8, activation = "relu"),
        Dropout(0.2),
        Dense(4, use_bias = False, activation = "tanh"),
        Dense(3, activation = "softmax"),
    ]
);

sequential!(
    seq_conv2d,
    (8, 8, 2),
    [
        Conv2D(4, 3, activation = "relu", padding = "same"),
        MaxPooling2D(2),
        Conv2D(5, (2, 3), strides = (1, 2), use_bias = False),
        AveragePooling2D(pool_size = 2, padding = "same"),
        Flatten(),
        Dense(3),
    ]
);

sequential!(
    seq_conv1d_bn,
    (10, 3),
    [
        Conv1D(6, 3, dilation_rate = 2, padding = "causal"),
        BatchNormalization(),
        Activation("relu"),
        MaxPooling1D(2),
        Conv1D(4, 2, strides = 2, activation = "elu"),
        GlobalAveragePooling1D(),
        Dense(2),
    ]
);

sequential!(
    seq_recurrent,
    (5, 3),
    [
        LSTM(4, return_sequences = True),
        GRU(3, return_sequences = True, reset_after = False),
        SimpleRNN(2, go_backwards = True),
        Dense(2),
    ]
);

sequential!(
    seq_embedding,
    (7,),
    [
        Embedding(20, 4, mask_zero = True),
        GRU(3),
        Dense(1, activation = "sigmoid"),
    ]
);

sequential!(
    seq_depthwise,
    (6, 6, 3),
    [
        DepthwiseConv2D(3, depth_multiplier = 2, padding = "same"),
        SeparableConv2D(4, 2, activation = "relu"),
        Conv2DTranspose(2, 3, strides = 2),
        GlobalMaxPooling2D(),
    ]
);

sequential!(
    seq_norm,
    (4, 6),
    [
        LayerNormalization(),
        Dense(5),
        GroupNormalization(groups = 5),
        BatchNormalization(axis = 1, center = False),
        Normalization(axis = -1),
        Rescaling(0.5, offset = 0.25),
        Flatten(),
    ]
);

sequential!(
    seq_spatial,
    (6, 5, 2),
    [
        ZeroPadding2D(((1, 0), (2, 1))),
        Cropping2D(((0, 1), (1, 1))),
        UpSampling2D(2, interpolation = "bilinear"),
        Conv2D(2, 3),
        GlobalAveragePooling2D(),
    ]
);

sequential!(
    seq_activations,
    (4, 5),
    [
        Dense(6),
        LeakyReLU(negative_slope = 0.2),
        PReLU(),
        ELU(alpha = 0.7),
        ReLU(max_value = 0.6),
        Softmax(axis = 1),
        Permute((2, 1)),
        Reshape((3, 8)),
        Flatten(),
        RepeatVector(2),
        Masking(mask_value = 0.0),
        SimpleRNN(3),
    ]
);

sequential!(
    seq_volumes,
    (4, 6, 6, 2),
    [
        ZeroPadding3D(((1, 0), (0, 1), (1, 1))),
        Conv3D(3, 2, activation = "relu"),
        SpatialDropout3D(0.3),
        MaxPooling3D(2, padding = "same"),
        UpSampling3D((1, 2, 1)),
        Conv3DTranspose(2, 2, strides = (1, 1, 2)),
        Cropping3D(((0, 1), (1, 0), (0, 0))),
        AveragePooling3D(2),
        GlobalMaxPooling3D(),
    ]
);

sequential!(
    seq_sequences,
    (9, 3),
    [
        ZeroPadding1D((2, 1)),
        Conv1DTranspose(4, 3, strides = 2, trainable = False),
        Cropping1D((1, 2)),
        DepthwiseConv1D(3, depth_multiplier = 2),
        SpatialDropout1D(0.1),
        SeparableConv1D(3, 2, padding = "same", activation = "tanh"),
        UpSampling1D(2),
        AveragePooling1D(3, strides = 2),
        GaussianNoise(0.5),
        GaussianDropout(0.2),
        AlphaDropout(0.1),
        Identity(),
        LSTM(3, go_backwards = True, name = "lstm_last"),
    ]
);

sequential!(
    seq_pool_globals,
    (6, 6, 4),
    [
        SpatialDropout2D(0.2),
        AveragePooling2D((2, 3), strides = 1),
        Conv2D(3, 2, dilation_rate = 2, use_bias = False),
        Reshape((6, 3)),
        GlobalMaxPooling1D(),
    ]
);

functional!(fn_frozen_and_3d, {
    v = Input(shape = (2, 4, 4, 1), name = "volume");
    c = Conv3D(2, (1, 2, 2), trainable = False, name = "frozen")(v);
    g = GlobalAveragePooling3D()(c);
    s = Input(shape = (3, 2), name = "seq");
    r = GRU(2, return_sequences = True)(s);
    t = Dense(2, trainable = False)(r);
    f = Flatten()(t);
    y = Concatenate(axis = -1)([g, f]);
    model = Model(inputs = [v, s], outputs = y, name = "two_branches")
});

functional!(fn_residual, {
    x = Input(shape = (6, 6, 3));
    c = Conv2D(4, 3, padding = "same", name = "c1")(x);
    b = BatchNormalization(name = "bn")(c);
    r = ReLU()(b);
    s = Conv2D(4, 1, name = "short")(x);
    a = Add()([s, r]);
    y = Dense(2)(GlobalAveragePooling2D()(a));
    model = Model(x, y)
});

functional!(fn_two_in_two_out, {
    a = Input(shape = (5,), name = "a");
    b = Input(shape = (5,), name = "b");
    shared = Dense(3, activation = "tanh", name = "shared");
    sa = shared(a);
    sb = shared(b);
    cat = Concatenate()([sa, sb]);
    o1 = Dense(1, name = "o1")(cat);
    m = Multiply()([sa, sb]);
    d = Subtract()([m, Average()([sa, sb])]);
    o2 = Dense(2, activation = "softmax", name = "o2")(Maximum()([d, Minimum()([sa, sb])]));
    model = Model([a, b], [o1, o2])
});

functional!(fn_dot_and_state, {
    x = Input(shape = (4, 3));
    seq, h, c = LSTM(5, return_sequences = True, return_state = True)(x);
    p = Dot(axes = (2, 2))([seq, seq]);
    q = Dot(axes = 1, normalize = True)([h, c]);
    model = Model(x, [Flatten()(p), q, h])
});

functional!(fn_embedding_two_inputs, {
    ids = Input(shape = (6,), dtype = "int32", name = "ids");
    feats = Input(shape = (3,), name = "feats");
    e = Embedding(12, 4)(ids);
    g = GlobalAveragePooling1D()(e);
    y = Dense(2)(Concatenate()([g, feats]));
    model = Model([ids, feats], y)
});

/// A model trained a few steps (Adam, a frozen branch) saves from its trainer:
/// `trainer.model().save(…)`. The optimizer's state is not saved.
#[test]
fn trained_from_the_trainer() {
    keras_model! {
        struct Trained {
            x = Input(shape = (4,));
            h = Dense(6, activation = "relu", name = "hidden")(x);
            s = Dense(6, trainable = False)(x);
            a = Add()([h, s]);
            y = Dense(2, activation = "tanh")(Activation("elu")(a));
            model = Model(inputs = x, outputs = y)
        }
    }
    let python =
        "x = Input(shape = (4,)); h = Dense(6, activation = \"relu\", name = \"hidden\")(x); \
                  s = Dense(6, trainable = False)(x); a = Add()([h, s]); \
                  y = Dense(2, activation = \"tanh\")(Activation(\"elu\")(a)); \
                  model = Model(inputs = x, outputs = y)";
    let mut rng = Rng(42);
    let mut net = Trained::zeroed();
    randomize(&mut net, &mut rng);
    let before = weights(&net);
    let xs: Vec<_> = (0..8)
        .map(|_| {
            let v: Vec<f32> = (0..4).map(|_| rng.next() * 2.0 - 1.0).collect();
            Trained::input_from_slice(&v).unwrap()
        })
        .collect();
    let ys: Vec<Tensor<2, 1>> = xs
        .iter()
        .map(|x| Tensor::from_slice(&[x.as_slice()[0] * 0.5, -x.as_slice()[3]]))
        .collect();
    let dir = saved_dir();
    let (weights_path, keras_path) = (
        dir.join("trained_direct.weights.h5"),
        dir.join("trained_direct.keras"),
    );
    {
        let mut trainer = net.compile(Adam::default(), MeanSquaredError::default());
        for _ in 0..5 {
            trainer.train_on_batch(&xs, &ys);
        }
        trainer.model().save_weights(&weights_path).unwrap();
        trainer.model().save(&keras_path).unwrap();
    }
    assert_ne!(before, weights(&net), "training moved no weight");
    // The methods write what the in-memory writers make (the archive's time stamp aside).
    assert_eq!(
        std::fs::read(&weights_path).unwrap(),
        weights_h5_bytes(&net).unwrap()
    );
    let back: Trained = static_keras::keras_file::load_bytes(keras_bytes(&net).unwrap()).unwrap();
    assert_eq!(weights(&back), weights(&net));
    check_and_record("trained", python, &net, &mut rng);
}

#[test]
fn the_suffixes_keras_requires_are_checked() {
    keras_model! {
        struct Tiny {
            input_shape: (2,),
            layers: [Dense(1)],
        }
    }
    let dir = saved_dir();
    let net = Tiny::zeroed();
    for bad in [
        "tiny.h5",
        "tiny.weights",
        "tiny.weights.h5.bak",
        ".weights.h5",
    ] {
        let err = net.save_weights(dir.join(bad)).unwrap_err();
        assert!(matches!(err, Error::Save { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("`.weights.h5`"), "{err}");
    }
    let err = net.save(dir.join("tiny.zip")).unwrap_err();
    assert!(err.to_string().contains("`.keras`"), "{err}");
    net.save_weights(dir.join("tiny_ok.weights.h5")).unwrap();
    net.save(dir.join("tiny_ok.keras")).unwrap();
    let missing = dir.join("no/such/dir/tiny.keras");
    let err = net.save(&missing).unwrap_err();
    assert!(matches!(err, Error::Write { .. }), "{err}");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}
