use static_keras::keras_model;

keras_model! {
    pub struct Net from "tests/fixtures/files/no-such-model.keras" with weights;
}

fn main() {}
