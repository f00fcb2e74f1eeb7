//! `fit`, `evaluate`, metrics and callbacks end to end (the numbers against Keras are in
//! `parity_train.rs`).

use static_keras::callbacks::{EarlyStopping, LearningRateScheduler};
use static_keras::losses::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
use static_keras::optimizers::Adam;
use static_keras::{keras_model, FitOptions, Tensor};

keras_model! {
    struct Net {
        input_shape: (4,),
        layers: [
            Dense(8, activation = "tanh"),
            Dense(3, activation = "softmax"),
        ],
    }
}

fn weights(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((i as f32 * 0.37).sin() * 0.5).to_le_bytes())
        .collect()
}

/// Three separable classes from the sign pattern of the first two features.
fn data(n: usize) -> (Vec<Tensor<4, 1>>, Vec<u32>) {
    let mut rng = 1u32;
    let mut next = || {
        rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (rng >> 8) as f32 / (1 << 24) as f32 * 2.0 - 1.0
    };
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for _ in 0..n {
        let v = [next(), next(), next(), next()];
        let class = if v[0] > 0.3 {
            0
        } else if v[1] > 0.0 {
            1
        } else {
            2
        };
        xs.push(Net::input_from_slice(&v).unwrap());
        ys.push(class);
    }
    (xs, ys)
}

#[test]
fn the_contract_compiles_and_learns() {
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (xs, ys) = data(120);
    let onehot: Vec<_> = ys
        .iter()
        .map(|&c| {
            let mut v = [0.0; 3];
            v[c as usize] = 1.0;
            Net::output_from_slice(&v).unwrap()
        })
        .collect();
    let mut trainer = net
        .compile(
            Adam {
                learning_rate: 1e-2,
                ..Default::default()
            },
            CategoricalCrossentropy::default(),
        )
        .with_metrics(&["accuracy"])
        .unwrap();
    let loss: f32 = trainer.train_on_batch(&xs[..8], &onehot[..8]);
    assert!(loss.is_finite());
    let mut stop = EarlyStopping {
        monitor: "val_loss",
        patience: 2,
        restore_best_weights: true,
        ..Default::default()
    };
    let mut halve = LearningRateScheduler::new(|epoch, lr| if epoch < 5 { lr } else { lr * 0.9 });
    let history = trainer.fit(
        &xs,
        &onehot,
        FitOptions {
            batch_size: 16,
            epochs: 30,
            validation_split: 0.25,
            verbose: 0,
            callbacks: &mut [&mut stop, &mut halve],
            ..Default::default()
        },
    );
    let keys: Vec<_> = history.keys().collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "loss",
            "val_accuracy",
            "val_loss",
            "learning_rate"
        ]
    );
    let first = history["loss"][0];
    let last = *history["loss"].last().unwrap();
    assert!(last < first, "{first} -> {last}");
    let (loss, metrics) = trainer.evaluate(&xs, &onehot);
    assert!(loss < first);
    assert!(metrics["accuracy"] > 0.5, "{metrics:?}");
    // Sparse targets with the same model: "accuracy" becomes the sparse accuracy.
    let mut sparse = net
        .compile(Adam::default(), SparseCategoricalCrossentropy::default())
        .with_metrics(&["acc"])
        .unwrap();
    let (_, m) = sparse.evaluate(&xs, &ys);
    assert!(m["acc"] > 0.5, "{m:?}");
}

fn onehot(ys: &[u32]) -> Vec<Tensor<3, 1>> {
    ys.iter()
        .map(|&c| {
            let mut v = [0.0; 3];
            v[c as usize] = 1.0;
            Net::output_from_slice(&v).unwrap()
        })
        .collect()
}

fn trained(seed: u64, shuffle: bool, in_place: bool) -> Vec<u8> {
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (mut xs, ys) = data(20);
    let mut ys = onehot(&ys);
    let mut trainer = net.compile(Adam::default(), CategoricalCrossentropy::default());
    let options = FitOptions {
        batch_size: 6,
        epochs: 3,
        shuffle,
        seed,
        verbose: 0,
        ..Default::default()
    };
    if in_place {
        trainer.fit_in_place(&mut xs, &mut ys, options).unwrap();
    } else {
        trainer.try_fit(&xs, &ys, options).unwrap();
    }
    let mut bytes = Vec::new();
    static_keras::Model::visit_layers(&net, &mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| bytes.extend_from_slice(&v.to_le_bytes()));
        }
    });
    bytes
}

