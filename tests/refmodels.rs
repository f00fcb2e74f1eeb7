//! The MLPerf Tiny reference models and MobileNetV2-0.35 at 96×96, end to end: each declared
//! from the `.keras` file real Keras 3.15.1 saved (`tools/gen_refmodels.py`: the MLPerf code
//! transcribed, seeded random weights, BatchNormalization statistics non-trivial), with its
//! weights embedded, predicts Keras's numbers on seeded inputs, through `predict` and through
//! `predict_in` with the planned workspace; `PARAMS` is Keras's `count_params()` and `summary()`
//! is Keras's functional summary text. The two REAL trained MLPerf files (tf.keras 2.4) do the
//! same on their own seeded inputs.
//!
//! Every model embeds its weights (`with weights`): the largest, MobileNetV2, is 1.7 MB, which
//! `include_bytes!`-style embedding handles without trouble. Each is also loaded at run time with
//! `from_keras_file_boxed` into the same declaration, and gives the same bits.
//!
//! Tolerance (KERAS_GRAPHS.md F9): `|Δ| ≤ 1e-5 · max(1, max |y|)` over a sample's outputs `y` —
//! the trained autoencoder's outputs reach ~42, where Keras itself differs from exact
//! arithmetic by more than 1e-5 absolute.
#[macro_use]
#[allow(unused_macros)]
mod parity;

use static_keras::{keras_model, Model, Planned};

