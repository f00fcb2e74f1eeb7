//! Training recurrent models end to end: token ids with a padding mask into an LSTM with dropout,
//! through `compile` and `train_on_batch`; the dropout masks come from the trainer's seed.

use static_keras::losses::BinaryCrossentropy;
use static_keras::optimizers::Adam;
use static_keras::{keras_model, Tensor};

keras_model! {
    struct Spotter {
        x = Input(shape = (8,), dtype = "int32");
        h = Embedding(6, 4, mask_zero = True)(x);
        h = LSTM(8, dropout = 0.2, recurrent_dropout = 0.2)(h);
        model = Model(x, Dense(1, activation = "sigmoid")(h));
    }
}

fn weights(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| ((i as f32 * 0.37).sin() * 0.4).to_le_bytes())
        .collect()
}

/// Sequences of 2 to 8 tokens in 1..6, padded with 0 at the end; the label: whether 3 occurs.
fn data(
    n: usize,
) -> (
    Vec<<Spotter as static_keras::Model>::Input>,
    Vec<Tensor<1, 1>>,
) {
    let mut state = 12345u32;
    let mut next = |m: u32| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) % m
    };
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let len = 2 + next(7) as usize;
        let mut ids = [0u32; 8];
        for id in &mut ids[..len] {
            // 1, 2, 4, 5 mostly; 3 in about half of the sequences.
            *id = [1, 2, 4, 5][next(4) as usize];
        }
        if next(2) == 0 {
            ids[next(len as u32) as usize] = 3;
        }
        let label = f32::from(u8::from(ids.contains(&3)));
        xs.push(Spotter::input_from_slice(&ids).unwrap());
        ys.push(Tensor::<1, 1>::from_slice(&[label]));
    }
    (xs, ys)
}

#[test]
fn a_masked_lstm_with_dropout_learns() {
    let (xs, ys) = data(64);
    let mut net = Spotter::from_le_bytes(&weights(Spotter::PARAMS)).unwrap();
    let mut trainer = net.compile(
        Adam {
            learning_rate: 0.02,
            ..Default::default()
        },
        BinaryCrossentropy::default(),
    );
    trainer.seed(7);
    let first = trainer.test_on_batch(&xs, &ys).unwrap();
    for _ in 0..150 {
        for (x, y) in xs.chunks(16).zip(ys.chunks(16)) {
            trainer.train_on_batch(x, y);
        }
    }
    let last = trainer.test_on_batch(&xs, &ys).unwrap();
    assert!(last < first * 0.3, "loss {first} -> {last}");
    let right = xs
        .iter()
        .zip(&ys)
        .filter(|(x, y)| (net.predict(x)[0] > 0.5) == (y[0] > 0.5))
        .count();
    assert!(right >= 60, "{right} of 64 right");
}

#[test]
fn dropout_masks_follow_the_trainers_seed() {
    let (xs, ys) = data(16);
    let train = |seed: u64| {
        let mut net = Spotter::from_le_bytes(&weights(Spotter::PARAMS)).unwrap();
        let mut trainer = net.compile(Adam::default(), BinaryCrossentropy::default());
        trainer.seed(seed);
        let losses: Vec<f32> = (0..3).map(|_| trainer.train_on_batch(&xs, &ys)).collect();
        (losses, net.predict(&xs[0])[0])
    };
    // The same seed: the same masks, bit for bit; another seed: other masks.
    assert_eq!(train(1), train(1));
    assert_ne!(train(1).0, train(2).0);
}
