//! The Keras parity harness: runs models declared with `keras_model!` on inputs that real Keras
//! saw, with the weights Keras had, and compares with Keras's own `predict` output.
//!
//! Fixtures come from `tools/gen_fixtures.py` (real Keras, JAX backend, CPU). Each case has
//! `<name>.w.bin` (weights, `model.weights` order), `<name>.x.bin` (input batch) and `<name>.y.bin`
//! (Keras's output, several outputs concatenated per sample), all raw little-endian f32 except
//! the token ids of models that start with `Embedding`, which are little-endian u32.
#![allow(dead_code)] // each test crate that includes this module uses a different part of it

use std::io::Write;

use static_keras::{Model, Planned, Zeroable};

/// Absolute error, relative above magnitude 1: `|a − b| / max(1, |b|)`.
pub const TOLERANCE: f32 = 1e-5;

/// The kernels the cases run on: `STATIC_KERAS_KERNELS` = `fastest` (the default), `avx2` (at
/// most AVX2 + FMA on x86_64: what an AVX2-only CPU runs) or `portable`, so that a whole suite
/// can be checked against Keras on each.
pub fn kernels() -> static_keras::kernels::Kernels {
    use static_keras::kernels::Kernels;
    match std::env::var("STATIC_KERAS_KERNELS").as_deref() {
        Err(std::env::VarError::NotPresent) | Ok("" | "fastest") => Kernels::Fastest,
        Ok("avx2") => Kernels::Avx2,
        Ok("portable") => Kernels::Portable,
        other => panic!("STATIC_KERAS_KERNELS is {other:?}: fastest, avx2 or portable"),
    }
}

