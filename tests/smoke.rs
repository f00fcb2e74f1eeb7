use static_keras::keras_model;

keras_model! {
    /// A tiny model.
    pub struct Tiny {
        input_shape: (16,),
        layers: [
            Dense(8, activation = "relu"),
            Dropout(0.5),
            Reshape((2, 4)),
            Dense(3, activation="softmax", name="out"),
            Flatten(),
        ],
    }
}

#[test]
fn runs() {
    let net = Tiny::zeroed();
    let x = Tiny::input_from_slice(&[0.5; 16]).unwrap();
    let y = net.predict(&x);
    assert_eq!(y.as_slice().len(), 6);
    assert_eq!(Tiny::PARAMS, 16 * 8 + 8 + 4 * 3 + 3);
    assert_eq!(Tiny::OUTPUT_SHAPE, &[6]);
    println!("{}", Tiny::summary());
}

static TINY: Tiny = Tiny::from_le_bytes_const(&WEIGHTS);
const WEIGHTS: [u8; 151 * 4] = {
    let mut bytes = [0u8; 151 * 4];
    let mut i = 0;
    while i < 151 {
        let b = ((i % 13) as f32 * 0.1 - 0.6).to_le_bytes();
        bytes[4 * i] = b[0];
        bytes[4 * i + 1] = b[1];
        bytes[4 * i + 2] = b[2];
        bytes[4 * i + 3] = b[3];
        i += 1;
    }
    bytes
};

#[test]
fn const_construction_equals_run_time_loading() {
    let loaded = Tiny::from_le_bytes(&WEIGHTS).unwrap();
    let x = Tiny::input_from_slice(&core::array::from_fn::<f32, 16, _>(|i| {
        i as f32 * 0.2 - 1.0
    }))
    .unwrap();
    assert_eq!(TINY.predict(&x), loaded.predict(&x));
    assert_eq!(TINY.dense.kernel, loaded.dense.kernel);
    assert_eq!(TINY.out.bias, loaded.out.bias);
}
