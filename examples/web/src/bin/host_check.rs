//! The native side of the browser test: reads 64 pixels (whitespace-separated) from stdin, prints
//! the embedded model's ten probabilities (one per line, full precision), then the native time per
//! inference in microseconds, with the SIMD kernels and with the portable ones the `.wasm` runs
//! (`time_us <simd> <portable>`).

use std::io::Read;
use std::time::Instant;

use web::{classify, DIGITS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let values = text
        .split_whitespace()
        .map(str::parse::<f32>)
        .collect::<Result<Vec<_>, _>>()?;
    let pixels: [f32; 64] = values
        .as_slice()
        .try_into()
        .map_err(|_| format!("expected 64 pixels, got {}", values.len()))?;
    for p in classify(&DIGITS, &pixels) {
        println!("{p:.9e}");
    }
    let time = || {
        let runs = 20_000;
        let start = Instant::now();
        let mut sink = 0.0;
        for _ in 0..runs {
            sink += classify(&DIGITS, std::hint::black_box(&pixels))[0];
        }
        std::hint::black_box(sink);
        start.elapsed().as_secs_f64() / f64::from(runs) * 1e6
    };
    let simd = time();
    let portable = static_keras::kernels::with(static_keras::Kernels::Portable, time);
    println!("time_us {simd:.3} {portable:.3}");
    Ok(())
}
