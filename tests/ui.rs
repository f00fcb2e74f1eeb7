//! Compile-fail tests: every file under `tests/ui/` must fail to build with the error in its
//! `.stderr` snapshot (regenerate with `TRYBUILD=overwrite cargo test --test ui`, then read them).
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
