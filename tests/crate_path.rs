//! `#[static_keras(crate = "…")]`: generated code names the facade through another path (a
//! renamed dependency or a re-export), so nothing in it hard-codes `::static_keras`.

/// A re-export, as a library wrapping static-keras would offer it.
mod my_keras {
    pub use static_keras::*;
}

static_keras::keras_model! {
    /// Declared through the re-export.
    #[static_keras(crate = "crate::my_keras")]
    pub struct Net {
        x = Input(shape = (3,));
        y = Dense(2, activation = "relu")(x);
        model = Model(inputs = x, outputs = y);
    }
}

#[test]
fn generated_code_uses_the_given_path() {
    let net = Net::default();
    let y = net.predict(&Net::input_from_slice(&[1.0, 2.0, 3.0]).unwrap());
    assert_eq!(y.as_slice(), &[0.0, 0.0]);
    assert_eq!(Net::PARAMS, 8);
}
