//! Bytes as any saved file (`.keras`, `.weights.h5`, legacy `.h5`) that, when it loads into a
//! declared model, is written back with the savers (`weights_h5_bytes`, `keras_bytes`) and read
//! again: the weights must be equal (inputs that start neither like a zip nor like HDF5 are
//! skipped).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"PK") || data.starts_with(b"\x89HDF\r\n\x1a\n") {
        common::save(data);
    }
});
