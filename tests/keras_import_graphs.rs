//! Functional graphs declared from saved files at compile time (`struct Net from "…" with
//! weights;`): the graph fixtures (residual block; two inputs, a shared layer, a nested
//! Sequential and two outputs; a nested Functional called twice; LSTM return_state) as Keras
//! 3.15.1, Keras 3.3.3 and tf.keras 2.21 saved them, and the two real MLPerf Tiny files
//! (ResNet-8 with BatchNormalization and residual Adds, the Dense+BN autoencoder).
//!
//! Each imported model predicts like Keras (`tools/gen_import.py`: Keras 3.15.1's
//! `load_model(path)` on seeded inputs), and equals the declaration `static-keras inspect`
//! prints for the file (`tests/inspected/mod.rs`, pasted unchanged), which loads every file of
//! the model at run time with `from_keras_file`: same fields, same wiring, same weights in the
//! same order, the same numbers.
//!
//! Keras 3.15.1 cannot load some tf.keras 2.21 files of the graph fixtures (the manifest in
//! `tests/fixtures/import/` says which and why); they hold the same weights as the others
//! (`tests/fixtures/files/graph/*.manifest.json` locates every value), so they are compared with
//! the output Keras computes from the files it loads.
#[macro_use]
#[allow(unused_macros)]
mod parity;
mod inspected;

use static_keras::{keras_model, ConfigValue, LayerInfo, Model, Source};

use inspected::{Ad01, LstmState, NestedFn, PretrainedResnet, Resblock, TwoIn};

keras_model! { struct ResblockK3151 from "tests/fixtures/files/graph/resblock.k3151.keras" with weights; }
keras_model! { struct ResblockK3151H5 from "tests/fixtures/files/graph/resblock.k3151.h5" with weights; }
keras_model! { struct ResblockK333 from "tests/fixtures/files/graph/resblock.k333.keras" with weights; }
keras_model! { struct ResblockK333H5 from "tests/fixtures/files/graph/resblock.k333.h5" with weights; }
keras_model! { struct ResblockTf2 from "tests/fixtures/files/graph/resblock.tf2.keras" with weights; }
keras_model! { struct ResblockTf2H5 from "tests/fixtures/files/graph/resblock.tf2.h5" with weights; }

keras_model! { struct TwoInK3151 from "tests/fixtures/files/graph/two_in.k3151.keras" with weights; }
keras_model! { struct TwoInK3151H5 from "tests/fixtures/files/graph/two_in.k3151.h5" with weights; }
keras_model! { struct TwoInK333 from "tests/fixtures/files/graph/two_in.k333.keras" with weights; }
keras_model! { struct TwoInK333H5 from "tests/fixtures/files/graph/two_in.k333.h5" with weights; }
keras_model! { struct TwoInTf2 from "tests/fixtures/files/graph/two_in.tf2.keras" with weights; }
keras_model! { struct TwoInTf2H5 from "tests/fixtures/files/graph/two_in.tf2.h5" with weights; }

keras_model! { struct NestedFnK3151 from "tests/fixtures/files/graph/nested_fn.k3151.keras" with weights; }
keras_model! { struct NestedFnK3151H5 from "tests/fixtures/files/graph/nested_fn.k3151.h5" with weights; }
keras_model! { struct NestedFnK333 from "tests/fixtures/files/graph/nested_fn.k333.keras" with weights; }
keras_model! { struct NestedFnK333H5 from "tests/fixtures/files/graph/nested_fn.k333.h5" with weights; }
keras_model! { struct NestedFnTf2 from "tests/fixtures/files/graph/nested_fn.tf2.keras" with weights; }
keras_model! { struct NestedFnTf2H5 from "tests/fixtures/files/graph/nested_fn.tf2.h5" with weights; }

keras_model! { struct LstmStateK3151 from "tests/fixtures/files/graph/lstm_state.k3151.keras" with weights; }
keras_model! { struct LstmStateK3151H5 from "tests/fixtures/files/graph/lstm_state.k3151.h5" with weights; }
keras_model! { struct LstmStateK333 from "tests/fixtures/files/graph/lstm_state.k333.keras" with weights; }
keras_model! { struct LstmStateK333H5 from "tests/fixtures/files/graph/lstm_state.k333.h5" with weights; }
keras_model! { struct LstmStateTf2 from "tests/fixtures/files/graph/lstm_state.tf2.keras" with weights; }
keras_model! { struct LstmStateTf2H5 from "tests/fixtures/files/graph/lstm_state.tf2.h5" with weights; }

