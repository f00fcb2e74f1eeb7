//! Model-level training parity (fixtures from `tools/gen_train.py`): `train_on_batch` with
//! every optimizer, whole `fit` runs with metrics, validation and callbacks, and `evaluate`,
//! against real Keras.
#![allow(dead_code)]

use std::io::Write;

use static_keras::Model;

/// Absolute error, relative above magnitude 1.
pub const TOLERANCE: f32 = 1e-5;

pub fn error(got: f32, want: f32) -> f32 {
    if got == want {
        return 0.0;
    }
    let e = (got - want).abs() / want.abs().max(1.0);
    if e.is_nan() {
        f32::INFINITY
    } else {
        e
    }
}

pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

pub fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Every weight of the model in Keras's `model.weights` order.
pub fn keras_weights<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

/// The inputs of a model from flat values.
pub fn inputs<M: Model<InputElem = f32>>(values: &[f32]) -> Vec<M::Input> {
    let len: usize = M::INPUT_SHAPE.iter().product();
    values
        .chunks_exact(len)
        .map(|s| M::input_from_slice(s).expect("fixture input has the model's size"))
        .collect()
}

/// Worst errors and failures of a suite.
pub struct Report {
    title: String,
    lines: Vec<String>,
    failures: Vec<String>,
    worst: (f32, String),
    case: (f32, String),
}

impl Report {
    pub fn new(title: String) -> Self {
        Self {
            title,
            lines: Vec::new(),
            failures: Vec::new(),
            worst: (0.0, String::new()),
            case: (0.0, String::new()),
        }
    }

    /// Compares one value.
    pub fn value(&mut self, what: &str, got: f32, want: f32) {
        let e = error(got, want);
        if e > self.case.0 || (self.case.1.is_empty() && e == 0.0) {
            self.case = (e, what.to_string());
        }
        if e > TOLERANCE {
            self.failures
                .push(format!("{what}: got {got}, Keras {want} (error {e:.3e})"));
        }
    }

    /// Compares two equally long lists of values.
    pub fn values(&mut self, what: &str, got: &[f32], want: &[f32]) {
        if got.len() != want.len() {
            self.failures.push(format!(
                "{what}: {} values but Keras has {}",
                got.len(),
                want.len()
            ));
            return;
        }
        let mut worst = (0.0f32, 0usize);
        for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
            let e = error(a, b);
            if e > worst.0 {
                worst = (e, i);
            }
        }
        let i = worst.1;
        self.value(&format!("{what}[{i}]"), got[i], want[i]);
    }

    /// Records a failure that is not a number.
    pub fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    /// Ends a case: one line with its worst error.
    pub fn end_case(&mut self, name: &str, detail: &str) {
        let (e, at) = std::mem::take(&mut self.case);
        self.lines
            .push(format!("{name:<36} {detail:<26} max error {e:.2e} ({at})"));
        if e >= self.worst.0 {
            self.worst = (e, at);
        }
    }

    pub fn finish(self) {
        let mut text = format!("\n{}:\n", self.title);
        for line in &self.lines {
            text += &format!("  {line}\n");
        }
        text += &format!(
            "  {} cases, worst error {:.2e} ({}), tolerance {:.0e}\n",
            self.lines.len(),
            self.worst.0,
            self.worst.1,
            TOLERANCE
        );
        let _ = std::io::stderr().write_all(text.as_bytes());
        assert!(
            self.failures.is_empty(),
            "training parity failures:\n{}",
            self.failures.join("\n")
        );
    }
}

