//! One inference of one benchmark model by one engine between two marker functions, for an
//! instruction counter: `tools/aarch64_insns.sh` runs it under `qemu-aarch64` with the TCG plugin
//! `insn_window.c`, which counts the guest instructions executed from `bench_begin` to `bench_end`.
//!
//! ```sh
//! insns MODEL BATCH ENGINE     # m1_mlp … m6_conv3d, 1 or 64, static-keras or tract
//! ```
//!
//! The engine first runs once on the model's Keras inputs (`NAME.xB.bin`) and its outputs are
//! checked against Keras's (`NAME.yB.bin`, the tolerances of `benches/models.rs`); that run is
//! also the warm-up (tract allocates its scratch space in its first run). Then one call runs
//! between the markers — `predict` at batch 1, `predict_batch` at batch 64, tract's `run` on the
//! whole batch — and its outputs are checked again. One thread: static-keras is built without
//! `parallel`, and tract runs its plan on the calling thread.
//!
//! Built without the benches crate's default feature `tract` (`--no-default-features`), only the
//! static-keras engine is there: the same code between the markers, without tract's hour-long
//! cross-build.

use std::hint::black_box;

use static_keras::Model;
use static_keras_bench::*;
#[cfg(feature = "tract")]
use tract_onnx::prelude::*;

/// Opens the instruction-count window. Not inlined, and its body differs from `bench_end`'s so
/// the two are never merged into one address.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_begin() {
    // SAFETY: a `nop` reads and writes nothing; without `nomem` the compiler treats the asm as
    // touching memory, so the measured code is not moved across it.
    unsafe { std::arch::asm!("nop") }
}

/// Closes the instruction-count window.
#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_end() {
    // SAFETY: as in `bench_begin`.
    unsafe { std::arch::asm!("nop", "nop") }
}

/// What a run is checked against: Keras's outputs for one model and batch, and the tolerance of
/// `benches/models.rs` for the engine (1e-5 for static-keras, 1e-4 for tract).
struct Want {
    name: String,
    batch: usize,
    engine: &'static str,
    values: Vec<f32>,
    len: usize,
    tolerance: f32,
}

impl Want {
    fn new(name: &str, batch: usize, engine: &'static str, len: usize, tolerance: f32) -> Self {
        let values = read_le(&format!("{name}.y{batch}.bin"));
        Self {
            name: name.to_owned(),
            batch,
            engine,
            values,
            len,
            tolerance,
        }
    }

    fn check(&self, got: &[f32]) {
        let Self {
            name,
            batch,
            engine,
            tolerance,
            ..
        } = self;
        let err = model_error(name, got, &self.values, self.len);
        assert!(
            err <= *tolerance,
            "{name} batch {batch}: {engine} differs from Keras by {err} (tolerance {tolerance})"
        );
        println!("{name} batch {batch} {engine}: max error vs Keras {err:.1e}");
    }
}

fn ours<M: Model + FromKeras>(name: &str, batch: usize)
where
    M::InputElem: From4,
{
    let model = load::<M>(name);
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let xs: Vec<M::InputElem> = read_le(&format!("{name}.x{batch}.bin"));
    let want = Want::new(name, batch, "static-keras", M::OUTPUT_LEN, 1e-5);
    let inputs: Vec<M::Input> = xs
        .chunks_exact(in_len)
        .map(|s| M::input_from_slice(s).expect("input"))
        .collect();
    assert_eq!(
        inputs.len(),
        batch,
        "{name}.x{batch}.bin holds {batch} samples"
    );
    let mut outputs: Vec<M::Output> = inputs.iter().map(|x| model.predict(x)).collect();
    let flat = |outputs: &[M::Output]| {
        let mut flat = vec![0.0; M::OUTPUT_LEN * batch];
        for (o, chunk) in outputs.iter().zip(flat.chunks_exact_mut(M::OUTPUT_LEN)) {
            M::output_to_slice(o, chunk);
        }
        flat
    };
    if batch == 1 {
        want.check(&flat(&outputs));
        let x = black_box(&inputs[0]);
        bench_begin();
        let y = model.predict(x);
        black_box(&y);
        bench_end();
        outputs[0] = y;
    } else {
        model.predict_batch(&inputs, &mut outputs);
        want.check(&flat(&outputs));
        let inputs = black_box(&inputs);
        bench_begin();
        model.predict_batch(inputs, &mut outputs);
        black_box(&outputs);
        bench_end();
    }
    want.check(&flat(&outputs));
}

#[cfg(feature = "tract")]
fn tract<M: Model>(name: &str, batch: usize)
where
    M::InputElem: From4,
{
    let ids = M::InputElem::TOKEN_ID;
    let mut shape = vec![batch];
    shape.extend_from_slice(M::INPUT_SHAPE);
    let path = models_dir().join(format!("{name}.onnx"));
    assert!(path.exists(), "missing benchmark model {}", path.display());
    let fact = if ids {
        i32::fact(&shape).into()
    } else {
        f32::fact(&shape).into()
    };
    let plan = tract_onnx::onnx()
        .model_for_path(&path)
        .and_then(|m| m.with_input_fact(0, fact))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load {}: {e:?}", path.display()));
    let mut state = plan.spawn().expect("tract state");
    let file = format!("{name}.x{batch}.bin");
    let input = if ids {
        let v: Vec<i32> = read_le::<u32>(&file)
            .into_iter()
            .map(|x| x as i32)
            .collect();
        Tensor::from_shape(&shape, &v)
    } else {
        Tensor::from_shape(&shape, &read_le::<f32>(&file))
    }
    .expect("input shape")
    .into_tvalue();
    let want = Want::new(name, batch, "tract", M::OUTPUT_LEN, 1e-4);
    let output = |out: &TVec<TValue>| -> Vec<f32> {
        let view = out[0].to_plain_array_view::<f32>().expect("f32 output");
        view.iter().copied().collect()
    };
    let out = state.run(tvec![input.clone()]).expect("tract run");
    want.check(&output(&out));
    drop(out);
    let input = black_box(input);
    bench_begin();
    let out = state.run(tvec![input]).expect("tract run");
    black_box(&out);
    bench_end();
    want.check(&output(&out));
}

fn run<M: Model + FromKeras>(name: &str, batch: usize, engine: &str)
where
    M::InputElem: From4,
{
    match engine {
        "static-keras" => ours::<M>(name, batch),
        #[cfg(feature = "tract")]
        "tract" => tract::<M>(name, batch),
        #[cfg(not(feature = "tract"))]
        "tract" => panic!("built without the feature `tract`"),
        _ => panic!("unknown engine {engine}: static-keras or tract"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: insns MODEL BATCH ENGINE (m1_mlp … m6_conv3d, 1 or 64, static-keras or tract)";
    let [name, batch, engine] = <[String; 3]>::try_from(args).unwrap_or_else(|_| panic!("{usage}"));
    let batch: usize = match batch.as_str() {
        "1" => 1,
        "64" => 64,
        _ => panic!("batch {batch}: the benchmark files have batch 1 or 64\n{usage}"),
    };
    let engine = engine.as_str();
    match name.as_str() {
        "m1_mlp" => run::<M1Mlp>(&name, batch, engine),
        "m2_cnn" => run::<M2Cnn>(&name, batch, engine),
        "m3_lstm" => run::<M3Lstm>(&name, batch, engine),
        "m4_gru" => run::<M4Gru>(&name, batch, engine),
        "m5_conv1d" => run::<M5Conv1d>(&name, batch, engine),
        "m6_conv3d" => run::<M6Conv3d>(&name, batch, engine),
        _ => panic!("unknown model {name}\n{usage}"),
    }
}
