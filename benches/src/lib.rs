//! The benchmark models M1–M10 of `shared/bench-models`, declared with `keras_model!`, and what
//! the benchmark needs around them: their files, their Keras inputs and outputs, and a check
//! of every output against Keras's before anything is timed.
//!
//! M7–M10 (the MLPerf Tiny reference models and MobileNetV2-0.35) are declared from the files in
//! the repository that have their architecture (`from "…"`, the structure only), and get the
//! benchmark files' weights at run time (`from_keras_file_boxed`, which checks every layer and
//! shape against the declaration).

use std::path::{Path, PathBuf};

use static_keras::{keras_model, Model};

keras_model! {
    /// M1: a multilayer perceptron on flattened 28×28 images.
    pub struct M1Mlp {
        input_shape: (784,),
        layers: [
            Dense(128, activation = "relu", name = "dense_1"),
            Dense(10, activation = "softmax", name = "dense_2"),
        ],
    }
}

keras_model! {
    /// M2: a small image CNN.
    pub struct M2Cnn {
        input_shape: (28, 28, 1),
        layers: [
            Conv2D(32, 3, activation = "relu", name = "conv2d_1"),
            MaxPooling2D(2, name = "maxpool_1"),
            Conv2D(64, 3, activation = "relu", name = "conv2d_2"),
            MaxPooling2D(2, name = "maxpool_2"),
            Flatten(),
            Dropout(0.5),
            Dense(10, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// M3: token ids through an LSTM.
    pub struct M3Lstm {
        input_shape: (32,),
        layers: [
            Embedding(1000, 64),
            LSTM(64),
            Dense(1, activation = "sigmoid"),
        ],
    }
}

keras_model! {
    /// M4: token ids through two GRUs.
    pub struct M4Gru {
        input_shape: (32,),
        layers: [
            Embedding(1000, 64),
            GRU(64, return_sequences = True, name = "gru_1"),
            GRU(64, name = "gru_2"),
            Dense(1, activation = "sigmoid"),
        ],
    }
}

keras_model! {
    /// M5: a 1D CNN over 128 steps of 8 features.
    pub struct M5Conv1d {
        input_shape: (128, 8),
        layers: [
            Conv1D(32, 5, padding = "same", activation = "relu", name = "conv1d_1"),
            MaxPooling1D(2, name = "maxpool"),
            Conv1D(32, 3, activation = "relu", name = "conv1d_2"),
            AveragePooling1D(2, name = "avgpool"),
            Flatten(),
            Dense(4, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// M6: a 3D CNN over a 16³ volume.
    pub struct M6Conv3d {
        input_shape: (16, 16, 16, 1),
        layers: [
            Conv3D(8, 3, activation = "relu"),
            MaxPooling3D(2, name = "maxpool"),
            Flatten(),
            Dense(2, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// M7: MLPerf Tiny image classification, ResNet-8 (the trained `pretrainedResnet.h5`).
    pub struct M7Resnet8 from "../tests/fixtures/files/real/pretrainedResnet.h5";
}

keras_model! {
    /// M8: `keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), classes=10)`.
    pub struct M8Mbv2 from "../tests/fixtures/refmodels/mobilenetv2_035.keras";
}

keras_model! {
    /// M9: MLPerf Tiny keyword spotting, DS-CNN, as the benchmark file has it: the 1×1
    /// convolutions `valid` (the same numbers as MLPerf's `same` for a 1×1 kernel) and a (25, 5)
    /// final pooling (MLPerf's code pools (24, 5), ignoring row 24; `tests/refmodels.rs` has that).
    pub struct M9Dscnn {
        input_shape: (49, 10, 1),
        layers: [
            Conv2D(64, (10, 4), strides = (2, 2), padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Dropout(0.2),
            DepthwiseConv2D((3, 3), padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(64, (1, 1)),
            BatchNormalization(),
            Activation("relu"),
            DepthwiseConv2D((3, 3), padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(64, (1, 1)),
            BatchNormalization(),
            Activation("relu"),
            DepthwiseConv2D((3, 3), padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(64, (1, 1)),
            BatchNormalization(),
            Activation("relu"),
            DepthwiseConv2D((3, 3), padding = "same"),
            BatchNormalization(),
            Activation("relu"),
            Conv2D(64, (1, 1)),
            BatchNormalization(),
            Activation("relu"),
            Dropout(0.4),
            AveragePooling2D((25, 5)),
            Flatten(),
            Dense(12, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// M10: MLPerf Tiny anomaly detection, the Dense autoencoder (the trained `ad01.h5`).
    pub struct M10Ad from "../tests/fixtures/files/real/ad01.h5";
}

/// The folder of the benchmark models: `shared/bench-models` beside the repository (or
/// `STATIC_KERAS_BENCH_MODELS`).
pub fn models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STATIC_KERAS_BENCH_MODELS") {
        return dir.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench-models")
}

/// Reads `name` from the models folder, or stops with a message saying where it was looked for.
pub fn read_file(name: &str) -> Vec<u8> {
    let path = models_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the benchmark file {}: {e}\n(the benchmark models live in \
             shared/bench-models beside the repository; set STATIC_KERAS_BENCH_MODELS to \
             their folder to use another place)",
            path.display()
        )
    })
}

/// Raw little-endian values (f32, or i32 token ids read as u32).
pub fn read_le<T: From4>(name: &str) -> Vec<T> {
    read_file(name)
        .chunks_exact(4)
        .map(|b| T::from4([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// An element read from four little-endian bytes.
pub trait From4: Copy {
    /// Whether this is a token id (an int32 input of the ONNX model).
    const TOKEN_ID: bool;
    /// The value.
    fn from4(b: [u8; 4]) -> Self;
}
impl From4 for f32 {
    const TOKEN_ID: bool = false;
    fn from4(b: [u8; 4]) -> Self {
        f32::from_le_bytes(b)
    }
}
impl From4 for u32 {
    const TOKEN_ID: bool = true;
    fn from4(b: [u8; 4]) -> Self {
        u32::from_le_bytes(b)
    }
}

/// Largest `|a − b| / max(1, |b|)`.
pub fn max_error(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "output lengths differ");
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, f32::max)
}

/// The reference models (M7–M10), compared with Keras as `tests/refmodels.rs` does.
pub const REFERENCE_MODELS: [&str; 4] = ["m7_resnet8", "m8_mbv2", "m9_dscnn", "m10_ad"];

/// Largest `|a − b| / max(1, max |y|)` over each sample's `len` outputs `y` (KERAS_GRAPHS.md F9:
/// the trained autoencoder M10 has outputs up to ~45, and float32 evaluations of it, Keras's own
/// among them, differ by more than 1e-5 of a value).
pub fn max_scaled_error(got: &[f32], want: &[f32], len: usize) -> f32 {
    assert_eq!(got.len(), want.len(), "output lengths differ");
    got.chunks_exact(len)
        .zip(want.chunks_exact(len))
        .map(|(g, w)| {
            let scale = w.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            g.iter()
                .zip(w)
                .map(|(a, b)| (a - b).abs() / scale)
                .fold(0.0, f32::max)
        })
        .fold(0.0, f32::max)
}

/// The error of `got` against Keras's `want` in the measure model `name` is held to: per value
/// (`max_error`) for M1–M6, per sample's scale (`max_scaled_error`) for the reference models.
pub fn model_error(name: &str, got: &[f32], want: &[f32], len: usize) -> f32 {
    if REFERENCE_MODELS.contains(&name) {
        max_scaled_error(got, want, len)
    } else {
        max_error(got, want)
    }
}

/// A benchmark model that loads from its `.keras` file.
pub trait FromKeras: Model + Sized {
    /// The model with the file's weights, checked against the declaration (on the heap: never
    /// a multi-megabyte value on the stack).
    fn from_keras(path: &Path) -> Result<Box<Self>, String>;
}

macro_rules! from_keras {
    ($($ty:ty),*) => {$(
        impl FromKeras for $ty {
            fn from_keras(path: &Path) -> Result<Box<Self>, String> {
                <$ty>::from_keras_file_boxed(path).map_err(|e| e.to_string())
            }
        }
    )*};
}
from_keras!(M1Mlp, M2Cnn, M3Lstm, M4Gru, M5Conv1d, M6Conv3d, M7Resnet8, M8Mbv2, M9Dscnn, M10Ad);

/// The model `name` with Keras's weights, from `NAME.keras`; stops with a clear message when the
/// file is missing or does not fit the declaration.
pub fn load<M: FromKeras>(name: &str) -> Box<M> {
    let path = models_dir().join(format!("{name}.keras"));
    if !path.exists() {
        panic!(
            "missing benchmark model {}\n(the benchmark models live in shared/bench-models \
             beside the repository; set STATIC_KERAS_BENCH_MODELS to their folder to use another \
             place)",
            path.display()
        );
    }
    M::from_keras(&path).unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
}

/// Seconds this thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`; a wait for the core is not
/// counted), or wall-clock seconds where there is no per-thread CPU clock.
pub fn thread_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant POSIX defines.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }
    #[cfg(not(unix))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
    }
}

/// The median of `v` (sorts it).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The first and third quartiles of `v` (sorts it).
pub fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (v[n / 4], v[(3 * n) / 4])
}

/// The forward FLOPs per sample of model `name` in the manifest (a tiny search, to need no JSON
/// parser).
pub fn manifest_flops(name: &str) -> f64 {
    let text = String::from_utf8(read_file("manifest.json")).expect("manifest is UTF-8");
    let at = text
        .find(&format!("\"{name}\""))
        .expect("model in manifest");
    let key = "\"flops_per_sample\":";
    let from = at + text[at..].find(key).expect("flops in manifest") + key.len();
    let digits: String = text[from..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("flops is a number")
}

/// Every weight of `model` (trainable or not), layer after layer in Keras's order, each variable
/// in its Keras layout: what `np.concatenate([v.numpy().ravel() for v in model.weights])` gives.
pub fn flat_weights<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::with_capacity(M::PARAMS);
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

/// The class id of sample `i` of a training batch over `classes` classes (a fixed formula, which
/// `tools/bench_peers.py --train` repeats): `(7·i + 3) mod classes`.
pub fn train_label(i: usize, classes: usize) -> u32 {
    ((7 * i + 3) % classes) as u32
}
