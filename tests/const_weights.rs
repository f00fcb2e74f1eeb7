//! Models built by the compiler in a `static` (`from_le_bytes_const`, weights in read-only
//! memory) equal the same models loaded at run time, for every layer family.

use static_keras::keras_model;

keras_model! {
    struct Recurrent {
        input_shape: (5,),
        layers: [
            Embedding(12, 4, mask_zero = True),
            GRU(6, return_sequences = True, reset_after = False, go_backwards = True),
            LSTM(5, return_sequences = True, recurrent_activation = "hard_sigmoid"),
            SimpleRNN(3, use_bias = False),
            Dense(2, activation = "softmax"),
        ],
    }
}

const fn pattern<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let mut i = 0;
    while i < N / 4 {
        let b = ((i % 23) as f32 * 0.05 - 0.5).to_le_bytes();
        bytes[4 * i] = b[0];
        bytes[4 * i + 1] = b[1];
        bytes[4 * i + 2] = b[2];
        bytes[4 * i + 3] = b[3];
        i += 1;
    }
    bytes
}

const WEIGHTS: [u8; Recurrent::PARAMS * 4] = pattern();
static RECURRENT: Recurrent = Recurrent::from_le_bytes_const(&WEIGHTS);

#[test]
fn recurrent_and_embedding_static_equals_loaded() {
    let loaded = Recurrent::from_le_bytes(&WEIGHTS).unwrap();
    for ids in [[0u32, 0, 3, 7, 11], [5, 1, 0, 0, 0], [0; 5]] {
        let x = Recurrent::input_from_slice(&ids).unwrap();
        assert_eq!(RECURRENT.predict(&x), loaded.predict(&x));
    }
}

keras_model! {
    struct Convolutional {
        input_shape: (6, 6, 2),
        layers: [
            Conv2D(9, 3, padding = "same", groups = 1, activation = "relu"),
            MaxPooling2D(2, padding = "same"),
            Conv2D(6, (2, 1), groups = 3, use_bias = False),
            AveragePooling2D(2, strides = 1, padding = "same"),
            Reshape((-1, 6)),
            Conv1D(4, 2, padding = "causal", dilation_rate = 2),
            MaxPooling1D(2),
            Flatten(),
            Dense(3),
        ],
    }
}

const CONV_WEIGHTS: [u8; Convolutional::PARAMS * 4] = pattern();
static CONVOLUTIONAL: Convolutional = Convolutional::from_le_bytes_const(&CONV_WEIGHTS);

#[test]
fn convolution_and_pooling_static_equals_loaded() {
    let loaded = Convolutional::from_le_bytes(&CONV_WEIGHTS).unwrap();
    let values: Vec<f32> = (0..72).map(|i| ((i * 5) % 11) as f32 * 0.2 - 1.0).collect();
    let x = Convolutional::input_from_slice(&values).unwrap();
    let (a, b) = (CONVOLUTIONAL.predict(&x), loaded.predict(&x));
    assert_eq!(a, b);
    assert!(a.iter().any(|v| *v != 0.0));
}