#[test]
fn shuffling_is_seeded_and_the_same_in_place() {
    let a = trained(7, true, false);
    assert_eq!(
        a,
        trained(7, true, false),
        "the same seed, the same permutations"
    );
    assert_eq!(
        a,
        trained(7, true, true),
        "fit_in_place draws the same batches"
    );
    assert_ne!(
        a,
        trained(8, true, false),
        "another seed, other permutations"
    );
    assert_ne!(a, trained(7, false, false), "shuffling changes the batches");
    assert_eq!(trained(1, false, false), trained(2, false, true));
}

#[test]
fn a_second_fit_draws_new_permutations() {
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (xs, ys) = data(12);
    let ys = onehot(&ys);
    let mut trainer = net.compile(
        static_keras::optimizers::Sgd::default(),
        CategoricalCrossentropy::default(),
    );
    let options = || FitOptions {
        batch_size: 5,
        verbose: 0,
        ..Default::default()
    };
    let first = trainer.try_fit(&xs, &ys, options()).unwrap();
    let second = trainer.try_fit(&xs, &ys, options()).unwrap();
    assert_eq!(trainer.iterations(), 6); // ceil(12 / 5) steps per fit
    assert_ne!(first["loss"], second["loss"]);
}

#[test]
fn errors_say_what_is_wrong() {
    use static_keras::callbacks::ReduceLROnPlateau;
    use static_keras::optimizers::{ExponentialDecay, Schedule, Sgd};
    use static_keras::FitError;
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (xs, ys) = data(10);
    let quiet = || FitOptions::<'_, Tensor<4, 1>, u32> {
        verbose: 0,
        ..Default::default()
    };
    let mut trainer = net.compile(Sgd::default(), SparseCategoricalCrossentropy::default());
    let err = |r: Result<static_keras::History, FitError>| r.unwrap_err().to_string();
    assert_eq!(
        err(trainer.try_fit(&xs, &ys[..9], quiet())),
        "x and y: 10 samples but 9 targets; give one target per sample"
    );
    assert_eq!(
        err(trainer.try_fit(
            &xs,
            &ys,
            FitOptions {
                batch_size: 0,
                ..quiet()
            }
        )),
        "`batch_size` must be at least 1"
    );
    assert_eq!(
        err(trainer.try_fit(
            &xs,
            &ys,
            FitOptions {
                validation_split: 1.0,
                ..quiet()
            }
        )),
        "`validation_split` must be in [0, 1)"
    );
    assert_eq!(
        err(trainer.try_fit(
            &xs[..1],
            &ys[..1],
            FitOptions {
                validation_split: 0.5,
                ..quiet()
            }
        )),
        "validation_split=0.5 leaves no training sample out of 1"
    );
    assert_eq!(err(trainer.try_fit(&[], &[], quiet())), "x has no samples");
    let mut bad = ys.clone();
    bad[7] = 3;
    assert_eq!(
        err(trainer.try_fit(
            &xs,
            &bad,
            FitOptions {
                batch_size: 4,
                shuffle: false,
                ..quiet()
            }
        )),
        "epoch 1, training, batch 1 (from sample 4): SparseCategoricalCrossentropy: \
         y_true[3] is class 3 but the output has 3 classes (0..3)"
    );
    assert!(err(trainer.try_fit(&xs, &bad, quiet())).contains(" of the shuffled order): "));
    let mut bad_val = ys.clone();
    bad_val[9] = 5;
    let e = err(trainer.try_fit(
        &xs,
        &bad_val,
        FitOptions {
            validation_split: 0.2,
            ..quiet()
        },
    ));
    assert!(
        e.starts_with("epoch 1, validation, batch 0 (from sample 0)"),
        "{e}"
    );
    let mut stop = EarlyStopping::default();
    assert_eq!(
        err(trainer.try_fit(
            &xs,
            &ys,
            FitOptions {
                callbacks: &mut [&mut stop],
                ..quiet()
            }
        )),
        "EarlyStopping: `val_loss` is not in the logs (they have loss); give validation_data or \
         a validation_split"
    );
    let mut stop = EarlyStopping {
        monitor: "learning_rate",
        ..Default::default()
    };
    assert!(err(trainer.try_fit(
        &xs,
        &ys,
        FitOptions {
            callbacks: &mut [&mut stop],
            ..quiet()
        }
    ))
    .starts_with("EarlyStopping: cannot tell whether"));
    let mut plateau = ReduceLROnPlateau {
        factor: 1.5,
        ..Default::default()
    };
    assert_eq!(
        err(trainer.try_fit(
            &xs,
            &ys,
            FitOptions {
                callbacks: &mut [&mut plateau],
                ..quiet()
            }
        )),
        "ReduceLROnPlateau: factor must be below 1.0"
    );
    assert_eq!(
        net.compile(Sgd::default(), SparseCategoricalCrossentropy::default())
            .with_metrics(&["categorical_accuracy"])
            .err()
            .unwrap()
            .to_string(),
        "metric \"categorical_accuracy\": needs one-hot targets, not class ids (use \
         \"sparse_categorical_accuracy\")"
    );
    let sgd = Sgd {
        schedule: Some(Schedule::ExponentialDecay(ExponentialDecay::new(
            0.1, 10, 0.5,
        ))),
        ..Default::default()
    };
    let mut scheduled = net.compile(sgd, SparseCategoricalCrossentropy::default());
    let mut halve = LearningRateScheduler::new(|_, lr| lr / 2.0);
    assert_eq!(
        scheduled
            .try_fit(&xs, &ys, FitOptions { callbacks: &mut [&mut halve], ..quiet() })
            .unwrap_err()
            .to_string(),
        "LearningRateScheduler: the optimizer has a learning-rate schedule, whose rate cannot be set"
    );
}

