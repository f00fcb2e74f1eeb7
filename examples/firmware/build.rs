//! Gives cortex-m-rt's `link.x` the memory layout it includes as `memory.x`: the STM32F405's
//! (`memory-f405.x`), or with the feature `stm32l4r5` the STM32L4R5's (`memory-l4r5.x`).
//!
//! Neither file is called `memory.x` in this directory: the linker looks in its working
//! directory (this one) before the search path, and would always find that one.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let memory = if env::var_os("CARGO_FEATURE_STM32L4R5").is_some() {
        "memory-l4r5.x"
    } else {
        "memory-f405.x"
    };
    fs::copy(memory, out.join("memory.x")).expect("the memory layouts are next to Cargo.toml");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-f405.x");
    println!("cargo:rerun-if-changed=memory-l4r5.x");
}