keras_model! {
    /// MLPerf Tiny keyword spotting, DS-CNN: (49, 10, 1) MFCC → 12 classes.
    struct KwsDscnn from "tests/fixtures/refmodels/kws_dscnn.keras" with weights;
}
keras_model! {
    /// MLPerf Tiny visual wake words, MobileNetV1 α = 0.25: (96, 96, 3) → 2 classes.
    struct VwwMobilenet from "tests/fixtures/refmodels/vww_mobilenet.keras" with weights;
}
keras_model! {
    /// MLPerf Tiny image classification, ResNet-8 (16 filters): (32, 32, 3) → 10 classes.
    struct Resnet8 from "tests/fixtures/refmodels/resnet8.keras" with weights;
}
keras_model! {
    /// MLPerf Tiny anomaly detection, the Dense autoencoder: 640 → 640.
    struct AdAutoencoder from "tests/fixtures/refmodels/ad_autoencoder.keras" with weights;
}
keras_model! {
    /// `keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), classes=10)`.
    struct MobileNetV2035 from "tests/fixtures/refmodels/mobilenetv2_035.keras" with weights;
}
keras_model! {
    /// The real trained ResNet-8 (tf.keras 2.4, `pretrainedResnet.h5`).
    struct RealResnet8 from "tests/fixtures/files/real/pretrainedResnet.h5" with weights;
}
keras_model! {
    /// The real trained anomaly-detection autoencoder (tf.keras 2.4, `ad01.h5`).
    struct RealAd01 from "tests/fixtures/files/real/ad01.h5" with weights;
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn read(path: &str) -> Vec<f32> {
    parity::read_f32(&std::fs::read(format!("{FIXTURES}{path}")).unwrap())
}

/// Runs `f` in a thread with room for a model by value (MobileNetV2's weights are 1.7 MB).
fn with_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Runs `net` on the seeded inputs `refmodels/<name>.x.bin` through `predict` and through
/// `predict_in` (same bits required), and returns the worst error against Keras's
/// `refmodels/<name>.y.bin`, as `|Δ| / max(1, max |y|)` per sample.
fn worst_error<M: Model<InputElem = f32> + Planned>(net: &M, name: &str) -> f32 {
    let x = read(&format!("refmodels/{name}.x.bin"));
    let y = read(&format!("refmodels/{name}.y.bin"));
    let in_len: usize = M::INPUT_SHAPES
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum();
    assert_eq!(x.len() % in_len, 0, "{name}: input length");
    assert_eq!(
        x.len() / in_len * M::OUTPUT_LEN,
        y.len(),
        "{name}: output length"
    );
    let mut workspace = M::boxed_workspace();
    let (mut out, mut planned) = (vec![0.0; M::OUTPUT_LEN], vec![0.0; M::OUTPUT_LEN]);
    let mut worst = 0.0f32;
    for (sample, want) in x.chunks_exact(in_len).zip(y.chunks_exact(M::OUTPUT_LEN)) {
        let input = M::input_from_slice(sample).unwrap();
        M::output_to_slice(&net.predict(&input), &mut out);
        M::output_to_slice(&net.predict_in(&input, &mut workspace), &mut planned);
        assert!(
            out.iter()
                .zip(&planned)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: predict_in differs from predict"
        );
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (&g, &w) in out.iter().zip(want) {
            let e = if g == w { 0.0 } else { (g - w).abs() / scale };
            worst = worst.max(if e.is_nan() { f32::INFINITY } else { e });
        }
    }
    worst
}

/// The same outputs, bit for bit, from two models on the seeded inputs of fixture `name`.
fn same_outputs<M: Model<InputElem = f32>>(a: &M, b: &M, name: &str) {
    let x = read(&format!("refmodels/{name}.x.bin"));
    let in_len: usize = M::INPUT_SHAPES
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum();
    let (mut ya, mut yb) = (vec![0.0; M::OUTPUT_LEN], vec![0.0; M::OUTPUT_LEN]);
    for sample in x.chunks_exact(in_len) {
        let input = M::input_from_slice(sample).unwrap();
        M::output_to_slice(&a.predict(&input), &mut ya);
        M::output_to_slice(&b.predict(&input), &mut yb);
        assert!(
            ya.iter().zip(&yb).all(|(p, q)| p.to_bits() == q.to_bits()),
            "{name}: the file loaded at run time predicts differently"
        );
    }
}

/// `summary()` without its first line (which names the model) against Keras's.
fn same_summary(name: &str, ours: &str) {
    let keras = std::fs::read_to_string(format!("{FIXTURES}refmodels/{name}.summary.txt")).unwrap();
    let ours = ours.split_once('\n').map_or("", |(_, rest)| rest);
    assert_eq!(
        ours.trim_end(),
        keras.trim_end(),
        "{name}: summary differs from Keras's"
    );
}

/// The same, but for the case of letters: MobileNetV2's layer names have capitals (`Conv1`,
/// `block_1_expand_BN`), and the file import names each layer by its struct field, a lowercase
/// identifier (`conv1`, `block_1_expand_bn`). Keras's text lowercased must be ours lowercased,
/// and the two must differ in nothing but case.
fn same_summary_but_case(name: &str, ours: &str) {
    let keras = std::fs::read_to_string(format!("{FIXTURES}refmodels/{name}.summary.txt")).unwrap();
    let ours = ours.split_once('\n').map_or("", |(_, rest)| rest);
    assert_eq!(
        ours.trim_end().len(),
        keras.trim_end().len(),
        "{name}: summary length"
    );
    assert_eq!(
        ours.trim_end().to_lowercase(),
        keras.trim_end().to_lowercase(),
        "{name}: summary differs from Keras's"
    );
}

/// The same for a single chain saved as a Functional model: the file import declares a chain
/// as a layer list (the Sequential form), whose summary has no row for the InputLayer that
/// Keras's summary of a Functional model starts with. Everything else must be equal: the
/// InputLayer row (and the rule under it) is the only thing taken out of Keras's text.
fn same_summary_but_input_row(name: &str, ours: &str) {
    let keras = std::fs::read_to_string(format!("{FIXTURES}refmodels/{name}.summary.txt")).unwrap();
    let lines: Vec<&str> = keras.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.contains("(InputLayer)"))
        .unwrap_or_else(|| panic!("{name}: Keras's summary has no InputLayer row"));
    assert!(
        lines[row + 1].starts_with('├'),
        "{name}: the InputLayer row is one line"
    );
    let without: Vec<&str> = lines[..row]
        .iter()
        .chain(&lines[row + 2..])
        .copied()
        .collect();
    let ours = ours.split_once('\n').map_or("", |(_, rest)| rest);
    assert!(
        !ours.contains("(InputLayer)"),
        "{name}: ours lists the input now"
    );
    assert_eq!(
        ours.trim_end(),
        without.join("\n").trim_end(),
        "{name}: summary differs from Keras's"
    );
}

