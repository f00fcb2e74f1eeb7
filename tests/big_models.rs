//! Big models: nothing multi-megabyte on the stack. A model of 12.6 MB of weights is built,
//! loaded and run in a thread of 1 MB of stack; a model whose activations, bound one per layer,
//! would take 3.7 MB runs there too through `predict_in` and a boxed workspace. Both give
//! Keras's numbers (`tools/gen_big.py`).
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Activation, Planned};

const ONE_MB: usize = 1 << 20;

/// Runs `f` in a thread of `stack` bytes of stack (a stack overflow aborts the test binary).
fn in_thread<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread panicked")
}

/// `(i % period) as f32 / divisor - 1.0`, as `tools/gen_big.py` computes it.
fn ramp(n: usize, period: usize, divisor: f32) -> Vec<f32> {
    (0..n)
        .map(|i| (i % period) as f32 / divisor - 1.0)
        .collect()
}

fn worst_error(got: &[f32], keras: &[u8]) -> f32 {
    let want = parity::read_f32(keras);
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(&want)
        .map(|(&g, &w)| parity::error(g, w))
        .fold(0.0, f32::max)
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

keras_model! {
    /// 3,153,418 parameters: 12.6 MB of weights.
    struct Wide {
        input_shape: (1024,),
        layers: [
            Dense(2048, activation = "relu"),
            Dense(512, activation = "tanh"),
            Dense(10, activation = "softmax"),
        ],
    }
}

/// `((i % 13) as f32 - 6.0) * 0.01`, as `tools/gen_big.py` computes it.
fn wide_weights() -> Vec<u8> {
    (0..Wide::PARAMS)
        .flat_map(|i| (((i % 13) as f32 - 6.0) * 0.01).to_le_bytes())
        .collect()
}

#[test]
fn a_model_of_12_mb_is_built_loaded_and_run_in_a_1_mb_thread() {
    const { assert!(Wide::PARAMS * 4 > 12 << 20) };
    let weights = wide_weights();
    let (y, planned) = in_thread(ONE_MB, move || {
        // Built: zero weights, the declared activations set in place.
        let zero = Wide::zeroed_boxed();
        assert!(zero.dense.kernel.iter().all(|&w| w == 0.0));
        assert_eq!(zero.dense.activation, Activation::Relu);
        assert_eq!(zero.dense_1.activation, Activation::Tanh);
        assert_eq!(zero.dense_2.activation, Activation::Softmax);
        drop(zero);
        // Loaded.
        let net = Wide::from_le_bytes_boxed(&weights).expect("the weights fit");
        assert!(Wide::from_le_bytes_boxed(&weights[4..]).is_err());
        // Run, both ways.
        let x = Wide::input_from_slice(&ramp(1024, 7, 3.0)).unwrap();
        let y = net.predict(&x).as_slice().to_vec();
        let mut workspace = WideWorkspace::boxed();
        let planned = net.predict_in(&x, &mut workspace).as_slice().to_vec();
        (y, planned)
    });
    let worst = worst_error(&y, include_bytes!("fixtures/big/wide.y.bin"));
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    assert!(same_bits(&y, &planned));
    // The activations are small: the larger of each Dense's input and output pairs.
    assert_eq!(Wide::ACTIVATION_BYTES, 4 * (2048 + 512));
}

keras_model! {
    /// Activations of 512 KiB each at 64×64×32: 3.7 MB as one stack binding per layer, 1 MiB
    /// planned (the residual's two branches).
    struct Tall {
        x = Input(shape = (64, 64, 4));
        a = Conv2D(32, 3, padding = "same")(x);
        a = BatchNormalization()(a);
        a = ReLU()(a);
        b = Conv2D(32, 1)(a);
        b = BatchNormalization()(b);
        c = Add()([a, b]);
        c = Activation("relu")(c);
        c = MaxPooling2D(2)(c);
        c = Conv2D(16, 1, activation = "relu")(c);
        c = GlobalAveragePooling2D()(c);
        y = Dense(10, activation = "softmax")(c);
        model = Model(x, y);
    }
}

#[test]
fn a_model_with_megabytes_of_activations_runs_in_a_1_mb_thread_through_predict_in() {
    const ACTIVATION: usize = 64 * 64 * 32 * 4;
    // Each of the 7 layers at full resolution gets a binding in `predict`'s naive form; the
    // plan keeps two: the shortcut `a` and the branch `b` (BatchNormalization, ReLU and the
    // Add run in place, the pooling's output fits beside the Add's).
    assert_eq!(Tall::ACTIVATION_BYTES, 2 * ACTIVATION);
    let weights = include_bytes!("fixtures/big/tall.w.bin");
    let x = ramp(64 * 64 * 4, 7, 3.0);
    let input = x.clone();
    let planned = in_thread(ONE_MB, move || {
        let net = Tall::from_le_bytes_boxed(weights).expect("the weights fit");
        let mut workspace = Tall::boxed_workspace();
        let x = Tall::input_from_slice(&input).unwrap();
        let once = net.predict_in(&x, &mut workspace);
        // Whatever the workspace held before, the same bits.
        let again = net.predict_in(&x, &mut workspace);
        assert_eq!(once.as_slice(), again.as_slice());
        once.as_slice().to_vec()
    });
    let worst = worst_error(&planned, include_bytes!("fixtures/big/tall.y.bin"));
    assert!(worst <= parity::TOLERANCE, "worst error {worst:e}");
    // `predict` of a model this big runs the same plan in a workspace on its own stack.
    let y = in_thread(16 * ONE_MB, move || {
        let net = Tall::from_le_bytes(weights).unwrap();
        net.predict(&Tall::input_from_slice(&x).unwrap())
            .as_slice()
            .to_vec()
    });
    assert!(same_bits(&y, &planned));
}

keras_model! {
    /// Classifies 8x8 grayscale digits; trained in Keras by `tools/gen_fixtures.py`.
    struct DigitsCnn {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same"),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu"),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

#[test]
fn a_big_models_batch_gives_each_samples_predict_bits() {
    let weights = include_bytes!("fixtures/big/tall.w.bin");
    let (batch, one_by_one) = in_thread(16 * ONE_MB, move || {
        let net = Tall::from_le_bytes_boxed(weights).expect("the weights fit");
        // Three different samples: one workspace serves them all in turn.
        let inputs: Vec<_> = (0..3)
            .map(|s| Tall::input_from_slice(&ramp(64 * 64 * 4, 7 + s, 3.0)).unwrap())
            .collect();
        let mut outputs = vec![net.predict(&inputs[2]); 3];
        static_keras::Model::predict_batch(&*net, &inputs, &mut outputs);
        let flat = |ys: &[_]| -> Vec<f32> {
            ys.iter()
                .flat_map(|y: &<Tall as static_keras::Model>::Output| y.as_slice().to_vec())
                .collect()
        };
        let singles: Vec<_> = inputs.iter().map(|x| net.predict(x)).collect();
        (flat(&outputs), flat(&singles))
    });
    assert!(same_bits(&batch, &one_by_one));
    // The samples differ, so a batch that repeated one sample would fail.
    assert!(batch[..10] != batch[10..20]);
}

#[test]
fn a_keras_file_loads_into_a_box_in_a_1_mb_thread() {
    const FILE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/digits_cnn.keras"
    );
    let boxed = in_thread(ONE_MB, || {
        let net = DigitsCnn::from_keras_file_boxed(FILE).expect("the file loads");
        let x = DigitsCnn::input_from_slice(&[0.25; 64]).unwrap();
        net.predict(&x).as_slice().to_vec()
    });
    let net = DigitsCnn::from_keras_file(FILE).unwrap();
    let y = net.predict(&DigitsCnn::input_from_slice(&[0.25; 64]).unwrap());
    assert!(same_bits(&boxed, y.as_slice()));
    // A failed load is an error, not a half-loaded box.
    assert!(DigitsCnn::from_keras_file_boxed("no/such/file.keras").is_err());
}

keras_model! {
    /// Every layer with a configuration beyond its weights, built both ways.
    struct Configured {
        x = Input(shape = (6, 4));
        a = Normalization(axis = -1, mean = [0.5, 1.0, -1.0, 2.0], variance = [1.0, 4.0, 0.25, 2.0])(x);
        a = Rescaling(0.5, offset = 0.25)(a);
        a = Dense(8, activation = "gelu")(a);
        a = BatchNormalization(epsilon = 0.01, center = False, scale = False)(a);
        a = LayerNormalization(epsilon = 0.1)(a);
        a = GroupNormalization(groups = 2, epsilon = 0.2)(a);
        a = ReLU(max_value = 1.5, negative_slope = 0.1)(a);
        a = LeakyReLU(negative_slope = 0.2)(a);
        a = ELU(alpha = 0.7)(a);
        a = PReLU()(a);
        c = Conv1D(6, 3, padding = "causal", activation = "tanh")(a);
        c = SeparableConv1D(6, 2, padding = "same", activation = "sigmoid")(c);
        c = DepthwiseConv1D(3, padding = "same", activation = "relu6")(c);
        c = Conv1DTranspose(4, 2, activation = "elu")(c);
        s = LSTM(5, return_sequences = True, go_backwards = True, recurrent_activation = "hard_sigmoid")(c);
        s = GRU(4, return_sequences = True, reset_after = False, activation = "relu")(s);
        s = SimpleRNN(3, go_backwards = True, activation = "selu")(s);
        y = Dense(3, activation = "softmax")(s);
        model = Model(x, y);
    }
}

#[test]
fn a_boxed_model_is_the_model_built_by_value() {
    let weights: Vec<u8> = (0..Configured::PARAMS)
        .flat_map(|i| ((i % 17) as f32 * 0.05 - 0.4).to_le_bytes())
        .collect();
    let by_value = Configured::from_le_bytes(&weights).unwrap();
    let boxed = Configured::from_le_bytes_boxed(&weights).unwrap();
    let mut workspace = ConfiguredWorkspace::boxed();
    for s in 0..5 {
        let values: Vec<f32> = (0..24)
            .map(|i| ((i * 5 + s) % 11) as f32 / 4.0 - 1.2)
            .collect();
        let x = Configured::input_from_slice(&values).unwrap();
        let want = by_value.predict(&x);
        assert!(want.iter().all(|v| v.is_finite()));
        assert!(same_bits(boxed.predict(&x).as_slice(), want.as_slice()));
        assert!(same_bits(
            boxed.predict_in(&x, &mut workspace).as_slice(),
            want.as_slice()
        ));
    }
    // Zero weights, both ways.
    let x = Configured::input_from_slice(&[0.3; 24]).unwrap();
    let (a, b) = (Configured::zeroed(), Configured::zeroed_boxed());
    assert!(same_bits(
        a.predict(&x).as_slice(),
        b.predict(&x).as_slice()
    ));
}
