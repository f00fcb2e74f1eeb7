use static_keras::keras_model;

keras_model! {
    pub struct Net from "tests/fixtures/files/mlp.k3151.keras" with biases;
}

fn main() {}
