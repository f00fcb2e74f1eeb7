//! `predict` never touches the heap: counted through a global allocator, per thread (the tests
//! of this file run in parallel).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use static_keras::{keras_model, Model, Planned};

struct Counting;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

keras_model! {
    struct Everything {
        input_shape: (6, 8),
        layers: [
            Dense(16, activation = "gelu"),
            Dropout(0.25),
            Activation("softmax"),
            Dense(12, activation = "glu", use_bias = False),
            Flatten(),
            Dense(32, activation = "sparsemax"),
            Reshape((4, -1)),
            Activation("log_softmax"),
            Dense(10),
        ],
    }
}

keras_model! {
    struct Text {
        input_shape: (12,),
        layers: [
            Embedding(50, 8, mask_zero = True),
            Dense(8, activation = "relu"),
            LSTM(16, return_sequences = True, go_backwards = True),
            GRU(12, return_sequences = True, reset_after = False),
            SimpleRNN(6, zero_output_for_mask = True, return_state = True),
        ],
    }
}

keras_model! {
    struct Lookup {
        input_shape: (3, 4),
        layers: [Embedding(50, 5), Flatten(), Dense(3, activation = "softmax")],
    }
}

keras_model! {
    struct Stream {
        input_shape: (5, 4),
        layers: [
            GRU(8, return_sequences = True, stateful = True),
            LSTM(6, stateful = True),
            Dense(2),
        ],
    }
}

keras_model! {
    struct Convolutions {
        input_shape: (12, 4),
        layers: [
            Conv1D(8, 3, padding = "causal", dilation_rate = 2, groups = 2, activation = "relu"),
            MaxPooling1D(2, padding = "same"),
            Conv1D(70, 2, padding = "same"),
            AveragePooling1D(3, strides = 1, padding = "same"),
            Reshape((6, 7, 10)),
            Conv2D(12, 3, strides = 2, padding = "same", activation = "glu"),
            MaxPooling2D(2, strides = 1),
            AveragePooling2D((2, 1)),
            Reshape((1, 3, 6, 1)),
            Conv3D(5, (1, 2, 3), padding = "same", use_bias = False),
            MaxPooling3D((1, 2, 2), padding = "same"),
            AveragePooling3D(1),
            Flatten(),
            Dense(3, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// Activations too big for a stack binding each: `predict` makes a workspace, and
    /// `predict_batch` makes one for the whole batch.
    struct Wide {
        input_shape: (24, 24, 8),
        layers: [
            Conv2D(64, 3, padding = "same", activation = "relu"),
            Conv2D(64, 1, activation = "tanh"),
            GlobalAveragePooling2D(),
            Dense(4),
        ],
    }
}

fn some_weights(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| ((i % 13) as f32 * 0.04 - 0.25).to_le_bytes())
        .collect()
}

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn predict_does_not_allocate() {
    let weights: Vec<u8> = (0..Everything::PARAMS)
        .flat_map(|i| ((i % 17) as f32 * 0.03 - 0.2).to_le_bytes())
        .collect();
    let net = Everything::from_le_bytes(&weights).unwrap();
    let values: Vec<f32> = (0..48).map(|i| i as f32 / 10.0 - 2.0).collect();
    let x = Everything::input_from_slice(&values).unwrap();
    // The counter works: a Vec allocates.
    assert_eq!(
        allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))),
        1
    );
    let mut y = None;
    let n = allocations_during(|| y = Some(net.predict(std::hint::black_box(&x))));
    assert_eq!(n, 0, "predict allocated {n} times");
    let y = y.unwrap();
    assert_eq!(y.as_slice().len(), <Everything as Model>::OUTPUT_LEN);
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn recurrent_and_embedding_models_do_not_allocate() {
    let text = Text::from_le_bytes(&some_weights(Text::PARAMS)).unwrap();
    let ids = Text::input_from_slice(&[0, 0, 3, 17, 49, 2, 0, 8, 8, 1, 0, 0]).unwrap();
    let mut y = None;
    let n = allocations_during(|| y = Some(text.predict(std::hint::black_box(&ids))));
    assert_eq!(n, 0, "Text::predict allocated {n} times");
    assert!(y.unwrap().0.iter().all(|v| v.is_finite()));

    let lookup = Lookup::from_le_bytes(&some_weights(Lookup::PARAMS)).unwrap();
    let ids = Lookup::input_from_slice(&[1, 2, 3, 4, 0, 49, 7, 7, 7, 7, 8, 9]).unwrap();
    let n = allocations_during(|| {
        std::hint::black_box(lookup.predict(&ids));
    });
    assert_eq!(n, 0, "Lookup::predict allocated {n} times");

    let stream = Stream::from_le_bytes(&some_weights(Stream::PARAMS)).unwrap();
    let x = Stream::input_from_slice(&[0.3; 20]).unwrap();
    let mut state = StreamState::default();
    let n = allocations_during(|| {
        for _ in 0..3 {
            std::hint::black_box(stream.predict_stateful(&mut state, std::hint::black_box(&x)));
        }
        state.reset();
    });
    assert_eq!(n, 0, "Stream::predict_stateful allocated {n} times");
}

