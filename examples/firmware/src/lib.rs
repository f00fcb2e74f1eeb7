//! Runs static-keras models on a Cortex-M4F, under QEMU in CI.
//!
//! - [`models`]: the models, each built by the compiler in a `static`, so every weight stays in
//!   flash; `tests/embedded_golden.rs` on the host includes the same file.
//! - [`mlperf`]: the MLPerf Tiny reference models, declared from their Keras files (those that
//!   need more than the STM32F405's memory in `mlperf_l4r5`, with the feature `stm32l4r5`).
//! - [`golden`]: the hash of the outputs that host and MCU must both produce, bit for bit.
//! - [`tune`]: on-device fine-tuning, frozen feature layers in flash and a head training in RAM;
//!   `tests/embedded_train_golden.rs` on the host includes the same file.
//! - this file: the test runner, the benchmark markers and the semihosting exit.
//!
//! No allocator anywhere: activations live on the stack, in frames whose size the compiler fixes,
//! or for the MLPerf models in a `static` workspace whose size the compiler fixes.
#![no_std]

use core::fmt::Write;

use cortex_m_rt::ExceptionFrame;
use cortex_m_semihosting::hio;
pub use cortex_m_semihosting::hprintln;
// A panic prints its message and location over semihosting, then exits with status 1.
use panic_semihosting as _;
pub use static_keras::Tensor;

pub mod golden;
#[macro_use]
pub mod mlperf;
#[cfg(feature = "stm32l4r5")]
pub mod mlperf_l4r5;
pub mod models;
pub mod tune;

pub use cortex_m_rt;

/// Absolute error, relative above magnitude 1: `|got − want| / max(1, |want|)`, as in the host
/// parity tests.
pub fn error(got: f32, want: f32) -> f32 {
    if got == want {
        return 0.0;
    }
    (got - want).abs() / want.abs().max(1.0)
}

/// The host parity tests' tolerance on [`error`].
pub const TOLERANCE: f32 = 1e-5;

/// Little-endian f32 number `i` of raw fixture bytes (`include_bytes!` data is not aligned).
pub fn f32_at(bytes: &[u8], i: usize) -> f32 {
    let b = &bytes[4 * i..4 * i + 4];
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// A model run over a whole fixture: how far it is from Keras and the hash of its bits.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Samples run.
    pub samples: usize,
    /// The largest [`error`] against Keras's outputs.
    pub worst: f32,
    /// The largest `max |got − want| / max(1, max |want|)` of a sample: the error relative to
    /// the scale of the sample's outputs (a trained model with outputs up to ~45 differs from
    /// exact arithmetic by 1.9e-5 in Keras itself, `shared/KERAS_GRAPHS.md` F9).
    pub worst_scaled: f32,
    /// [`golden::Fnv`] of every output value, in order.
    pub hash: u32,
    /// Samples whose largest output is at the same index as Keras's (a classifier's prediction).
    pub same_argmax: usize,
}

impl Outcome {
    /// Whether every output is within [`TOLERANCE`] of Keras's; prints the worst error either way.
    pub fn matches_keras(&self) -> bool {
        // Printing an f32 would link about 14 KiB of float formatting: print 1e-9 units.
        hprintln!(
            "    {} samples, worst error {}e-9 (tolerance {}e-9)",
            self.samples,
            (self.worst * 1e9) as u32,
            (TOLERANCE * 1e9) as u32
        );
        self.worst <= TOLERANCE && self.same_argmax == self.samples
    }

    /// Whether every sample is within [`TOLERANCE`] of Keras's at the scale of its outputs,
    /// `|Δ| ≤ 1e-5 · max(1, max |y|)` (the tolerance of the reference models); prints the worst
    /// error either way. Outputs of magnitude at most 1 (probabilities) are held to 1e-5
    /// absolute, as in [`Self::matches_keras`].
    pub fn matches_keras_scaled(&self) -> bool {
        hprintln!(
            "    {} samples, worst error {}e-9 of max(1, max |y|) (tolerance {}e-9), same class {}/{}",
            self.samples,
            (self.worst_scaled * 1e9) as u32,
            (TOLERANCE * 1e9) as u32,
            self.same_argmax,
            self.samples
        );
        self.worst_scaled <= TOLERANCE
    }

    /// Whether the output bits hash to `golden`, the value the host computes.
    pub fn bit_exact(&self, golden: u32) -> bool {
        hprintln!("    fnv 0x{:08x}, host golden 0x{:08x}", self.hash, golden);
        self.hash == golden
    }
}

