use static_keras::keras_model;

// trybuild compiles this in `target/tests/trybuild/static-keras`, the crate's
// CARGO_MANIFEST_DIR for the build: the path climbs back to the repository.
keras_model! {
    /// `keras.Input((None, 3))`: the number of steps is not fixed.
    pub struct Net from "../../../../tests/fixtures/import/errors/variable_steps.keras";
}

fn main() {}
