//! Training end to end: `compile`, `train_on_batch` lowers the loss, frozen layers do not move.

use static_keras::losses::MeanSquaredError;
use static_keras::optimizers::Sgd;
use static_keras::{keras_model, Tensor};

keras_model! {
    struct Regressor {
        x = Input(shape = (3,));
        h = Dense(8, activation = "tanh", trainable = False)(x);
        y = Dense(1)(Dense(4, activation = "relu")(h));
        model = Model(x, y);
    }
}

fn weights(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((i as f32 * 0.37).sin() * 0.5).to_le_bytes())
        .collect()
}

#[test]
fn the_loss_falls_and_frozen_layers_stay() {
    let mut net = Regressor::from_le_bytes(&weights(Regressor::PARAMS)).unwrap();
    let frozen_before = net.dense.kernel.as_slice().to_vec();
    let xs: Vec<_> = (0..16)
        .map(|i| {
            let t = i as f32 / 16.0;
            Regressor::input_from_slice(&[t, 1.0 - t, t * t]).unwrap()
        })
        .collect();
    // A target the model can fit: a smooth function of the inputs.
    let ys: Vec<Tensor<1, 1>> = xs
        .iter()
        .map(|x| Tensor::<1, 1>::from_slice(&[x.as_slice()[0] - 0.5 * x.as_slice()[2]]))
        .collect();
    let mut trainer = net.compile(
        Sgd {
            learning_rate: 0.1,
            ..Default::default()
        },
        MeanSquaredError::default(),
    );
    let first = trainer.train_on_batch(&xs, &ys);
    let mut last = first;
    for _ in 0..200 {
        last = trainer.train_on_batch(&xs, &ys);
    }
    assert!(last < first * 0.5, "loss {first} -> {last}");
    assert_eq!(trainer.iterations(), 201);
    assert_eq!(net.dense.kernel.as_slice(), &frozen_before[..]);
    assert_eq!(Regressor::PARAMS, 32 + 36 + 5);
}
