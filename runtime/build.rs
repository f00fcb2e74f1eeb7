//! One cfg for "the SIMD kernels are compiled in": `simd_kernels`, set where they exist (the
//! `std` feature, for run-time CPU detection, on x86_64 or aarch64). Every SIMD path and its
//! tests is behind `#[cfg(simd_kernels)]` rather than repeating the target list in each of them.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(simd_kernels)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let std = std::env::var_os("CARGO_FEATURE_STD").is_some();
    if std && (arch == "x86_64" || arch == "aarch64") {
        println!("cargo::rustc-cfg=simd_kernels");
    }
}
