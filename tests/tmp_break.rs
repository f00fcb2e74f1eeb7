#[macro_use]
mod grads;
grads_suite! {
    suite: "grads_conv",
    keras: "3.15.1",
    cases: [
        maxpool2d {
            model: { x = Input(shape=(9, 8, 2)); h = Conv2D(3, 2, activation="tanh")(x); h = MaxPooling2D((3, 2), strides=(2, 1), padding="same")(h); h = MaxPooling2D(2)(h); model = Model(x, Conv2D(2, 2, padding="same")(h)) },
            loss: MeanSquaredError::default(),
            value: 3.1135366,
        },
        maxpool_ties {
            model: { x = Input(shape=(4, 3, 2)); h = UpSampling2D(2)(Conv2D(3, 2, padding="same", activation="relu")(x)); h = MaxPooling2D(3, strides=1, padding="same")(h); model = Model(x, Conv2D(2, 2, strides=2)(h)) },
            loss: MeanSquaredError::default(),
            value: 9.080853,
        },
        maxpool1d_ties {
            model: { x = Input(shape=(5, 2)); h = UpSampling1D(3)(Conv1D(3, 2, padding="same")(x)); model = Model(x, Conv1D(2, 3)(MaxPooling1D(4, strides=1)(h))) },
            loss: MeanSquaredError::default(),
            value: 3.0294547,
        },
        global_max_ties {
            model: { x = Input(shape=(3, 3, 2)); h = UpSampling2D(2)(Conv2D(4, 2, activation="tanh")(x)); model = Model(x, Dense(3)(GlobalMaxPooling2D()(h))) },
            loss: MeanSquaredError::default(),
            value: 0.9147542,
        },
    ],
}