keras_model! {
    /// MLPerf Tiny image classification, ResNet-8 (tf.keras 2.4).
    struct ResnetImported from "tests/fixtures/files/real/pretrainedResnet.h5" with weights;
}
keras_model! {
    /// MLPerf Tiny anomaly detection, the Dense + BatchNormalization autoencoder (tf.keras 2.4).
    struct Ad01Imported from "tests/fixtures/files/real/ad01.h5" with weights;
}

const FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/files/");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import/");

/// The writers of each graph fixture, by file suffix.
const WRITERS: [&str; 6] = [
    "k3151.keras",
    "k3151.h5",
    "k333.keras",
    "k333.h5",
    "tf2.keras",
    "tf2.h5",
];

/// How an output is compared with Keras's.
#[derive(Clone, Copy)]
enum Tolerance {
    /// `|a − b| / max(1, |b|) ≤ 1e-5`, per value.
    Value,
    /// `|a − b| ≤ 1e-5 · max(1, max |y|)` over a sample's outputs `y` (KERAS_GRAPHS F9: a trained
    /// model with outputs up to ~45 differs from exact arithmetic by 1.9e-5 in Keras itself).
    Scale,
}

/// Keras's inputs (`<name>.x.i8`, value = byte / 32) and outputs for fixture `name`.
fn fixture(name: &str) -> (Vec<f32>, Vec<f32>) {
    let x = std::fs::read(format!("{FIXTURES}{name}.x.i8")).unwrap();
    let x = x.iter().map(|&b| f32::from(b as i8) / 32.0).collect();
    let y = parity::read_f32(&std::fs::read(format!("{FIXTURES}{name}.y.bin")).unwrap());
    (x, y)
}

/// The worst error of `net` against Keras on fixture `name`, in `tolerance`'s measure (so that
/// the bound is 1e-5 either way).
fn worst_error<M: Model<InputElem = f32>>(net: &M, name: &str, tolerance: Tolerance) -> f32 {
    let (x, y) = fixture(name);
    let in_len: usize = M::INPUT_SHAPES
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum();
    assert_eq!(x.len() / in_len * M::OUTPUT_LEN, y.len(), "{name}");
    let mut out = vec![0.0; M::OUTPUT_LEN];
    let mut worst = 0.0f32;
    for (sample, want) in x.chunks_exact(in_len).zip(y.chunks_exact(M::OUTPUT_LEN)) {
        M::output_to_slice(
            &net.predict(&M::input_from_slice(sample).unwrap()),
            &mut out,
        );
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (&g, &w) in out.iter().zip(want) {
            let e = match tolerance {
                Tolerance::Value => parity::error(g, w),
                Tolerance::Scale if g == w => 0.0,
                Tolerance::Scale => (g - w).abs() / scale,
            };
            worst = worst.max(if e.is_nan() { f32::INFINITY } else { e });
        }
    }
    worst
}

/// One layer as a model describes it, with its variables' values in Keras's order.
#[derive(Debug, PartialEq)]
struct Described {
    name: &'static str,
    class: &'static str,
    calls: &'static [&'static [Source]],
    /// The config entries, compared when both models were declared from the same file (other
    /// writers spell some entries differently: tf.keras 2's `axis = [1]` for `-1`).
    config: Option<&'static [(&'static str, ConfigValue)]>,
    variables: Vec<Vec<f32>>,
}

/// Every layer of `net` in visit order (Keras's `model.layers`).
fn layers<M: Model>(net: &M, with_config: bool) -> Vec<Described> {
    let mut out = Vec::new();
    net.visit_layers(&mut |info: LayerInfo, weights| {
        let variables = (0..weights.variables().len())
            .map(|i| {
                let mut values = Vec::new();
                weights.store_variable(i, &mut |v| values.push(v));
                values
            })
            .collect();
        out.push(Described {
            name: info.name,
            class: info.class,
            calls: info.calls,
            config: with_config.then_some(info.config),
            variables,
        });
    });
    out
}

