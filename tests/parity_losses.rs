//! Keras parity of the training losses and metrics: every loss's value and its gradient with
//! respect to `y_pred` (JAX's `value_and_grad` of the Keras loss object), every accuracy's
//! running `result()` over several batches, the loss tracker, and the resolution of
//! `metrics=["accuracy"]` from shapes.
//!
//! Fixtures: `tools/gen_losses.py` (real Keras, JAX backend, CPU) writes
//! `tests/fixtures/losses/manifest.json` and one `<case>.bin` per case.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;
use static_keras::train::losses::{
    BinaryCrossentropy, CategoricalCrossentropy, CosineSimilarity, Hinge, Huber, KlDivergence,
    LogCosh, Loss, MeanAbsoluteError, MeanSquaredError, Poisson, Reduction,
    SparseCategoricalCrossentropy, SquaredHinge,
};
use static_keras::train::metrics::{
    resolve_accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, SparseCategoricalAccuracy,
    UpdateState,
};
use static_keras::train::Batch;

/// `|a − b| / max(1, |b|)`, the project's parity tolerance.
const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/losses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn manifest() -> Value {
    serde_json::from_slice(&fixture("manifest.json")).expect("manifest.json parses")
}

/// A case's arrays, by name, as raw little-endian words.
struct Arrays(BTreeMap<String, Vec<[u8; 4]>>);

impl Arrays {
    fn read(case: &Value) -> Self {
        let name = case["name"].as_str().unwrap();
        let bytes = fixture(&format!("{name}.bin"));
        let mut words = bytes.chunks_exact(4).map(|b| [b[0], b[1], b[2], b[3]]);
        let mut map = BTreeMap::new();
        for a in case["arrays"].as_array().unwrap() {
            let n = a[2].as_u64().unwrap() as usize;
            let v: Vec<[u8; 4]> = words.by_ref().take(n).collect();
            assert_eq!(v.len(), n, "{name}: fixture too short");
            map.insert(a[0].as_str().unwrap().to_string(), v);
        }
        assert!(words.next().is_none(), "{name}: fixture too long");
        Arrays(map)
    }

    fn f32(&self, key: &str) -> Option<Vec<f32>> {
        self.0
            .get(key)
            .map(|v| v.iter().map(|&b| f32::from_le_bytes(b)).collect())
    }

    fn u32(&self, key: &str) -> Option<Vec<u32>> {
        self.0
            .get(key)
            .map(|v| v.iter().map(|&b| u32::from_le_bytes(b)).collect())
    }

    fn mask(&self, key: &str) -> Option<Vec<bool>> {
        self.u32(key).map(|v| v.iter().map(|&m| m != 0).collect())
    }
}

fn error(got: f32, want: f32) -> f32 {
    if got == want || (got.is_nan() && want.is_nan()) {
        return 0.0;
    }
    let e = (got - want).abs() / want.abs().max(1.0);
    if e.is_nan() {
        f32::INFINITY
    } else {
        e
    }
}

/// Worst errors per Keras class, and the failures.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    worst: BTreeMap<String, (f32, String, usize)>,
    failures: Vec<String>,
    values: usize,
}

impl Report {
    /// Compares `got` with `want` element by element under the tolerance.
    fn compare(&mut self, class: &str, case: &str, what: &str, got: &[f32], want: &[f32]) -> f32 {
        assert_eq!(got.len(), want.len(), "{case}: {what} lengths");
        let mut worst = (0.0f32, 0usize);
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let e = error(g, w);
            if e > worst.0 {
                worst = (e, i);
            }
        }
        self.values += got.len();
        if worst.0 > TOLERANCE {
            self.failures.push(format!(
                "{case}: {what}[{}] = {} but Keras {} (error {:.2e})",
                worst.1, got[worst.1], want[worst.1], worst.0
            ));
        }
        let entry = self
            .worst
            .entry(class.to_string())
            .or_insert((0.0, String::new(), 0));
        entry.2 += 1;
        if worst.0 >= entry.0 {
            (entry.0, entry.1) = (worst.0, case.to_string());
        }
        worst.0
    }

    fn finish(self, title: &str) {
        let mut text = format!("\n{title}:\n");
        for line in &self.lines {
            text += &format!("  {line}\n");
        }
        text += "  worst error per class:\n";
        for (class, (e, case, n)) in &self.worst {
            text += &format!("    {class:<30} {n:>3} comparisons  worst {e:.2e} ({case})\n");
        }
        text += &format!(
            "  {} values compared, tolerance {TOLERANCE:.0e}\n",
            self.values
        );
        let _ = std::io::stderr().write_all(text.as_bytes());
        assert!(
            self.failures.is_empty(),
            "parity failures:\n{}",
            self.failures.join("\n")
        );
    }
}

/// The case's Keras arguments, each read once; leftovers are an error, so no option the
/// fixture set can be ignored here.
struct Config(serde_json::Map<String, Value>);

