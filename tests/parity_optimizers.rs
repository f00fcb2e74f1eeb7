//! Keras parity of the optimizers and learning-rate schedules: every configuration runs the steps
//! Keras ran (`optimizer.apply_gradients` on three variables from the same initial values with
//! the same gradients) and must give Keras's variables after every step and Keras's
//! `optimizer.variables` (names, order and values) after the last one.
//!
//! Fixtures come from `tools/gen_optimizers.py` (real Keras, JAX backend, CPU): `inputs.bin`
//! (initial values, then every step's gradients), `<case>.bin` (eager `apply_gradients`, the
//! reference), `<case>.jit.bin` (the same steps compiled by XLA, as `fit` runs them) and
//! `cases.rs` (the cases as Rust).
#[macro_use]
#[allow(unused_macros)]
mod parity;

use std::io::Write;

use parity::{error, read_f32, TOLERANCE};
use static_keras_runtime::train::optimizers::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, CosineDecay, ExponentialDecay, Lion, Nadam, Optimizer,
    RmsProp, SavedVariable, Schedule, Sgd, Var,
};

struct Case {
    name: &'static str,
    steps: usize,
    optimizer: Box<dyn Optimizer>,
    saved: &'static [&'static str],
}

struct Rejected {
    name: &'static str,
    optimizer: Box<dyn Optimizer>,
    keras: &'static str,
}

macro_rules! optimizer_cases {
    ($($name:ident { steps: $steps:expr, optimizer: $optimizer:expr, saved: [$($saved:literal),*] },)*) => {
        fn cases() -> Vec<Case> {
            vec![$(Case {
                name: stringify!($name),
                steps: $steps,
                optimizer: Box::new($optimizer),
                saved: &[$($saved),*],
            }),*]
        }
    };
}

macro_rules! rejected_cases {
    ($($name:ident { optimizer: $optimizer:expr, keras: $keras:literal },)*) => {
        fn rejected() -> Vec<Rejected> {
            vec![$(Rejected {
                name: stringify!($name),
                optimizer: Box::new($optimizer),
                keras: $keras,
            }),*]
        }
    };
}

include!("fixtures/optimizers/cases.rs");

