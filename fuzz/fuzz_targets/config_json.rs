//! Text as a saved architecture (`config.json` of a `.keras`, the `model_config` of a legacy
//! `.h5`): functional graphs of every form, parsed and checked (inputs that are not UTF-8 are
//! skipped).
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        common::config(text);
    }
});
