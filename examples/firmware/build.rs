//! Gives cortex-m-rt's `link.x` the memory layout it includes as `memory.x`: the STM32F405's
//! (`memory-f405.x`, feature `stm32f405`, the default), or the STM32L4R5's (`memory-l4r5.x`,
//! `--no-default-features --features stm32l4r5`).
//!
//! Neither file is called `memory.x` in this directory: the linker looks in its working
//! directory (this one) before the search path, and would always find that one.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let feature = |name: &str| env::var_os(format!("CARGO_FEATURE_{name}")).is_some();
    let memory = match (feature("STM32F405"), feature("STM32L4R5")) {
        (true, false) => "memory-f405.x",
        (false, true) => "memory-l4r5.x",
        _ => panic!(
            "choose exactly one memory layout: the feature `stm32f405` (the default) or \
             `stm32l4r5` (with --no-default-features)"
        ),
    };
    fs::copy(memory, out.join("memory.x")).expect("the memory layouts are next to Cargo.toml");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-f405.x");
    println!("cargo:rerun-if-changed=memory-l4r5.x");
}