pub fn read_f32(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(bytes.len() % 4, 0, "fixture length is not a multiple of 4");
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// An input element as a fixture stores it: f32 values, or u32 token ids.
pub trait FixtureElem: Copy {
    fn from_le(bytes: [u8; 4]) -> Self;
}

impl FixtureElem for f32 {
    fn from_le(bytes: [u8; 4]) -> Self {
        f32::from_le_bytes(bytes)
    }
}

impl FixtureElem for u32 {
    fn from_le(bytes: [u8; 4]) -> Self {
        u32::from_le_bytes(bytes)
    }
}

pub fn read_elems<E: FixtureElem>(bytes: &[u8]) -> Vec<E> {
    assert_eq!(bytes.len() % 4, 0, "fixture length is not a multiple of 4");
    bytes
        .chunks_exact(4)
        .map(|b| E::from_le([b[0], b[1], b[2], b[3]]))
        .collect()
}

pub fn error(got: f32, want: f32) -> f32 {
    if got == want || (got.is_nan() && want.is_nan()) {
        return 0.0; // equal infinities included
    }
    (got - want).abs() / want.abs().max(1.0)
}

pub struct Report {
    suite: &'static str,
    keras: &'static str,
    lines: Vec<String>,
    failures: Vec<String>,
    worst: (f32, String),
    values: usize,
}

impl Report {
    pub fn new(suite: &'static str, keras: &'static str) -> Self {
        Self {
            suite,
            keras,
            lines: Vec::new(),
            failures: Vec::new(),
            worst: (0.0, String::new()),
            values: 0,
        }
    }

    /// Runs one case: `M` declared from the same layer list Keras built, on the [`kernels`]
    /// chosen.
    pub fn case<M: Model + Planned + Zeroable>(
        &mut self,
        name: &str,
        weights: &[u8],
        x: &[u8],
        y: &[u8],
        output_shapes: &[&[usize]],
        params: usize,
    ) where
        M::InputElem: FixtureElem,
    {
        static_keras::kernels::with(kernels(), || {
            self.case_on::<M>(name, weights, x, y, output_shapes, params)
        })
    }

    /// [`Report::case`] on the kernels in effect.
    fn case_on<M: Model + Planned + Zeroable>(
        &mut self,
        name: &str,
        weights: &[u8],
        x: &[u8],
        y: &[u8],
        output_shapes: &[&[usize]],
        params: usize,
    ) where
        M::InputElem: FixtureElem,
    {
        if M::PARAMS != params {
            self.failures.push(format!(
                "{name}: PARAMS {} but Keras count_params() {params}",
                M::PARAMS
            ));
            return;
        }
        // The Sequential suites record the main output's shape only.
        if M::OUTPUT_SHAPES.get(..output_shapes.len()) != Some(output_shapes) {
            self.failures.push(format!(
                "{name}: OUTPUT_SHAPES {:?} but Keras {output_shapes:?}",
                M::OUTPUT_SHAPES
            ));
            return;
        }
        // Built on the heap as zero bytes and set up in place, as big models are.
        let mut model = M::zeroed_boxed();
        if let Err(e) = static_keras::load_le_bytes(&mut *model, weights) {
            self.failures.push(format!("{name}: weights: {e}"));
            return;
        }
        let (x, y) = (read_elems::<M::InputElem>(x), read_f32(y));
        // Several inputs: their values one after the other, as `input_from_slice` takes them.
        let in_len: usize = M::INPUT_SHAPES
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum();
        let batch = x.len() / in_len;
        assert_eq!(
            y.len(),
            batch * M::OUTPUT_LEN,
            "{name}: fixture sizes disagree"
        );
        let mut out = vec![0.0f32; M::OUTPUT_LEN];
        let mut planned = vec![0.0f32; M::OUTPUT_LEN];
        let mut workspace = M::boxed_workspace();
        let mut worst = (0.0f32, 0usize, 0.0f32, 0.0f32);
        for (sample, want) in x.chunks_exact(in_len).zip(y.chunks_exact(M::OUTPUT_LEN)) {
            let input = M::input_from_slice(sample).expect("fixture input has the model's size");
            M::output_to_slice(&model.predict(&input), &mut out);
            // The planned workspace computes the very bits of `predict`.
            M::output_to_slice(&model.predict_in(&input, &mut workspace), &mut planned);
            if let Some(i) = (0..out.len()).find(|&i| out[i].to_bits() != planned[i].to_bits()) {
                self.failures.push(format!(
                    "{name}: predict_in gives {} at output {i} but predict {}",
                    planned[i], out[i]
                ));
                return;
            }
            for (i, (&g, &w)) in out.iter().zip(want).enumerate() {
                let e = error(g, w);
                if e > worst.0 || e.is_nan() {
                    worst = (if e.is_nan() { f32::INFINITY } else { e }, i, g, w);
                }
            }
        }
        self.values += y.len();
        self.lines.push(format!(
            "{name:<32} {batch:>3} samples  max error {:.2e}",
            worst.0
        ));
        if worst.0 > self.worst.0 {
            self.worst = (worst.0, name.to_string());
        }
        if worst.0.is_nan() || worst.0 > TOLERANCE {
            self.failures.push(format!(
                "{name}: error {:.3e} at output {} (got {}, Keras {})",
                worst.0, worst.1, worst.2, worst.3
            ));
        }
    }

    /// Compares the model's `summary()` (without its first line, which names the model) with
    /// the one Keras printed.
    pub fn summary(&mut self, name: &str, ours: &str, keras: &str) {
        let ours = ours.split_once('\n').map_or("", |(_, rest)| rest);
        if ours.trim_end() != keras.trim_end() {
            self.failures.push(format!(
                "{name}: summary differs from Keras's:\n--- ours\n{ours}\n--- Keras\n{keras}"
            ));
        }
    }

    /// Prints the table (past the test harness's capture, so it shows in every run) and fails on
    /// any case out of tolerance.
    pub fn finish(self) {
        let mut text = format!(
            "\nKeras parity, suite \"{}\" (fixtures from Keras {}), kernels {:?}:\n",
            self.suite,
            self.keras,
            kernels()
        );
        for line in &self.lines {
            text += &format!("  {line}\n");
        }
        text += &format!(
            "  {} cases, {} values compared, worst error {:.2e} ({}), tolerance {:.0e}\n",
            self.lines.len(),
            self.values,
            self.worst.0,
            self.worst.1,
            TOLERANCE
        );
        let _ = std::io::stderr().write_all(text.as_bytes());
        assert!(
            self.failures.is_empty(),
            "parity failures:\n{}",
            self.failures.join("\n")
        );
    }
}

/// Declares the parity test of one suite; the generator writes its invocation.
macro_rules! parity_suite {
    (
        suite: $suite:literal,
        keras: $keras:literal,
        cases: [ $(
            $name:ident { input_shape: $shape:tt, layers: [$($layers:tt)*], output_shape: [$($out:literal),*], params: $params:literal }
        ),* $(,)? ],
    ) => {
        #[test]
        fn keras_parity() {
            let mut report = parity::Report::new($suite, $keras);
            $({
                static_keras::keras_model! {
                    struct Case { input_shape: $shape, layers: [$($layers)*], }
                }
                report.case::<Case>(
                    stringify!($name),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".w.bin")),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".x.bin")),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".y.bin")),
                    &[&[$($out),*]],
                    $params,
                );
            })*
            report.finish();
        }
    };
    // Functional models: the case's text is the model's body, as Keras ran it.
    (
        suite: $suite:literal,
        keras: $keras:literal,
        graphs: [ $(
            $name:ident { graph: { $($body:tt)* }, output_shapes: [$([$($out:literal),*]),*], params: $params:literal $(, summary: $summary:literal)? $(,)? }
        ),* $(,)? ],
    ) => {
        #[test]
        fn keras_parity() {
            let mut report = parity::Report::new($suite, $keras);
            $({
                static_keras::keras_model! {
                    struct Case { $($body)* }
                }
                report.case::<Case>(
                    stringify!($name),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".w.bin")),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".x.bin")),
                    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".y.bin")),
                    &[$(&[$($out),*]),*],
                    $params,
                );
                // `summary: false`: Keras's summary lists layers static-keras does not have (the
                // mask operations of a functional model), so only the outputs are compared.
                if true $(&& $summary)? {
                    report.summary(
                        stringify!($name),
                        Case::summary(),
                        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $suite, "/", stringify!($name), ".summary.txt")),
                    );
                }
            })*
            report.finish();
        }
    };
}
