use static_keras::keras_model;

keras_model! {
    pub struct Net from "tests/fixtures/files/no-such-model.keras" with weights;
}

fn main() {
    // The struct and its constructors still exist: the file is the only error reported.
    let _ = Net::load_embedded();
    let _ = Net::summary();
}