impl Config {
    fn take(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    fn bool(&mut self, key: &str) -> bool {
        self.take(key).is_some_and(|v| v.as_bool().unwrap())
    }

    fn f32(&mut self, key: &str, default: f32) -> f32 {
        self.take(key)
            .map_or(default, |v| v.as_f64().unwrap() as f32)
    }

    fn reduction(&mut self) -> Reduction {
        match self.take("reduction").as_ref().and_then(Value::as_str) {
            None | Some("sum_over_batch_size") => Reduction::SumOverBatchSize,
            Some("sum") => Reduction::Sum,
            Some("mean_with_sample_weight") => Reduction::MeanWithSampleWeight,
            Some(other) => panic!("reduction {other:?}"),
        }
    }

    fn done(self, case: &str) {
        assert!(self.0.is_empty(), "{case}: unused arguments {:?}", self.0);
    }
}

/// The fixture's element type of `y_true`.
trait Target: Copy {
    fn read(arrays: &Arrays, key: &str) -> Option<Vec<Self>>;
}

impl Target for f32 {
    fn read(arrays: &Arrays, key: &str) -> Option<Vec<Self>> {
        arrays.f32(key)
    }
}

impl Target for u32 {
    fn read(arrays: &Arrays, key: &str) -> Option<Vec<Self>> {
        arrays.u32(key)
    }
}

fn run_loss<L: Loss>(report: &mut Report, case: &Value, loss: L)
where
    L::Target: Target,
{
    let name = case["name"].as_str().unwrap();
    let class = case["class"].as_str().unwrap();
    let a = Arrays::read(case);
    let y_true = L::Target::read(&a, "y_true").unwrap();
    let y_pred = a.f32("y_pred").unwrap();
    let weights = a.f32("sample_weight");
    let mask = a.mask("mask");
    let last = case["last"].as_u64().unwrap() as usize;
    let mut batch = Batch::new(&y_true, &y_pred, last);
    if let Some(w) = &weights {
        batch = batch.with_sample_weight(w);
    }
    if let Some(m) = &mask {
        batch = batch.with_mask(m);
    }
    let mut grad = vec![f32::NAN; y_pred.len()];
    let value = match loss.compute(&batch, Some(&mut grad)) {
        Ok(v) => v,
        Err(e) => {
            report.failures.push(format!("{name}: {e}"));
            return;
        }
    };
    // The value without the gradient must be the same number.
    let alone = loss.value(&batch).unwrap();
    if alone.to_bits() != value.to_bits() && !(alone.is_nan() && value.is_nan()) {
        report
            .failures
            .push(format!("{name}: value() {alone} but compute() {value}"));
    }
    let want_value = a.f32("value").unwrap();
    let ev = report.compare(class, name, "value", &[value], &want_value);
    let eg = report.compare(class, name, "grad", &grad, &a.f32("grad").unwrap());
    report.lines.push(format!(
        "{name:<36} {:>3} values  loss {:>12.6}  value error {ev:.2e}  grad error {eg:.2e}",
        y_pred.len(),
        want_value[0]
    ));
}

fn loss_case(report: &mut Report, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let mut c = Config(case["config"].as_object().unwrap().clone());
    let reduction = c.reduction();
    match case["class"].as_str().unwrap() {
        "MeanSquaredError" => run_loss(report, case, MeanSquaredError { reduction }),
        "MeanAbsoluteError" => run_loss(report, case, MeanAbsoluteError { reduction }),
        "Huber" => {
            let delta = c.f32("delta", 1.0);
            run_loss(report, case, Huber { delta, reduction })
        }
        "LogCosh" => run_loss(report, case, LogCosh { reduction }),
        "Poisson" => run_loss(report, case, Poisson { reduction }),
        "KLDivergence" => run_loss(report, case, KlDivergence { reduction }),
        "Hinge" => run_loss(report, case, Hinge { reduction }),
        "SquaredHinge" => run_loss(report, case, SquaredHinge { reduction }),
        "CosineSimilarity" => run_loss(
            report,
            case,
            CosineSimilarity {
                reduction,
                ..Default::default()
            },
        ),
        "BinaryCrossentropy" => {
            let loss = BinaryCrossentropy {
                from_logits: c.bool("from_logits"),
                label_smoothing: c.f32("label_smoothing", 0.0),
                reduction,
                ..Default::default()
            };
            run_loss(report, case, loss)
        }
        "CategoricalCrossentropy" => {
            let loss = CategoricalCrossentropy {
                from_logits: c.bool("from_logits"),
                label_smoothing: c.f32("label_smoothing", 0.0),
                reduction,
                ..Default::default()
            };
            run_loss(report, case, loss)
        }
        "SparseCategoricalCrossentropy" => {
            let loss = SparseCategoricalCrossentropy {
                from_logits: c.bool("from_logits"),
                ignore_class: c.take("ignore_class").map(|v| v.as_u64().unwrap() as u32),
                reduction,
                ..Default::default()
            };
            run_loss(report, case, loss)
        }
        other => panic!("{name}: no Rust loss for Keras class {other}"),
    }
    c.done(name);
}

#[test]
fn keras_parity_losses() {
    let m = manifest();
    let mut report = Report::default();
    let cases = m["cases"].as_array().unwrap();
    let mut n = 0;
    for case in cases.iter().filter(|c| c["kind"] == "loss") {
        loss_case(&mut report, case);
        n += 1;
    }
    assert!(n >= 60, "only {n} loss cases");
    assert_eq!(report.worst.len(), 12, "every loss has cases");
    report.finish(&format!(
        "Keras parity, losses ({n} cases, values and gradients from Keras {} / {})",
        m["keras"].as_str().unwrap(),
        m["backend"].as_str().unwrap()
    ));
}

fn run_metric<M, T>(report: &mut Report, case: &Value, mut metric: M)
where
    M: UpdateState<T>,
    T: Target,
{
    let name = case["name"].as_str().unwrap();
    let class = case["class"].as_str().unwrap();
    let a = Arrays::read(case);
    let last = case["last"].as_u64().unwrap() as usize;
    let batches = case["batches"].as_array().unwrap().len();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    for b in 0..batches {
        let y_true = T::read(&a, &format!("y_true.{b}")).unwrap();
        let y_pred = a.f32(&format!("y_pred.{b}")).unwrap();
        let weights = a.f32(&format!("sample_weight.{b}"));
        let mask = a.mask(&format!("mask.{b}"));
        let mut batch = Batch::new(&y_true, &y_pred, last);
        if let Some(w) = &weights {
            batch = batch.with_sample_weight(w);
        }
        if let Some(m) = &mask {
            batch = batch.with_mask(m);
        }
        if let Err(e) = metric.update_state(&batch) {
            report.failures.push(format!("{name}: batch {b}: {e}"));
            return;
        }
        got.push(metric.result());
        want.extend(a.f32(&format!("result.{b}")).unwrap());
    }
    let e = report.compare(class, name, "result", &got, &want);
    report.lines.push(format!(
        "{name:<36} {batches} batches  results {want:?}  error {e:.2e}"
    ));
    metric.reset_state();
    if metric.result() != 0.0 {
        report.failures.push(format!("{name}: reset_state"));
    }
}

#[test]
fn keras_parity_metrics() {
    let m = manifest();
    let mut report = Report::default();
    for case in m["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        match case["kind"].as_str().unwrap() {
            "loss" => continue,
            "mean" => {
                let a = Arrays::read(case);
                let mut tracker = Mean::default();
                let (mut got, mut want) = (Vec::new(), Vec::new());
                for b in 0..case["batches"].as_u64().unwrap() {
                    let loss = a.f32(&format!("loss.{b}")).unwrap()[0];
                    let size = a.f32(&format!("size.{b}")).unwrap()[0];
                    tracker.update_state(loss, size);
                    got.push(tracker.result());
                    want.extend(a.f32(&format!("result.{b}")).unwrap());
                }
                let e = report.compare("Mean", name, "result", &got, &want);
                report
                    .lines
                    .push(format!("{name:<36} results {want:?}  error {e:.2e}"));
                continue;
            }
            _ => {}
        }
        let mut c = Config(case["config"].as_object().unwrap().clone());
        let sparse_ids = case["arrays"][0][1] == "u32";
        match case["class"].as_str().unwrap() {
            "BinaryAccuracy" => {
                let threshold = c.f32("threshold", 0.5);
                let metric = BinaryAccuracy {
                    threshold,
                    ..Default::default()
                };
                run_metric::<_, f32>(&mut report, case, metric);
            }
            "CategoricalAccuracy" => {
                run_metric::<_, f32>(&mut report, case, CategoricalAccuracy::default())
            }
            "SparseCategoricalAccuracy" if sparse_ids => {
                run_metric::<_, u32>(&mut report, case, SparseCategoricalAccuracy::default())
            }
            "SparseCategoricalAccuracy" => {
                run_metric::<_, f32>(&mut report, case, SparseCategoricalAccuracy::default())
            }
            other => panic!("{name}: no Rust metric for Keras class {other}"),
        }
        c.done(name);
    }

    // metrics=["accuracy"]: the class Keras's compile picked for each pair of shapes.
    let mut resolved = 0;
    for r in m["accuracy"].as_array().unwrap() {
        let shape = |k: &str| -> Vec<usize> {
            r[k].as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect()
        };
        let (t, p) = (shape("y_true_shape"), shape("y_pred_shape"));
        let want = r["class"].as_str().unwrap();
        match resolve_accuracy(&t, &p) {
            Ok(acc) if acc.class_name() == want => resolved += 1,
            Ok(acc) => report.failures.push(format!(
                "accuracy for y_true {t:?}, y_pred {p:?}: {} but Keras {want}",
                acc.class_name()
            )),
            Err(e) => report.failures.push(format!("accuracy {t:?} {p:?}: {e}")),
        }
    }
    report.lines.push(format!(
        "\"accuracy\" resolved as Keras for {resolved} shape pairs"
    ));
    assert!(resolved >= 10);
    report.finish(&format!(
        "Keras parity, metrics (from Keras {})",
        m["keras"].as_str().unwrap()
    ));
}