/// `imported` (from the file at compile time, weights embedded) is the pasted declaration
/// `pasted` loaded from the same file at run time: same shapes, layers, wiring and weights
/// (and config, when `pasted` was printed from this very file), and the same outputs bit for
/// bit.
fn same_model<A, B>(
    imported: &A,
    pasted: &B,
    imported_name: &str,
    pasted_name: &str,
    same_file: bool,
) where
    A: Model<InputElem = f32>,
    B: Model<InputElem = f32, Input = A::Input>,
{
    assert_eq!(A::INPUT_SHAPES, B::INPUT_SHAPES, "{imported_name}");
    assert_eq!(A::OUTPUT_SHAPES, B::OUTPUT_SHAPES, "{imported_name}");
    assert_eq!(A::PARAMS, B::PARAMS, "{imported_name}");
    assert_eq!(
        layers(imported, same_file),
        layers(pasted, same_file),
        "{imported_name} and {pasted_name}"
    );
    let (x, _) = fixture(pasted_name_fixture(pasted_name));
    let in_len: usize = A::INPUT_SHAPES
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum();
    let input = A::input_from_slice(&x[..in_len]).unwrap();
    let (mut a, mut b) = (vec![0.0; A::OUTPUT_LEN], vec![0.0; B::OUTPUT_LEN]);
    A::output_to_slice(&imported.predict(&input), &mut a);
    B::output_to_slice(&pasted.predict(&input), &mut b);
    assert_eq!(a, b, "{imported_name}");
}

fn pasted_name_fixture(pasted: &str) -> &'static str {
    match pasted {
        "Resblock" => "resblock",
        "TwoIn" => "two_in",
        "NestedFn" => "nested_fn",
        "LstmState" => "lstm_state",
        "PretrainedResnet" => "pretrainedResnet",
        "Ad01" => "ad01",
        other => panic!("no fixture for {other}"),
    }
}

/// Checks one imported graph model against Keras and against the pasted declaration loaded
/// from the same file; returns its worst error.
macro_rules! graph_case {
    ($imported:ty, $pasted:ty, $fixture:literal, $file:expr) => {{
        let imported = <$imported>::load_embedded().unwrap();
        let worst = worst_error(&imported, $fixture, Tolerance::Value);
        let file = format!("{FILES}graph/{}.{}", $fixture, $file);
        let pasted = <$pasted>::from_keras_file(&file).unwrap();
        same_model(
            &imported,
            &pasted,
            stringify!($imported),
            stringify!($pasted),
            $file == WRITERS[0],
        );
        assert_eq!(
            <$imported>::summary().replace(
                concat!("\"", stringify!($imported), "\""),
                concat!("\"", stringify!($pasted), "\"")
            ),
            <$pasted>::summary(),
            "{}",
            stringify!($imported)
        );
        (concat!($fixture, "."), $file, worst)
    }};
}