/// Runs `predict` on every sample of the fixture `x`, in order, and compares with Keras's outputs
/// `keras` (both raw little-endian f32, samples one after the other). `predict` may carry state
/// from one call to the next: a streaming model fed one time step per call, say.
pub fn compare<const FI: usize, const PI: usize, const FO: usize, const PO: usize>(
    mut predict: impl FnMut(&Tensor<FI, PI>) -> Tensor<FO, PO>,
    x: &[u8],
    keras: &[u8],
) -> Outcome {
    let samples = x.len() / (4 * FI * PI);
    assert_eq!(keras.len(), samples * 4 * FO * PO, "fixture sizes disagree");
    let (mut worst, mut worst_scaled) = (0.0f32, 0.0f32);
    let (mut hash, mut same_argmax) = (golden::Fnv::new(), 0);
    for sample in 0..samples {
        let y = predict(&input(x, sample));
        let want = |i: usize| f32_at(keras, sample * FO * PO + i);
        let (mut theirs, mut largest_diff, mut scale) = (0, 0.0f32, 1.0f32);
        for (i, &v) in y.iter().enumerate() {
            worst = worst.max(error(v, want(i)));
            largest_diff = largest_diff.max((v - want(i)).abs());
            scale = scale.max(want(i).abs());
            hash.push(v);
            theirs = if want(i) > want(theirs) { i } else { theirs };
        }
        worst_scaled = worst_scaled.max(largest_diff / scale);
        same_argmax += usize::from(y.argmax() == theirs);
    }
    Outcome {
        samples,
        worst,
        worst_scaled,
        hash: hash.finish(),
        same_argmax,
    }
}

/// A value computed on first use and then kept: a big model runs its fixture once for both of
/// its tests (against Keras, against the host).
pub struct Memo<T>(core::cell::UnsafeCell<Option<T>>);

// SAFETY: the firmware has one thread and no interrupt handler touches a `Memo`.
unsafe impl<T> Sync for Memo<T> {}

impl<T: Copy> Memo<T> {
    /// Nothing computed yet.
    pub const fn new() -> Self {
        Self(core::cell::UnsafeCell::new(None))
    }

    /// The kept value, computing it with `f` the first time.
    pub fn get(&self, f: impl FnOnce() -> T) -> T {
        // SAFETY: one thread, and `f` does not reach this `Memo`: no other reference exists.
        let slot = unsafe { &mut *self.0.get() };
        *slot.get_or_insert_with(f)
    }
}

impl<T: Copy> Default for Memo<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A model's workspace in a `static` (`.bss`: zeros, so nothing in flash), as `&'static mut`.
/// Each use of the macro is its own static: call it in one place per model.
///
/// ```ignore
/// let workspace = firmware::static_workspace!(KwsDsCnnWorkspace);
/// KWS.predict_in(&x, workspace);
/// ```
#[macro_export]
macro_rules! static_workspace {
    ($workspace:ty) => {{
        static mut WORKSPACE: $workspace = <$workspace>::new();
        static TAKEN: ::core::sync::atomic::AtomicBool =
            ::core::sync::atomic::AtomicBool::new(false);
        // Taken once only: a second `&mut` to the same static would be undefined behaviour.
        ::core::assert!(
            !TAKEN.swap(true, ::core::sync::atomic::Ordering::Relaxed),
            "a static workspace is taken once"
        );
        // SAFETY: checked just above, this is the only reference ever made to WORKSPACE.
        unsafe { &mut *::core::ptr::addr_of_mut!(WORKSPACE) }
    }};
}

/// Sample `sample` of a fixture of `F·P` little-endian f32 values per sample, as a tensor.
pub fn input<const F: usize, const P: usize>(bytes: &[u8], sample: usize) -> Tensor<F, P> {
    let mut t = Tensor::zeros();
    for (i, v) in t.iter_mut().enumerate() {
        *v = f32_at(bytes, sample * F * P + i);
    }
    t
}

/// `N` little-endian f32 values from `bytes`, starting at value `start`, at compile time: a bench
/// binary keeps only its one input in flash, not the whole fixture.
pub const fn f32s<const N: usize>(bytes: &[u8], start: usize) -> [f32; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        let b = 4 * (start + i);
        out[i] = f32::from_le_bytes([bytes[b], bytes[b + 1], bytes[b + 2], bytes[b + 3]]);
        i += 1;
    }
    out
}

/// Ends the QEMU run with `code` as its exit status (semihosting `SYS_EXIT_EXTENDED`;
/// cortex-m-semihosting's `debug::exit` can only report 0 or 1).
pub fn exit(code: u32) -> ! {
    const SYS_EXIT_EXTENDED: usize = 0x20;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x2_0026;
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as usize];
    // SAFETY: the parameter block is valid for the call; a semihosting host ends the run here.
    unsafe { cortex_m_semihosting::syscall(SYS_EXIT_EXTENDED, &block) };
    loop {
        cortex_m::asm::bkpt();
    }
}

/// A test: its name and a function returning whether it passed.
pub type Test<'a> = (&'a str, fn() -> bool);

/// Runs every test, prints `test NAME ... ok|FAILED`, then the closing line
/// `N passed, N failed`, and exits 0 when every test passed, 1 otherwise.
pub fn run_tests(tests: &[Test]) -> ! {
    let (mut passed, mut failed) = (0, 0);
    hprintln!("\nrunning {} tests on the MCU", tests.len());
    for (name, test) in tests {
        let ok = test();
        hprintln!("test {} ... {}", name, if ok { "ok" } else { "FAILED" });
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    hprintln!("\n{} passed, {} failed", passed, failed);
    exit(if failed == 0 { 0 } else { 1 })
}

/// Marks the start of the measured window (`measure.sh` counts the instructions between the two
/// markers). The bodies differ so that LLVM cannot merge the two functions into one address.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn bench_begin() {
    cortex_m::asm::nop();
}

