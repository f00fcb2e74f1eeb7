use static_keras::keras_model;

// trybuild compiles this in `target/tests/trybuild/static-keras`, the crate's
// CARGO_MANIFEST_DIR for the build: the path climbs back to the repository.
keras_model! {
    /// A residual graph with a UnitNormalization in one branch.
    pub struct Net from "../../../../tests/fixtures/import/errors/unsupported_in_graph.keras" with weights;
}

fn main() {
    let _ = Net::load_embedded();
}
