use static_keras::keras_model;

// trybuild compiles this in `target/tests/trybuild/static-keras`, the crate's
// CARGO_MANIFEST_DIR for the build: the path climbs back to the repository.
keras_model! {
    /// `Dense(4)(a) + a`: a raw operation on tensors saved in the graph, not a layer.
    pub struct Net from "../../../../tests/fixtures/files/graph/errors/raw_op.k3151.keras";
}

fn main() {}