fn fixture(name: &str) -> Vec<f32> {
    let path = format!(
        "{}/tests/fixtures/optimizers/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    read_f32(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The worst error seen and how many values differed from Keras's in any bit.
#[derive(Default)]
struct Tally {
    worst: f32,
    at: String,
    values: usize,
    inexact: usize,
}

impl Tally {
    fn compare(&mut self, got: &[f32], want: &[f32], what: impl Fn(usize) -> String) {
        assert_eq!(got.len(), want.len(), "{}: length", what(0));
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let e = error(g, w);
            let e = if e.is_nan() { f32::INFINITY } else { e };
            self.values += 1;
            self.inexact += usize::from(g.to_bits() != w.to_bits());
            if e > self.worst || (self.at.is_empty() && e == self.worst) {
                self.worst = e;
                self.at = format!("{} (got {g}, Keras {w})", what(i));
            }
        }
    }
}

/// Runs one case against one reference; returns the tally of the weights (every step) and of the
/// saved optimizer variables (after the last step).
fn run(case: &Case, reference: &[f32], inputs: &[f32]) -> Result<(Tally, Tally), String> {
    let opt = &*case.optimizer;
    opt.validate().map_err(|e| e.to_string())?;
    let lens: Vec<usize> = SHAPES.iter().map(|s| s.iter().product()).collect();
    let total: usize = lens.iter().sum();
    let split = |flat: &[f32]| -> Vec<Vec<f32>> {
        let mut at = 0;
        lens.iter()
            .map(|&n| {
                at += n;
                flat[at - n..at].to_vec()
            })
            .collect()
    };
    let mut values = split(&inputs[..total]);
    let mut slots: Vec<Vec<f32>> = lens
        .iter()
        .map(|&n| {
            let mut s = vec![0.0; n * opt.slots_per_param()];
            opt.init_slots(&mut s);
            s
        })
        .collect();
    let mut state = opt.new_state();
    let (mut weights, mut saved) = (Tally::default(), Tally::default());
    for step in 0..case.steps {
        let mut grads = split(&inputs[total * (step + 1)..total * (step + 2)]);
        let mut vars: Vec<Var<'_>> = values
            .iter_mut()
            .zip(grads.iter_mut())
            .zip(slots.iter_mut())
            .map(|((v, g), s)| Var::new(v, g, s))
            .collect();
        opt.apply(&mut state, &mut vars)
            .map_err(|e| e.to_string())?;
        let want = split(&reference[total * step..total * (step + 1)]);
        for (v, (got, want)) in values.iter().zip(&want).enumerate() {
            weights.compare(got, want, |i| format!("step {} v{v}[{i}]", step + 1));
        }
    }

    // `optimizer.variables`: the same names in the same order, and the same values.
    let mut keras = &reference[total * case.steps..];
    let order: Vec<SavedVariable> = opt.saved_variables(SHAPES.len()).collect();
    if order.len() != case.saved.len() {
        return Err(format!(
            "{} saved variables, Keras has {}: {:?}",
            order.len(),
            case.saved.len(),
            case.saved
        ));
    }
    for (item, &keras_name) in order.iter().zip(case.saved) {
        let (name, ours): (String, Vec<f32>) = match *item {
            SavedVariable::Iteration => ("iteration".into(), vec![state.iterations as f32]),
            SavedVariable::LearningRate => ("learning_rate".into(), vec![state.learning_rate]),
            SavedVariable::Slot {
                variable,
                slot,
                name,
            } => {
                let n = lens[variable];
                (
                    format!("v{variable}_{name}"),
                    slots[variable][slot * n..(slot + 1) * n].to_vec(),
                )
            }
            SavedVariable::UProduct => ("variable".into(), vec![state.u_product]),
        };
        // Keras names Nadam's unnamed `u_product` "variable", made unique per process
        // ("variable_2", …).
        let same = name == keras_name
            || (name == "variable" && keras_name.strip_prefix("variable_").is_some());
        if !same {
            return Err(format!(
                "saved variables {:?}, Keras {:?}",
                order, case.saved
            ));
        }
        saved.compare(&ours, &keras[..ours.len()], |i| format!("{name}[{i}]"));
        keras = &keras[ours.len()..];
    }
    assert!(keras.is_empty(), "{}: fixture has extra values", case.name);
    Ok((weights, saved))
}

fn check_all(suffix: &str, title: &str) {
    let inputs = fixture("inputs.bin");
    let total: usize = SHAPES.iter().map(|s| s.iter().product::<usize>()).sum();
    assert_eq!(inputs.len(), total * (1 + MAX_STEPS), "inputs.bin size");
    let mut text =
        format!("\nKeras parity, optimizers ({title}; fixtures from Keras {KERAS_VERSION}):\n");
    let mut failures = Vec::new();
    let (mut worst, mut values, mut inexact) = (0.0f32, 0, 0);
    let cases = cases();
    for case in &cases {
        let reference = fixture(&format!("{}{suffix}", case.name));
        match run(case, &reference, &inputs) {
            Ok((w, s)) => {
                text += &format!(
                    "  {:<30} {:>2} steps  weights {:.2e}  slots {:.2e}  {:>4}/{} values not bit-equal\n",
                    case.name,
                    case.steps,
                    w.worst,
                    s.worst,
                    w.inexact + s.inexact,
                    w.values + s.values
                );
                for t in [&w, &s] {
                    worst = worst.max(t.worst);
                    if t.worst > TOLERANCE {
                        failures.push(format!("{}: error {:.3e} at {}", case.name, t.worst, t.at));
                    }
                }
                values += w.values + s.values;
                inexact += w.inexact + s.inexact;
            }
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    text += &format!(
        "  {} cases, {values} values compared, {inexact} not bit-equal, worst error {worst:.2e}, tolerance {TOLERANCE:.0e}\n",
        cases.len()
    );
    let _ = std::io::stderr().write_all(text.as_bytes());
    assert!(
        failures.is_empty(),
        "parity failures:\n{}",
        failures.join("\n")
    );
}

/// The reference: Keras's eager `optimizer.apply_gradients`, op by op in f32.
#[test]
fn optimizers_match_keras_apply_gradients() {
    check_all(".bin", "eager apply_gradients");
}

/// The step as `fit` runs it, compiled by XLA (which fuses multiply-adds): the last bits differ.
#[test]
fn optimizers_match_keras_compiled_step() {
    check_all(".jit.bin", "jax.jit(stateless_apply), as in fit");
}

/// Every configuration Keras's constructors reject is an error here too.
#[test]
fn keras_rejects_what_validate_rejects() {
    let mut text = String::from("\nConfigurations Keras rejects:\n");
    let mut failures = Vec::new();
    for case in rejected() {
        match case.optimizer.validate() {
            Ok(()) => failures.push(format!("{}: accepted; Keras: {}", case.name, case.keras)),
            Err(e) => text += &format!("  {:<30} {e}\n    Keras: {}\n", case.name, case.keras),
        }
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
