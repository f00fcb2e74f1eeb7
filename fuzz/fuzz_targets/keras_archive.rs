//! Bytes as a `.keras` archive (inputs that do not start like a zip are skipped).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"PK") {
        common::run(data);
    }
});
