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
    let net = Tiny::default();
    let x = Tiny::input_from_slice(&[0.5; 16]).unwrap();
    let y = net.predict(&x);
    assert_eq!(y.as_slice().len(), 6);
    assert_eq!(Tiny::PARAMS, 16 * 8 + 8 + 4 * 3 + 3);
    assert_eq!(Tiny::OUTPUT_SHAPE, &[6]);
    println!("{}", Tiny::summary());
}
