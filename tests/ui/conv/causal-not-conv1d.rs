// "causal" padding exists for Conv1D only; both bad layers are reported in one build.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (6, 6, 6, 2),
        layers: [
            Conv3D(4, 3, padding = "causal"),
            Reshape((6, 36, 4)),
            Conv2D(4, 3, padding = "causal"),
        ],
    }
}

fn main() {}
