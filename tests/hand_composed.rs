//! Runtime layers composed by hand, without the macro, type-check through `Layer` and compute
//! exactly what the generated model computes.

use static_keras::layers::{Dense, Dropout, Reshape};
use static_keras::{keras_model, Activation, Layer, Model, Tensor, Weights};

keras_model! {
    struct Declared {
        input_shape: (4,),
        layers: [Dense(6, activation = "tanh"), Reshape((3, 2)), Dense(2, activation = "softmax")],
    }
}

#[test]
fn three_layers_by_hand_equal_the_macro() {
    let weights: Vec<f32> = (0..Declared::PARAMS)
        .map(|i| ((i * 7) % 11) as f32 * 0.1 - 0.5)
        .collect();
    let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
    let declared = Declared::from_le_bytes(&bytes).unwrap();

    let mut first: Dense<4, 6> = Dense::new(Activation::Tanh);
    let mut last: Dense<2, 2> = Dense::new(Activation::Softmax);
    let mut values = weights.iter().copied();
    for layer in [&mut first as &mut dyn Weights, &mut last] {
        for (i, var) in layer.variables().iter().enumerate() {
            let mut take = values.by_ref().take(var.len());
            layer.load_variable(i, &mut take);
        }
    }
    assert!(values.next().is_none());
    let chain = (first, (Dropout::new(0.1), Reshape::<6, 1, 2, 3>), last);

    let x = Tensor::<4, 1>::from_slice(&[0.3, -1.2, 2.0, 0.7]);
    let by_hand: Tensor<2, 3> = chain.forward(&x);
    assert_eq!(by_hand, <Declared as Model>::predict(&declared, &x));
    // Keras (3, 2): a softmax over the last axis at each of the three positions.
    for position in 0..3 {
        let sum = by_hand[[position, 0]] + by_hand[[position, 1]];
        assert!((sum - 1.0).abs() < 1e-6);
    }
}