/// `train_on_batch` from the same weights with every optimizer: the losses Keras returned and
/// every weight after each step.
macro_rules! steps_suite {
    (
        suite: $suite:literal,
        keras: $keras:literal,
        model: { $($body:tt)* },
        loss: $loss:expr,
        cases: [ $(
            $name:ident { optimizer: $opt:expr, losses: [$($l:literal),* $(,)?], keras_jit_vs_eager: $noise:literal }
        ),* $(,)? ],
    ) => {
        #[test]
        fn keras_train_on_batch() {
            #[allow(unused_imports)]
            use static_keras::losses::*;
            #[allow(unused_imports)]
            use static_keras::optimizers::*;
            static_keras::keras_model! {
                struct Net { $($body)* }
            }
            macro_rules! file {
                ($file:expr) => {
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", $file, ".bin"))
                };
            }
            let w0 = file!("model.w");
            let xs = train::inputs::<Net>(&train::f32s(file!("model.x")));
            let ys: Vec<_> = train::f32s(file!("model.t"))
                .chunks_exact(Net::OUTPUT_SHAPE.iter().product())
                .map(|t| Net::output_from_slice(t).unwrap())
                .collect();
            let steps = [$([$($l),*].len()),*][0];
            let batch = xs.len() / steps;
            let mut report = train::Report::new(format!(
                "Keras train_on_batch parity, suite \"{}\" ({steps} steps, batches of {batch}, Keras {})",
                $suite, $keras
            ));
            $({
                let name = stringify!($name);
                let mut net = Net::from_le_bytes(w0).unwrap();
                let mut trainer = net.compile($opt, $loss);
                let want = train::f32s(file!(stringify!($name)));
                let losses: &[f32] = &[$($l),*];
                for (s, &l) in losses.iter().enumerate() {
                    let got = trainer.train_on_batch(&xs[s * batch..][..batch], &ys[s * batch..][..batch]);
                    report.value(&format!("{name}: step {s} loss"), got, l);
                    let w = train::keras_weights(trainer.model());
                    report.values(
                        &format!("{name}: step {s} weight"),
                        &w,
                        &want[s * Net::PARAMS..][..Net::PARAMS],
                    );
                }
                report.end_case(
                    name,
                    &format!("Keras jit vs eager {:.1e}", $noise),
                );
            })*
            report.finish();
        }
    };
}

/// The targets of a fit case from their bytes.
macro_rules! targets {
    (dense, $net:ty, $bytes:expr) => {
        train::f32s($bytes)
            .chunks_exact(<$net>::OUTPUT_SHAPE.iter().product())
            .map(|t| <$net>::output_from_slice(t).unwrap())
            .collect::<Vec<_>>()
    };
    (ids, $net:ty, $bytes:expr) => {
        train::u32s($bytes)
    };
    (ids_seq($t:literal), $net:ty, $bytes:expr) => {
        train::u32s($bytes)
            .chunks_exact($t)
            .map(|c| <[u32; $t]>::try_from(c).unwrap())
            .collect::<Vec<_>>()
    };
}