#[test]
fn convolution_and_pooling_do_not_allocate() {
    let weights: Vec<u8> = (0..Convolutions::PARAMS)
        .flat_map(|i| ((i % 13) as f32 * 0.05 - 0.3).to_le_bytes())
        .collect();
    let net = Convolutions::from_le_bytes(&weights).unwrap();
    let values: Vec<f32> = (0..48).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect();
    let x = Convolutions::input_from_slice(&values).unwrap();
    let mut y = None;
    let n = allocations_during(|| y = Some(net.predict(std::hint::black_box(&x))));
    assert_eq!(n, 0, "predict allocated {n} times");
    let y = y.unwrap();
    assert_eq!(y.as_slice().len(), <Convolutions as Model>::OUTPUT_LEN);
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

keras_model! {
    struct Recurrent {
        input_shape: (7,),
        layers: [
            Embedding(30, 6),
            GRU(8, return_sequences = True),
            LSTM(5, return_sequences = True, go_backwards = True),
            SimpleRNN(4, return_sequences = True),
            GRU(3, reset_after = False),
            Dense(2),
        ],
    }
}

/// `predict_batch` on `inputs` (with a few sizes of batch, so chunks are full and partial)
/// allocates nothing and gives what `predict` gives, within rounding.
fn check_batch<M: Model>(net: &M, inputs: &[M::Input])
where
    M::Output: Clone,
{
    let want: Vec<M::Output> = inputs.iter().map(|x| net.predict(x)).collect();
    for len in [1, 2, inputs.len()] {
        let mut got = want[..len].to_vec();
        let n = allocations_during(|| net.predict_batch(&inputs[..len], &mut got));
        assert_eq!(n, 0, "predict_batch allocated {n} times");
        let (mut a, mut b) = (vec![0.0; M::OUTPUT_LEN], vec![0.0; M::OUTPUT_LEN]);
        for (g, w) in got.iter().zip(&want) {
            M::output_to_slice(g, &mut a);
            M::output_to_slice(w, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-5 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }
}

#[test]
fn predict_batch_does_not_allocate() {
    let net = Everything::from_le_bytes(&some_weights(Everything::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..37)
        .map(|s| {
            let v: Vec<f32> = (0..48)
                .map(|i| ((i * 7 + s) % 23) as f32 / 10.0 - 1.0)
                .collect();
            Everything::input_from_slice(&v).unwrap()
        })
        .collect();
    check_batch(&net, &inputs);

    let net = Convolutions::from_le_bytes(&some_weights(Convolutions::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..5)
        .map(|s| {
            let v: Vec<f32> = (0..48).map(|i| ((i + s) % 7) as f32 / 3.0 - 1.0).collect();
            Convolutions::input_from_slice(&v).unwrap()
        })
        .collect();
    check_batch(&net, &inputs);

    let net = Recurrent::from_le_bytes(&some_weights(Recurrent::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..21u32)
        .map(|s| Recurrent::input_from_slice(&[s, 1, 29, s % 3, 4, 0, 9]).unwrap())
        .collect();
    check_batch(&net, &inputs);

    // Big: one workspace, on the stack, for the whole batch.
    const { assert!(Wide::PREDICT_MAKES_WORKSPACE && !Everything::PREDICT_MAKES_WORKSPACE) };
    let net = Wide::from_le_bytes(&some_weights(Wide::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..4)
        .map(|s| {
            let v: Vec<f32> = (0..24 * 24 * 8)
                .map(|i| ((i + 3 * s) % 11) as f32 / 5.0 - 1.0)
                .collect();
            Wide::input_from_slice(&v).unwrap()
        })
        .collect();
    check_batch(&net, &inputs);

    // Masks: the default loop.
    let net = Text::from_le_bytes(&some_weights(Text::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..3u32)
        .map(|s| Text::input_from_slice(&[0, s, 3, 17, 49, 2, 0, 8, 8, 1, 0, s]).unwrap())
        .collect();
    check_batch(&net, &inputs);
}

/// `predict_in` allocates nothing either, and gives `predict`'s bits, the workspace reused
/// from one call to the next.
fn check_planned<M: Planned>(net: &M, inputs: &[M::Input]) {
    let mut workspace = M::boxed_workspace();
    let (mut want, mut got) = (vec![0.0; M::OUTPUT_LEN], vec![0.0; M::OUTPUT_LEN]);
    for x in inputs {
        M::output_to_slice(&net.predict(x), &mut want);
        let mut y = None;
        let n = allocations_during(|| y = Some(net.predict_in(x, &mut workspace)));
        assert_eq!(n, 0, "predict_in allocated {n} times");
        M::output_to_slice(&y.unwrap(), &mut got);
        assert!(
            want.iter()
                .zip(&got)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{got:?} vs {want:?}"
        );
    }
}

#[test]
fn predict_in_does_not_allocate() {
    let net = Everything::from_le_bytes(&some_weights(Everything::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..3)
        .map(|s| {
            let v: Vec<f32> = (0..48)
                .map(|i| ((i * 5 + s) % 19) as f32 / 8.0 - 1.0)
                .collect();
            Everything::input_from_slice(&v).unwrap()
        })
        .collect();
    check_planned(&net, &inputs);

    let net = Convolutions::from_le_bytes(&some_weights(Convolutions::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..3)
        .map(|s| {
            let v: Vec<f32> = (0..48).map(|i| ((i + s) % 7) as f32 / 3.0 - 1.0).collect();
            Convolutions::input_from_slice(&v).unwrap()
        })
        .collect();
    check_planned(&net, &inputs);

    // Masks, token ids and a layer returning its state.
    let net = Text::from_le_bytes(&some_weights(Text::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..3u32)
        .map(|s| Text::input_from_slice(&[0, s, 3, 17, 49, 2, 0, 8, 8, 1, 0, s]).unwrap())
        .collect();
    check_planned(&net, &inputs);

    // Stateful layers, from zero states as `predict`.
    let net = Stream::from_le_bytes(&some_weights(Stream::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..2)
        .map(|s| Stream::input_from_slice(&[0.1 * s as f32 + 0.2; 20]).unwrap())
        .collect();
    check_planned(&net, &inputs);

    let net = Trainee::from_le_bytes(&some_weights(Trainee::PARAMS)).unwrap();
    let inputs: Vec<_> = (0..3)
        .map(|s| Trainee::input_from_slice(&[0.3 * s as f32 - 0.2; 6]).unwrap())
        .collect();
    check_planned(&net, &inputs);
}

keras_model! {
    struct Trainee {
        x = Input(shape = (6,));
        h = Dense(8, activation = "tanh")(x);
        s = Dense(8)(x);
        h = Dropout(0.25)(Activation("relu")(Add()([h, s])));
        y = Dense(3, activation = "softmax")(Concatenate()([h, s]));
        model = Model(x, y);
    }
}

#[test]
fn train_on_batch_does_not_allocate() {
    use static_keras::losses::MeanSquaredError;
    use static_keras::optimizers::Sgd;
    let mut net = Trainee::from_le_bytes(&some_weights(Trainee::PARAMS)).unwrap();
    let xs: Vec<_> = (0..7)
        .map(|s| Trainee::input_from_slice(&[0.1 * s as f32; 6]).unwrap())
        .collect();
    let ys = vec![static_keras::Tensor::<3, 1>::zeros(); 7];
    let mut trainer = net.compile(Sgd::default(), MeanSquaredError::default());
    trainer.train_on_batch(&xs, &ys); // sizes the workspace for a batch of 7
    let n = allocations_during(|| {
        for _ in 0..3 {
            trainer.train_on_batch(&xs, &ys);
            trainer.train_on_batch(&xs[..4], &ys[..4]);
        }
    });
    assert_eq!(n, 0, "train_on_batch allocated {n} times");
}

#[test]
fn fit_allocates_per_call_not_per_step() {
    use static_keras::callbacks::{EarlyStopping, ReduceLROnPlateau};
    use static_keras::losses::MeanSquaredError;
    use static_keras::optimizers::Adam;
    use static_keras::FitOptions;
    let mut net = Trainee::from_le_bytes(&some_weights(Trainee::PARAMS)).unwrap();
    let mut xs: Vec<_> = (0..160)
        .map(|s| Trainee::input_from_slice(&[0.01 * s as f32; 6]).unwrap())
        .collect();
    let mut ys = vec![static_keras::Tensor::<3, 1>::zeros(); 160];
    let mut trainer = net
        .compile(Adam::default(), MeanSquaredError::default())
        .with_metrics(&["mae", "accuracy"])
        .unwrap();
    let mut fit = |n: usize| {
        let mut stop = EarlyStopping {
            monitor: "val_loss",
            patience: 5,
            restore_best_weights: true,
            ..Default::default()
        };
        let mut plateau = ReduceLROnPlateau::default();
        allocations_during(|| {
            trainer
                .try_fit(
                    &xs[..n],
                    &ys[..n],
                    FitOptions {
                        batch_size: 4,
                        epochs: 3,
                        validation_split: 0.25,
                        callbacks: &mut [&mut stop, &mut plateau],
                        verbose: 0,
                        ..Default::default()
                    },
                )
                .unwrap();
        })
    };
    fit(160); // sizes the workspace and the checkpoint
    let (small, large) = (fit(16), fit(160));
    assert_eq!(
        small, large,
        "fit allocated per step: {small} for 3 steps, {large} for 30"
    );
    let n = allocations_during(|| {
        trainer
            .fit_in_place(
                &mut xs,
                &mut ys,
                FitOptions {
                    batch_size: 4,
                    epochs: 2,
                    validation_split: 0.25,
                    verbose: 0,
                    ..Default::default()
                },
            )
            .unwrap();
        trainer.try_evaluate(&xs, &ys, 7).unwrap();
    });
    assert_eq!(n, 0, "fit_in_place and evaluate allocated {n} times");
}
