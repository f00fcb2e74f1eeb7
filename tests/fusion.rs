//! The fused inference step (a convolution running the BatchNormalization and ReLU after it in
//! its store) computes the bits of the separate layers: the same graph with the convolutions'
//! outputs also returned as model outputs, which keeps every call a step of its own, gives the
//! same final output bit for bit, through `predict` and `predict_in`, with weights that make
//! negative, NaN (a negative moving variance) and large (above 6) values reach the clamps; on the
//! fastest kernels, on AVX2 at most, and on the portable kernels.

use static_keras::kernels::{self, Kernels};
use static_keras::{keras_model, Planned};

keras_model! {
    struct Fused {
        x = Input(shape = (9, 8, 3));
        a = Conv2D(8, 3, padding = "same")(x);
        b = BatchNormalization()(a);
        c = ReLU(max_value = 6.0)(b);
        d = DepthwiseConv2D(3, strides = 2, padding = "same")(c);
        e = BatchNormalization()(d);
        f = Activation("relu6")(e);
        g = Conv2D(20, 1, activation = "relu")(f);
        h = ReLU()(g);
        i = Conv1D(5, 2)(Reshape((20, 20))(h));
        j = Activation("relu")(i);
        model = Model(x, j);
    }
}

keras_model! {
    struct Separate {
        x = Input(shape = (9, 8, 3));
        a = Conv2D(8, 3, padding = "same")(x);
        b = BatchNormalization()(a);
        c = ReLU(max_value = 6.0)(b);
        d = DepthwiseConv2D(3, strides = 2, padding = "same")(c);
        e = BatchNormalization()(d);
        f = Activation("relu6")(e);
        g = Conv2D(20, 1, activation = "relu")(f);
        h = ReLU()(g);
        i = Conv1D(5, 2)(Reshape((20, 20))(h));
        j = Activation("relu")(i);
        model = Model(x, [j, a, d, g, i]);
    }
}

/// Deterministic weights in [-2.7, 3.3): negative moving variances (NaN channels) included.
fn weights(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (((i * 7919) % 1000) as f32 / 166.0 - 2.7).to_le_bytes())
        .collect()
}

#[test]
fn the_fused_steps_compute_the_bits_of_the_separate_layers() {
    for choice in [Kernels::Fastest, Kernels::Avx2, Kernels::Portable] {
        kernels::with(choice, check);
    }
}

fn check() {
    assert_eq!(Fused::PARAMS, Separate::PARAMS);
    let bytes = weights(Fused::PARAMS);
    let fused = Fused::from_le_bytes(&bytes).unwrap();
    let separate = Separate::from_le_bytes(&bytes).unwrap();
    let mut ws_fused = Fused::boxed_workspace();
    let mut ws_separate = Separate::boxed_workspace();
    let (mut zeros, mut positive) = (0, 0);
    for sample in 0..4 {
        let x: Vec<f32> = (0..9 * 8 * 3)
            .map(|i| (((i * 31 + sample * 17) % 41) as f32 - 20.0) * 0.1)
            .collect();
        let input = Fused::input_from_slice(&x).unwrap();
        let want = separate.predict(&input).0;
        let want_in = separate.predict_in(&input, &mut ws_separate).0;
        for got in [
            fused.predict(&input),
            fused.predict_in(&input, &mut ws_fused),
        ] {
            for (i, (g, w)) in got.as_slice().iter().zip(want.as_slice()).enumerate() {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "sample {sample} value {i}: {g} vs {w}"
                );
            }
        }
        assert_eq!(want.as_slice(), want_in.as_slice());
        zeros += want.as_slice().iter().filter(|&&v| v == 0.0).count();
        positive += want.as_slice().iter().filter(|&&v| v > 0.0).count();
    }
    // The outputs were not all clamped, nor none of them.
    assert!(
        zeros > 0 && positive > 0,
        "{zeros} zeros, {positive} positive"
    );
}
