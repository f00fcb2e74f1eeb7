//! Gradient parity: the loss and `∂loss/∂w` of every trainable variable against `jax.grad` over
//! Keras's own `stateless_call(..., training=True)` (fixtures from `tools/gen_grads.py`).
#![allow(dead_code)]

use std::io::Write;

use static_keras::train::losses::Loss;
use static_keras::train::{TrainCtx, Trainable};

/// Absolute error, relative above magnitude 1.
pub const TOLERANCE: f32 = 1e-5;

fn error(got: f32, want: f32) -> f32 {
    if got == want {
        return 0.0;
    }
    (got - want).abs() / want.abs().max(1.0)
}

pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// An input element from the fixture's f32 (token ids are stored as whole floats).
pub trait InputElem: Copy {
    fn from_f32(v: f32) -> Self;
}

impl InputElem for f32 {
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl InputElem for u32 {
    fn from_f32(v: f32) -> Self {
        assert!(v >= 0.0 && v == v.trunc(), "a token id: {v}");
        v as u32
    }
}

/// A target element as the fixture stores it.
pub trait TargetElem: Copy {
    fn read(bytes: &[u8]) -> Vec<Self>;
}

impl TargetElem for f32 {
    fn read(bytes: &[u8]) -> Vec<Self> {
        f32s(bytes)
    }
}

impl TargetElem for u32 {
    fn read(bytes: &[u8]) -> Vec<Self> {
        bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

pub struct Report {
    suite: &'static str,
    keras: &'static str,
    lines: Vec<String>,
    failures: Vec<String>,
    worst: (f32, String),
}

impl Report {
    pub fn new(suite: &'static str, keras: &'static str) -> Self {
        Self {
            suite,
            keras,
            lines: Vec::new(),
            failures: Vec::new(),
            worst: (0.0, String::new()),
        }
    }

    /// Runs one case and compares its loss and gradients; returns the model after the step
    /// (for [`Report::after`]), `None` when it could not run.
    #[allow(clippy::too_many_arguments)]
    pub fn case<M, L>(
        &mut self,
        name: &str,
        w: &[u8],
        x: &[u8],
        t: &[u8],
        g: &[u8],
        loss: L,
        value: f32,
    ) -> Option<M>
    where
        M: Trainable,
        M::InputElem: InputElem,
        L: Loss,
        L::Target: TargetElem,
    {
        let mut model = M::zeroed();
        if let Err(e) = static_keras::load_le_bytes(&mut model, w) {
            self.failures.push(format!("{name}: weights: {e}"));
            return None;
        }
        let x = f32s(x);
        let in_len: usize = M::INPUT_SHAPE.iter().product();
        let inputs: Vec<M::Input> = x
            .chunks_exact(in_len)
            .map(|s| {
                let s: Vec<M::InputElem> = s.iter().map(|&v| InputElem::from_f32(v)).collect();
                M::input_from_slice(&s).expect("fixture input has the model's size")
            })
            .collect();
        let targets = L::Target::read(t);
        let mut grads = M::zero_grads();
        let mut workspace = vec![0.0f32; M::workspace_words(inputs.len())];
        let got = match model.train_batch(
            &inputs,
            &targets,
            &loss,
            &mut grads,
            &mut workspace,
            &mut TrainCtx::new(0),
        ) {
            Ok(loss) => loss,
            Err(e) => {
                self.failures.push(format!("{name}: loss: {e}"));
                return None;
            }
        };
        let mut ours = Vec::new();
        M::grads_in_keras_order(&grads, &mut |v| ours.push(v));
        let want = f32s(g);
        let mut worst = (error(got, value), "loss".to_string(), got, value);
        if ours.len() != want.len() {
            self.failures.push(format!(
                "{name}: {} gradient values but Keras has {}",
                ours.len(),
                want.len()
            ));
            return None;
        }
        for (i, (&a, &b)) in ours.iter().zip(&want).enumerate() {
            let e = error(a, b);
            if e > worst.0 || e.is_nan() {
                worst = (
                    if e.is_nan() { f32::INFINITY } else { e },
                    format!("gradient {i}"),
                    a,
                    b,
                );
            }
        }
        self.lines.push(format!(
            "{name:<32} {:>5} gradients  loss {got:>10.6}  max error {:.2e}",
            want.len(),
            worst.0
        ));
        if worst.0 > self.worst.0 {
            self.worst = (worst.0, name.to_string());
        }
        if worst.0.is_nan() || worst.0 > TOLERANCE {
            self.failures.push(format!(
                "{name}: error {:.3e} at {} (got {}, Keras {})",
                worst.0, worst.1, worst.2, worst.3
            ));
        }
        Some(model)
    }

    /// Compares every weight of `model` after its training step (`model.weights` order) with
    /// Keras's after `stateless_call`: the moving statistics updated, the rest unchanged.
    pub fn after<M: static_keras::Model>(&mut self, name: &str, model: Option<&M>, a: &[u8]) {
        let Some(model) = model else { return };
        let mut ours = Vec::new();
        model.visit_layers(&mut |_, layer| {
            for i in 0..layer.variables().len() {
                layer.store_variable(i, &mut |v| ours.push(v));
            }
        });
        let want = f32s(a);
        if ours.len() != want.len() {
            self.failures.push(format!(
                "{name}: {} weights after the step but Keras has {}",
                ours.len(),
                want.len()
            ));
            return;
        }
        let mut worst = (0.0f32, 0usize);
        for (i, (&a, &b)) in ours.iter().zip(&want).enumerate() {
            let e = error(a, b);
            if e > worst.0 || e.is_nan() {
                worst = (if e.is_nan() { f32::INFINITY } else { e }, i);
            }
        }
        if let Some(line) = self.lines.last_mut() {
            *line += &format!("  weights after {:.2e}", worst.0);
        }
        if worst.0 > self.worst.0 {
            self.worst = (worst.0, format!("{name} (weights after the step)"));
        }
        if worst.0 > TOLERANCE {
            self.failures.push(format!(
                "{name}: weight {} after the step: error {:.3e} (got {}, Keras {})",
                worst.1, worst.0, ours[worst.1], want[worst.1]
            ));
        }
    }

    pub fn finish(self) {
        let mut text = format!(
            "\nKeras gradient parity, suite \"{}\" (jax.grad, Keras {}):\n",
            self.suite, self.keras
        );
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
            "gradient parity failures:\n{}",
            self.failures.join("\n")
        );
    }
}

/// Declares the gradient test of one suite; the generator writes its invocation.
macro_rules! grads_suite {
    (
        suite: $suite:literal,
        keras: $keras:literal,
        cases: [ $(
            $name:ident {
                model: { $($body:tt)* },
                loss: $loss:expr,
                value: $value:literal
                $(, after: $after:literal)? $(,)?
            }
        ),* $(,)? ],
    ) => {
        #[test]
        fn keras_gradients() {
            #[allow(unused_imports)]
            use static_keras::losses::*;
            let mut report = grads::Report::new($suite, $keras);
            $({
                static_keras::keras_model! {
                    struct Case { $($body)* }
                }
                macro_rules! file {
                    ($ext:literal) => {
                        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".", $ext, ".bin"))
                    };
                }
                let _model = report.case::<Case, _>(
                    stringify!($name),
                    file!("w"),
                    file!("x"),
                    file!("t"),
                    file!("g"),
                    $loss,
                    $value,
                );
                $(report.after(stringify!($name), _model.as_ref(), file!($after));)?
            })*
            report.finish();
        }
    };
}
