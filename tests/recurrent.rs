//! The generated API of recurrent and Embedding models: token ids in, masks, `return_state`
//! tuples, layer descriptions, and hand composition of the runtime layers.

use static_keras::layers::{Embedding, Gru, Lstm, LstmState, ReturnLast, ReturnSequences};
use static_keras::{keras_model, Activation, ConfigValue, Error, Layer, Model, TokenIds, Weights};

keras_model! {
    /// Masked text into stacked recurrent layers, the last returning its states.
    struct Tagger {
        input_shape: (6,),
        layers: [
            Embedding(10, 4, mask_zero = True),
            LSTM(5, return_sequences = True, go_backwards = True),
            GRU(3, reset_after = False, return_state = True),
        ],
    }
}

keras_model! {
    /// Keras 2's spelling: the sequence length on the Embedding, no `input_shape`.
    struct Keras2 {
        layers: [Embedding(100, 8, input_length = 10), SimpleRNN(4)],
    }
}

#[test]
fn input_length_gives_the_input_shape() {
    assert_eq!(Keras2::INPUT_SHAPE, &[10]);
    assert_eq!(Keras2::PARAMS, 800 + 8 * 4 + 4 * 4 + 4);
    assert!(Keras2::input_from_slice(&[99; 10]).is_ok());
}

fn weights(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| (((i * 37) % 23) as f32 * 0.05 - 0.55).to_le_bytes())
        .collect()
}

#[test]
fn token_ids_are_checked_on_the_way_in() {
    assert_eq!(
        Tagger::input_from_slice(&[1, 2, 3, 10, 0, 0]),
        Err(Error::TokenOutOfRange {
            position: 3,
            id: 10,
            input_dim: 10
        })
    );
    assert_eq!(
        Tagger::input_from_slice(&[1, 2]),
        Err(Error::InputLength {
            expected: 6,
            actual: 2
        })
    );
    let message = Error::TokenOutOfRange {
        position: 3,
        id: 10,
        input_dim: 10,
    }
    .to_string();
    assert_eq!(
        message,
        "token id 10 at position 3 is out of range: Embedding input_dim is 10"
    );
}

#[test]
fn return_state_gives_a_tuple_written_one_output_after_the_other() {
    let net = Tagger::from_le_bytes(&weights(Tagger::PARAMS)).unwrap();
    let x = Tagger::input_from_slice(&[3, 1, 4, 1, 5, 0]).unwrap();
    let (output, h) = net.predict(&x);
    // GRU's output after the last step is its state.
    assert_eq!(output, h);
    assert_eq!(Tagger::OUTPUT_SHAPES, &[&[3][..], &[3]]);
    assert_eq!(<Tagger as Model>::OUTPUT_LEN, 6);
    let mut flat = [0.0; 6];
    Tagger::output_to_slice(&(output, h), &mut flat);
    assert_eq!(&flat[..3], output.as_slice());
    assert_eq!(&flat[3..], h.as_slice());
    assert!(Tagger::summary()
        .contains("│ gru (GRU)                            │ [(None, 3), (None, 3)]"));
}

#[test]
fn the_macro_threads_the_mask_as_hand_composition_does() {
    let bytes = weights(Tagger::PARAMS);
    let net = Tagger::from_le_bytes(&bytes).unwrap();

    let mut emb: Embedding<10, 4> = Embedding::default();
    let mut lstm: Lstm<4, 5, ReturnSequences> =
        Lstm::new(Activation::Tanh, Activation::Sigmoid).with_go_backwards(true);
    let mut gru: Gru<5, 3, ReturnLast> = Gru::new(Activation::Tanh, Activation::Sigmoid, false);
    let mut values = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    for layer in [&mut emb as &mut dyn Weights, &mut lstm, &mut gru] {
        for (i, var) in layer.variables().iter().enumerate() {
            layer.load_variable(i, &mut values.by_ref().take(var.len()));
        }
    }
    assert!(values.next().is_none());

    for ids in [[3, 1, 4, 1, 5, 0], [0, 0, 7, 0, 9, 9], [0; 6]] {
        let tokens = TokenIds::<6, 10>::new(&ids).unwrap();
        let mask = tokens.mask();
        let seq = lstm.forward_with(
            &emb.forward(&tokens),
            Some(&mask),
            &mut LstmState::default(),
        );
        let mut h = Default::default();
        let out = gru.forward_with(&seq, Some(&mask), &mut h);
        assert_eq!(net.predict(&tokens), (out, h), "{ids:?}");
        // Without the mask the padding would count.
        if ids.contains(&0) {
            assert_ne!(out, gru.forward(&lstm.forward(&emb.forward(&tokens))));
        }
    }
    // An all-padding row keeps the initial state.
    let (out, _) = net.predict(&Tagger::input_from_slice(&[0; 6]).unwrap());
    assert!(out.iter().all(|&v| v == 0.0));
}

#[test]
fn layers_describe_their_keras_config() {
    let mut seen = Vec::new();
    Tagger::zeroed().visit_layers(&mut |info, weights| {
        let shapes: Vec<&[usize]> = weights.variables().iter().map(|v| v.shape).collect();
        seen.push((info.name, info.class, shapes, info.config.to_vec()));
    });
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[0].0, seen[0].1), ("embedding", "Embedding"));
    assert_eq!(seen[0].2, [&[10, 4][..]]);
    assert!(seen[0].3.contains(&("mask_zero", ConfigValue::Bool(true))));
    assert_eq!((seen[1].0, seen[1].1), ("lstm", "LSTM"));
    assert_eq!(seen[1].2, [&[4, 20][..], &[5, 20], &[20]]);
    assert!(seen[1]
        .3
        .contains(&("go_backwards", ConfigValue::Bool(true))));
    assert_eq!((seen[2].0, seen[2].1), ("gru", "GRU"));
    // reset_after = False: a (3·units,) bias.
    assert_eq!(seen[2].2, [&[5, 9][..], &[3, 9], &[9]]);
    assert!(seen[2]
        .3
        .contains(&("reset_after", ConfigValue::Bool(false))));
    assert!(seen[2]
        .3
        .contains(&("return_state", ConfigValue::Bool(true))));
    assert!(seen[2]
        .3
        .contains(&("recurrent_activation", ConfigValue::Str("sigmoid"))));
}

#[test]
fn weights_round_trip_in_keras_order() {
    let bytes = weights(Tagger::PARAMS);
    let net = Tagger::from_le_bytes(&bytes).unwrap();
    let mut out = Vec::new();
    net.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.extend(v.to_le_bytes()));
        }
    });
    assert_eq!(out, bytes);
}
