//! Bytes as an HDF5 file: `.weights.h5` and legacy `.h5` (inputs without the HDF5 signature are
//! skipped).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"\x89HDF\r\n\x1a\n") {
        common::run(data);
    }
});