#[test]
fn graph_files_import_and_predict_like_keras() {
    let cases = [
        graph_case!(ResblockK3151, Resblock, "resblock", WRITERS[0]),
        graph_case!(ResblockK3151H5, Resblock, "resblock", WRITERS[1]),
        graph_case!(ResblockK333, Resblock, "resblock", WRITERS[2]),
        graph_case!(ResblockK333H5, Resblock, "resblock", WRITERS[3]),
        graph_case!(ResblockTf2, Resblock, "resblock", WRITERS[4]),
        graph_case!(ResblockTf2H5, Resblock, "resblock", WRITERS[5]),
        graph_case!(TwoInK3151, TwoIn, "two_in", WRITERS[0]),
        graph_case!(TwoInK3151H5, TwoIn, "two_in", WRITERS[1]),
        graph_case!(TwoInK333, TwoIn, "two_in", WRITERS[2]),
        graph_case!(TwoInK333H5, TwoIn, "two_in", WRITERS[3]),
        graph_case!(TwoInTf2, TwoIn, "two_in", WRITERS[4]),
        graph_case!(TwoInTf2H5, TwoIn, "two_in", WRITERS[5]),
        graph_case!(NestedFnK3151, NestedFn, "nested_fn", WRITERS[0]),
        graph_case!(NestedFnK3151H5, NestedFn, "nested_fn", WRITERS[1]),
        graph_case!(NestedFnK333, NestedFn, "nested_fn", WRITERS[2]),
        graph_case!(NestedFnK333H5, NestedFn, "nested_fn", WRITERS[3]),
        graph_case!(NestedFnTf2, NestedFn, "nested_fn", WRITERS[4]),
        graph_case!(NestedFnTf2H5, NestedFn, "nested_fn", WRITERS[5]),
        graph_case!(LstmStateK3151, LstmState, "lstm_state", WRITERS[0]),
        graph_case!(LstmStateK3151H5, LstmState, "lstm_state", WRITERS[1]),
        graph_case!(LstmStateK333, LstmState, "lstm_state", WRITERS[2]),
        graph_case!(LstmStateK333H5, LstmState, "lstm_state", WRITERS[3]),
        graph_case!(LstmStateTf2, LstmState, "lstm_state", WRITERS[4]),
        graph_case!(LstmStateTf2H5, LstmState, "lstm_state", WRITERS[5]),
    ];
    for (model, file, worst) in cases {
        println!("{model}{file}: worst error {worst:.2e}");
        assert!(worst <= parity::TOLERANCE, "{model}{file}: {worst:e}");
    }
}

/// The graphs' shapes and parameter counts are Keras's (`count_params()` in the manifests).
#[test]
fn graph_shapes_are_keras() {
    assert_eq!(Resblock::INPUT_SHAPES, &[&[6usize, 6, 3] as &[usize]]);
    assert_eq!(Resblock::PARAMS, 276);
    assert_eq!(TwoIn::INPUT_SHAPES, &[&[5usize] as &[usize], &[5]]);
    assert_eq!(TwoIn::OUTPUT_SHAPES, &[&[1usize] as &[usize], &[2]]);
    assert_eq!(TwoIn::PARAMS, 67);
    assert_eq!(NestedFn::OUTPUT_SHAPES, &[&[4usize] as &[usize], &[4]]);
    assert_eq!(LstmState::OUTPUT_SHAPES, &[&[2usize] as &[usize], &[4]]);
    assert_eq!(PretrainedResnet::PARAMS, 78_666);
    assert_eq!(Ad01::PARAMS, 269_992);
}

/// Runs `f` on a thread with a large stack: the real models hold 0.3 MB and 1 MB of weights by
/// value, more than a test thread's default stack takes through a few moves.
fn with_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

/// The two real MLPerf Tiny files: embedded at compile time and loaded into the pasted
/// declaration at run time, they predict like Keras.
#[test]
fn real_mlperf_files_import_and_predict_like_keras() {
    with_stack(|| {
        let imported = ResnetImported::load_embedded().unwrap();
        let pasted =
            PretrainedResnet::from_keras_file(format!("{FILES}real/pretrainedResnet.h5")).unwrap();
        same_model(
            &imported,
            &pasted,
            "ResnetImported",
            "PretrainedResnet",
            true,
        );
        for (what, worst) in [
            (
                "imported",
                worst_error(&imported, "pretrainedResnet", Tolerance::Scale),
            ),
            (
                "pasted",
                worst_error(&pasted, "pretrainedResnet", Tolerance::Scale),
            ),
        ] {
            println!("pretrainedResnet.h5 ({what}): worst error {worst:.2e}");
            assert!(
                worst <= parity::TOLERANCE,
                "pretrainedResnet {what}: {worst:e}"
            );
        }
    });
    with_stack(|| {
        let imported = Ad01Imported::load_embedded().unwrap();
        let pasted = Ad01::from_keras_file(format!("{FILES}real/ad01.h5")).unwrap();
        same_model(&imported, &pasted, "Ad01Imported", "Ad01", true);
        for (what, worst) in [
            ("imported", worst_error(&imported, "ad01", Tolerance::Scale)),
            ("pasted", worst_error(&pasted, "ad01", Tolerance::Scale)),
        ] {
            println!("ad01.h5 ({what}): worst error {worst:.2e} of max |y|");
            assert!(worst <= parity::TOLERANCE, "ad01 {what}: {worst:e}");
        }
    });
}