/// Marks the end of the measured window.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn bench_end() {
    cortex_m::asm::nop();
    cortex_m::asm::nop();
}

/// The most stack used since reset, in bytes: how far below the top of RAM the `paint-stack`
/// pattern (0xCCCC_CCCC) has been overwritten. Inlined, so that it adds no frame of its own.
#[inline(always)]
pub fn stack_high_water() -> usize {
    extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    // Only the addresses of the linker symbols are taken.
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
    let mut p = bottom;
    // SAFETY: every word between the stack's bottom and top is RAM.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == 0xCCCC_CCCC {
        p += 4;
    }
    top - p
}

/// What a bench binary prints after its one inference: the output's hash (compare it across
/// builds) and the peak stack (measured by the caller, before this function's own frame), then
/// exits 0.
pub fn bench_report(name: &str, output: &[f32], stack: usize) -> ! {
    let mut hash = golden::Fnv::new();
    output.iter().for_each(|&v| hash.push(v));
    hprintln!(
        "{}: outputs={} fnv=0x{:08x} stack_peak_bytes={}",
        name,
        output.len(),
        hash.finish(),
        stack
    );
    exit(0)
}

/// Call from each binary's `HardFault` handler: prints where the fault happened and exits with
/// status 3 instead of spinning until the timeout.
pub fn hard_fault_exit(frame: &ExceptionFrame) -> ! {
    if let Ok(mut out) = hio::hstdout() {
        let _ = writeln!(out, "HardFault at pc=0x{:08x}", frame.pc());
    }
    exit(3)
}

/// The entry point and fault handler of a bench binary: one `predict` of `$net` on the values
/// `$input` (a `&[f32]` in Keras row-major order) between the [`bench_begin`]/[`bench_end`]
/// markers, then [`bench_report`]. With `run = |x| …` instead of a model, the closure is what
/// gets measured (a streaming model's step, with its state, for example).
///
/// ```ignore
/// static X: [f32; 1] = firmware::f32s(firmware::models::SINE_X, 16);
/// firmware::bench_main!("sine", firmware::models::SINE, &X);
/// ```
#[macro_export]
macro_rules! bench_main {
    ($name:literal, run = $run:expr, $input:expr) => {
        #[$crate::cortex_m_rt::entry]
        fn main() -> ! {
            // Opaque to the optimiser, so the inference is not evaluated at compile time.
            let input = ::core::hint::black_box($crate::Tensor::from_slice($input));
            $crate::bench_begin();
            let output = ($run)(&input);
            $crate::bench_end();
            let stack = $crate::stack_high_water();
            $crate::bench_report($name, output.as_slice(), stack)
        }

        #[$crate::cortex_m_rt::exception]
        unsafe fn HardFault(frame: &$crate::cortex_m_rt::ExceptionFrame) -> ! {
            $crate::hard_fault_exit(frame)
        }
    };
    ($name:literal, $net:expr, workspace = $workspace:ty, $input:expr) => {
        $crate::bench_main!(
            $name,
            run = |x| {
                // In `.bss`: `ACTIVATION_BYTES` of static RAM, not stack.
                $net.predict_in(x, $crate::static_workspace!($workspace))
            },
            $input
        );
    };
    ($name:literal, $net:expr, $input:expr) => {
        $crate::bench_main!($name, run = |x| $net.predict(x), $input);
    };
}

/// The body of the `train_*` binaries: fine-tunes `head` for two steps with `run` (given the
/// head, the step count and the per-step callback), measuring the second step between
/// [`bench_begin`] and [`bench_end`], then reports the step losses, the peak stack
/// and the trained weights' hash under `name`.
///
/// The caller keeps the head and its buffers as locals of `main` (captured by `run`), so the
/// peak stack is all the RAM training takes. Always inlined: as a call of its own the digits
/// binary's peak stack grew by 10 KB (measured: 76,608 B against 66,312 B).
#[inline(always)]
pub fn bench_two_steps<H: static_keras::Model>(
    name: &str,
    head: &mut H,
    run: impl FnOnce(&mut H, usize, &mut dyn FnMut(usize, f32)) -> Result<(), tune::TuneError>,
) -> ! {
    let mut losses = [0.0f32; 2];
    let result = run(head, losses.len(), &mut |step, loss| {
        losses[step] = loss;
        if step == 0 {
            bench_begin();
        } else {
            bench_end();
        }
    });
    let stack = stack_high_water();
    if let Err(e) = result {
        let (what, a, b) = e.what();
        hprintln!("{}: {} {} {}", name, what, a, b);
        exit(1);
    }
    hprintln!("{}: weights fnv=0x{:08x}", name, tune::weights_hash(head));
    bench_report(name, &losses, stack)
}