#[test]
fn borrowed_buffers_train_without_std_conveniences() {
    use static_keras::optimizers::{Optimizer, Sgd};
    use static_keras::train::{Trainable, Trainer};
    use static_keras::FitError;
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (mut xs, mut ys) = data(9);
    let sgd = Sgd {
        learning_rate: 0.5,
        momentum: 0.5,
        ..Default::default()
    };
    let mut grads = Net::zero_grads();
    let mut slots = vec![0.0; sgd.slots_per_param() * Net::TRAINABLE_PARAMS];
    let mut workspace = vec![0.0; Net::workspace_words(4)];
    let mut checkpoint = vec![0.0; Net::PARAMS];
    let mut trainer = Trainer::with_buffers(
        &mut net,
        sgd,
        SparseCategoricalCrossentropy::default(),
        &mut grads,
        &mut slots,
        &mut workspace,
    )
    .with_checkpoint(&mut checkpoint)
    .with_metrics(&["accuracy"])
    .unwrap();
    let too_big = FitOptions {
        batch_size: 5,
        verbose: 0,
        ..Default::default()
    };
    match trainer.fit_in_place(&mut xs, &mut ys, too_big) {
        Err(FitError::Workspace { batch: 5, .. }) => {}
        other => panic!("{other:?}"),
    }
    let mut stop = EarlyStopping {
        monitor: "loss",
        min_delta: 100.0,
        patience: 1,
        restore_best_weights: true,
        ..Default::default()
    };
    let logs = trainer
        .fit_in_place(
            &mut xs,
            &mut ys,
            FitOptions {
                batch_size: 4,
                epochs: 10,
                verbose: 0,
                callbacks: &mut [&mut stop],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(stop.stopped_epoch, 1);
    assert_eq!(trainer.iterations(), 6); // two epochs of ceil(9 / 4) steps
    assert!(logs["accuracy"] >= 0.0 && logs.get("loss").is_some());
    // The weights are back at the end of epoch 0: one more epoch from there repeats epoch 1.
    let (loss_0, _) = trainer.try_evaluate(&xs, &ys, 4).unwrap();
    assert!(loss_0.is_finite());
}

#[test]
fn evaluate_and_the_batch_methods_agree() {
    let mut net = Net::from_le_bytes(&weights(Net::PARAMS)).unwrap();
    let (xs, ys) = data(10);
    let mut trainer = net
        .compile(Adam::default(), SparseCategoricalCrossentropy::default())
        .with_metrics(&["accuracy"])
        .unwrap();
    let whole = trainer.test_on_batch(&xs, &ys).unwrap();
    let acc = trainer.metric_results().unwrap()["accuracy"];
    let (loss, metrics) = trainer.evaluate(&xs, &ys);
    assert_eq!((loss, metrics["accuracy"]), (whole, acc));
    let (loss_3, metrics_3) = trainer.try_evaluate(&xs, &ys, 3).unwrap();
    assert!((loss_3 - loss).abs() < 1e-6);
    assert_eq!(metrics_3["accuracy"], acc);
    let before = trainer.train_on_batch(&xs, &ys);
    assert_eq!(before, whole, "the loss before the update");
    assert_eq!(trainer.metric_results().unwrap()["accuracy"], acc);
}