macro_rules! refmodel {
    ($test:ident, $net:ident, $name:literal, $file:literal, params: $params:literal) => {
        #[test]
        fn $test() {
            // `count_params()` of Keras 3.15.1 (KERAS_GRAPHS.md §3 and the fixtures' manifest).
            assert_eq!($net::PARAMS, $params);
            let worst = with_stack(|| {
                let net = $net::load_embedded().unwrap();
                let loaded =
                    $net::from_keras_file_boxed(concat!(env!("CARGO_MANIFEST_DIR"), "/", $file))
                        .unwrap();
                same_outputs(&net, &*loaded, $name);
                worst_error(&net, $name)
            });
            // The model value is what a `static` puts in flash: the weights, plus what layers
            // keep beside them (BatchNormalization's folded factors `a`, `b`).
            println!(
                "{}: {} params ({} bytes of f32 weights), model {} bytes, {} activation bytes, \
                 worst error {worst:.2e}",
                $name,
                $net::PARAMS,
                $net::PARAMS * 4,
                std::mem::size_of::<$net>(),
                <$net as Planned>::ACTIVATION_BYTES
            );
            assert!(
                worst <= parity::TOLERANCE,
                "{}: worst error {worst:e}",
                $name
            );
        }
    };
}

refmodel!(kws_dscnn_matches_keras, KwsDscnn, "kws_dscnn",
    "tests/fixtures/refmodels/kws_dscnn.keras", params: 24908);
refmodel!(vww_mobilenet_matches_keras, VwwMobilenet, "vww_mobilenet",
    "tests/fixtures/refmodels/vww_mobilenet.keras", params: 221794);
refmodel!(resnet8_matches_keras, Resnet8, "resnet8",
    "tests/fixtures/refmodels/resnet8.keras", params: 78666);
refmodel!(ad_autoencoder_matches_keras, AdAutoencoder, "ad_autoencoder",
    "tests/fixtures/refmodels/ad_autoencoder.keras", params: 269992);
refmodel!(mobilenetv2_035_matches_keras, MobileNetV2035, "mobilenetv2_035",
    "tests/fixtures/refmodels/mobilenetv2_035.keras", params: 423018);
refmodel!(real_resnet8_matches_keras, RealResnet8, "real_resnet8",
    "tests/fixtures/files/real/pretrainedResnet.h5", params: 78666);
refmodel!(real_ad01_matches_keras, RealAd01, "real_ad01",
    "tests/fixtures/files/real/ad01.h5", params: 269992);

#[test]
fn summaries_are_keras_s() {
    same_summary("resnet8", Resnet8::summary());
    same_summary_but_case("mobilenetv2_035", MobileNetV2035::summary());
    same_summary_but_input_row("kws_dscnn", KwsDscnn::summary());
    same_summary_but_input_row("vww_mobilenet", VwwMobilenet::summary());
    same_summary_but_input_row("ad_autoencoder", AdAutoencoder::summary());
}

/// The parameter counts in the fixtures' manifest (written by Keras) are the ones asserted above.
#[test]
fn params_are_those_of_the_manifest() {
    let manifest = std::fs::read_to_string(format!("{FIXTURES}refmodels/manifest.json")).unwrap();
    for (name, params) in [
        ("kws_dscnn", KwsDscnn::PARAMS),
        ("vww_mobilenet", VwwMobilenet::PARAMS),
        ("resnet8", Resnet8::PARAMS),
        ("ad_autoencoder", AdAutoencoder::PARAMS),
        ("mobilenetv2_035", MobileNetV2035::PARAMS),
        ("real_resnet8", RealResnet8::PARAMS),
        ("real_ad01", RealAd01::PARAMS),
    ] {
        let at = manifest
            .find(&format!("\"{name}\": {{"))
            .unwrap_or_else(|| panic!("{name} is not in the manifest"));
        let rest = &manifest[at..];
        let p = rest.find("\"params\": ").unwrap() + "\"params\": ".len();
        let digits: String = rest[p..].chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(digits.parse::<usize>().unwrap(), params, "{name}");
    }
}