/// Whole `fit` runs: the history (names in Keras's order, every epoch's value), the epochs run,
/// the final weights and learning rate, and `evaluate` with two batch sizes. `fit_in_place`
/// (the no_std loop) must give the same weights and last logs bit for bit.
macro_rules! fit_suite {
    (
        suite: $suite:literal,
        keras: $keras:literal,
        cases: [ $(
            $name:ident {
                model: { $($body:tt)* },
                loss: $loss:expr,
                optimizer: $opt:expr,
                targets: $kind:ident $(($t:literal))?,
                metrics: [$($m:literal),* $(,)?],
                samples: ($n:literal, $nv:literal, $nt:literal),
                options: { $($field:ident: $value:expr),* $(,)? },
                callbacks: [$($cb:expr),* $(,)?],
                history: [$(($key:literal, $vals:expr)),* $(,)?],
                epochs: [$($e:literal),* $(,)?],
                learning_rate: $lr:literal,
                evaluate: [$(($bs:literal, $ev:expr)),* $(,)?],
            }
        ),* $(,)? ],
    ) => {
        #[test]
        fn keras_fit() {
            #[allow(unused_imports)]
            use static_keras::callbacks::*;
            #[allow(unused_imports)]
            use static_keras::losses::*;
            #[allow(unused_imports)]
            use static_keras::optimizers::*;
            use static_keras::FitOptions;
            let mut report = train::Report::new(format!(
                "Keras fit/evaluate parity, suite \"{}\" (shuffle=False, Keras {})",
                $suite, $keras
            ));
            $({
                static_keras::keras_model! {
                    struct Net { $($body)* }
                }
                macro_rules! file {
                    ($ext:literal) => {
                        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".", $ext, ".bin"))
                    };
                }
                let name = stringify!($name);
                let x = train::inputs::<Net>(&train::f32s(file!("x")));
                let y = targets!($kind $(($t))?, Net, file!("y"));
                let vx = train::inputs::<Net>(&train::f32s(file!("vx")));
                let vy = targets!($kind $(($t))?, Net, file!("vy"));
                let tx = train::inputs::<Net>(&train::f32s(file!("tx")));
                let ty = targets!($kind $(($t))?, Net, file!("ty"));
                assert_eq!((x.len(), vx.len(), tx.len()), ($n, $nv, $nt));
                let metrics: &[&'static str] = &[$($m),*];

                // The std loop, over shared slices.
                let mut net = Net::from_le_bytes(file!("w0")).unwrap();
                let mut trainer = net.compile($opt, $loss).with_metrics(metrics).unwrap();
                let mut boxes: Vec<Box<dyn Callback>> = vec![$(Box::new($cb)),*];
                let mut callbacks: Vec<&mut dyn Callback> =
                    boxes.iter_mut().map(|b| &mut **b as &mut dyn Callback).collect();
                let history = trainer
                    .try_fit(&x, &y, FitOptions {
                        $($field: $value,)*
                        shuffle: false,
                        verbose: 0,
                        validation_data: ($nv > 0).then_some((&vx[..], &vy[..])),
                        callbacks: &mut callbacks,
                        ..Default::default()
                    })
                    .unwrap_or_else(|e| panic!("{name}: fit: {e}"));
                let want: &[(&str, &[f32])] = &[$(($key, $vals)),*];
                let keys: Vec<&str> = history.keys().collect();
                let want_keys: Vec<&str> = want.iter().map(|w| w.0).collect();
                if keys != want_keys {
                    report.fail(format!("{name}: history keys {keys:?}, Keras {want_keys:?}"));
                }
                let epochs: &[usize] = &[$($e),*];
                if history.epoch() != epochs {
                    report.fail(format!("{name}: epochs {:?}, Keras {epochs:?}", history.epoch()));
                }
                for (key, values) in want {
                    match history.get(key) {
                        Some(got) => report.values(&format!("{name}: {key}"), got, values),
                        None => report.fail(format!("{name}: no `{key}` in the history")),
                    }
                }
                report.value(&format!("{name}: learning_rate"), trainer.learning_rate(), $lr);
                let final_weights = train::keras_weights(trainer.model());
                report.values(&format!("{name}: final weight"), &final_weights, &train::f32s(file!("w1")));
                let evaluations: &[(usize, &[f32])] = &[$(($bs, $ev)),*];
                for &(bs, want) in evaluations {
                    let (loss, metrics) = trainer.try_evaluate(&tx, &ty, bs).unwrap();
                    let mut got = vec![loss];
                    got.extend(metrics.iter().map(|m| m.1));
                    report.values(&format!("{name}: evaluate(batch_size={bs})"), &got, want);
                }

                // The no_std loop over the same (copied) samples: the same bits.
                let mut net2 = Net::from_le_bytes(file!("w0")).unwrap();
                let mut trainer2 = net2.compile($opt, $loss).with_metrics(metrics).unwrap();
                let mut boxes: Vec<Box<dyn Callback>> = vec![$(Box::new($cb)),*];
                let mut callbacks: Vec<&mut dyn Callback> =
                    boxes.iter_mut().map(|b| &mut **b as &mut dyn Callback).collect();
                let (mut x2, mut y2) = (x.clone(), y.clone());
                let last = trainer2
                    .fit_in_place(&mut x2, &mut y2, FitOptions {
                        $($field: $value,)*
                        shuffle: false,
                        verbose: 0,
                        validation_data: ($nv > 0).then_some((&vx[..], &vy[..])),
                        callbacks: &mut callbacks,
                        ..Default::default()
                    })
                    .unwrap_or_else(|e| panic!("{name}: fit_in_place: {e}"));
                for (key, value) in last.iter() {
                    if history.last(key) != Some(value) {
                        report.fail(format!("{name}: fit_in_place logged {key} = {value}, fit {:?}", history.last(key)));
                    }
                }
                if train::keras_weights(trainer2.model()) != final_weights {
                    report.fail(format!("{name}: fit_in_place's weights differ from fit's"));
                }
                report.end_case(name, &format!("{} epochs, {} keys", epochs.len(), want.len()));
            })*
            report.finish();
        }
    };
}
