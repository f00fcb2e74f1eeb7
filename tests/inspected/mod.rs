//! Declarations printed by `static-keras inspect` for the graph fixtures and the two MLPerf Tiny
//! files, pasted unchanged (only the `use` line is shared): what a user gets by pasting them,
//! loaded at run time with `from_keras_file` in `tests/keras_import_graphs.rs`.
//!
//! Regenerate with `cargo run -p static-keras-cli -- inspect <file>` on
//! `tests/fixtures/files/graph/{resblock,two_in,nested_fn,lstm_state}.k3151.keras` and
//! `tests/fixtures/files/real/{pretrainedResnet,ad01}.h5`.

use static_keras::keras_model;

keras_model! {
    pub struct Resblock {
        img = Input(shape = (6, 6, 3), name = "img");
        c1 = Conv2D(filters = 4, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "relu", use_bias = True, name = "c1")(img);
        short = Conv2D(filters = 4, kernel_size = (1, 1), strides = (1, 1), padding = "valid", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "short")(img);
        c2 = Conv2D(filters = 4, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "c2")(c1);
        add = Add(name = "add")([short, c2]);
        act = Activation(activation = "relu", name = "act")(add);
        model = Model(inputs = img, outputs = act);
    }
}

keras_model! {
    pub struct TwoIn {
        a = Input(shape = (5,), name = "a");
        b = Input(shape = (5,), name = "b");
        shared = Dense(units = 3, activation = "linear", use_bias = True, name = "shared");
        shared_call0 = shared(a);
        shared_call1 = shared(b);
        inner1 = Dense(units = 4, activation = "relu", use_bias = True, name = "inner1")(shared_call1);
        cat = Concatenate(axis = -1, name = "cat")([shared_call0, shared_call1]);
        inner_bn = BatchNormalization(axis = -1, momentum = 0.99, epsilon = 0.001, center = True, scale = True, renorm = False, name = "inner_bn")(inner1);
        o1 = Dense(units = 1, activation = "linear", use_bias = True, name = "o1")(cat);
        inner2 = Dense(units = 2, activation = "linear", use_bias = True, name = "inner2")(inner_bn);
        model = Model(inputs = [a, b], outputs = [o1, inner2]);
    }
}

keras_model! {
    pub struct NestedFn {
        x = Input(shape = (4,), name = "x");
        pre = Dense(units = 4, activation = "linear", use_bias = True, name = "pre");
        pre_call0 = pre(x);
        sd = Dense(units = 3, activation = "relu", use_bias = True, name = "sd");
        sd_call0 = sd(pre_call0);
        sbn = BatchNormalization(axis = -1, momentum = 0.99, epsilon = 0.001, center = True, scale = True, renorm = False, name = "sbn");
        sbn_call0 = sbn(sd_call0);
        post = Dense(units = 4, activation = "tanh", use_bias = True, name = "post");
        post_call0 = post(sbn_call0);
        pre_call1 = pre(post_call0);
        sd_call1 = sd(pre_call1);
        sbn_call1 = sbn(sd_call1);
        post_call1 = post(sbn_call1);
        sum = Add(name = "sum")([post_call0, post_call1]);
        model = Model(inputs = x, outputs = [sum, post_call1]);
    }
}

keras_model! {
    pub struct LstmState {
        seq = Input(shape = (5, 3), name = "seq");
        lstm_out, lstm_h, lstm_c = LSTM(units = 4, activation = "tanh", recurrent_activation = "sigmoid", use_bias = True, dropout = 0.0, recurrent_dropout = 0.0, unroll = False, return_sequences = False, return_state = True, go_backwards = False, stateful = False, zero_output_for_mask = False, name = "lstm")(seq);
        hc = Concatenate(axis = -1, name = "hc")([lstm_h, lstm_c]);
        head = Dense(units = 2, activation = "linear", use_bias = True, name = "head")(hc);
        model = Model(inputs = seq, outputs = [head, lstm_out]);
    }
}

keras_model! {
    pub struct PretrainedResnet {
        input_1 = Input(shape = (32, 32, 3), name = "input_1");
        conv2d = Conv2D(filters = 16, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d")(input_1);
        batch_normalization = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization")(conv2d);
        activation = Activation(activation = "relu", name = "activation")(batch_normalization);
        conv2d_1 = Conv2D(filters = 16, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_1")(activation);
        batch_normalization_1 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_1")(conv2d_1);
        activation_1 = Activation(activation = "relu", name = "activation_1")(batch_normalization_1);
        conv2d_2 = Conv2D(filters = 16, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_2")(activation_1);
        batch_normalization_2 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_2")(conv2d_2);
        add = Add(name = "add")([activation, batch_normalization_2]);
        activation_2 = Activation(activation = "relu", name = "activation_2")(add);
        conv2d_3 = Conv2D(filters = 32, kernel_size = (3, 3), strides = (2, 2), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_3")(activation_2);
        batch_normalization_3 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_3")(conv2d_3);
        activation_3 = Activation(activation = "relu", name = "activation_3")(batch_normalization_3);
        conv2d_4 = Conv2D(filters = 32, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_4")(activation_3);
        conv2d_5 = Conv2D(filters = 32, kernel_size = (1, 1), strides = (2, 2), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_5")(activation_2);
        batch_normalization_4 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_4")(conv2d_4);
        add_1 = Add(name = "add_1")([conv2d_5, batch_normalization_4]);
        activation_4 = Activation(activation = "relu", name = "activation_4")(add_1);
        conv2d_6 = Conv2D(filters = 64, kernel_size = (3, 3), strides = (2, 2), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_6")(activation_4);
        batch_normalization_5 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_5")(conv2d_6);
        activation_5 = Activation(activation = "relu", name = "activation_5")(batch_normalization_5);
        conv2d_7 = Conv2D(filters = 64, kernel_size = (3, 3), strides = (1, 1), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_7")(activation_5);
        conv2d_8 = Conv2D(filters = 64, kernel_size = (1, 1), strides = (2, 2), padding = "same", data_format = "channels_last", dilation_rate = (1, 1), groups = 1, activation = "linear", use_bias = True, name = "conv2d_8")(activation_4);
        batch_normalization_6 = BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_6")(conv2d_7);
        add_2 = Add(name = "add_2")([conv2d_8, batch_normalization_6]);
        activation_6 = Activation(activation = "relu", name = "activation_6")(add_2);
        average_pooling2d = AveragePooling2D(pool_size = (8, 8), strides = (8, 8), padding = "valid", data_format = "channels_last", name = "average_pooling2d")(activation_6);
        flatten = Flatten(data_format = "channels_last", name = "flatten")(average_pooling2d);
        dense = Dense(units = 10, activation = "softmax", use_bias = True, name = "dense")(flatten);
        model = Model(inputs = input_1, outputs = dense);
    }
}

keras_model! {
    pub struct Ad01 {
        input_shape: (640,),
        layers: [
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization"),
            Activation(activation = "relu", name = "activation"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_1"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_1"),
            Activation(activation = "relu", name = "activation_1"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_2"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_2"),
            Activation(activation = "relu", name = "activation_2"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_3"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_3"),
            Activation(activation = "relu", name = "activation_3"),
            Dense(units = 8, activation = "linear", use_bias = True, name = "dense_4"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_4"),
            Activation(activation = "relu", name = "activation_4"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_5"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_5"),
            Activation(activation = "relu", name = "activation_5"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_6"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_6"),
            Activation(activation = "relu", name = "activation_6"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_7"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_7"),
            Activation(activation = "relu", name = "activation_7"),
            Dense(units = 128, activation = "linear", use_bias = True, name = "dense_8"),
            BatchNormalization(axis = (1,), momentum = 0.99, epsilon = 0.001, center = True, scale = True, name = "batch_normalization_8"),
            Activation(activation = "relu", name = "activation_8"),
            Dense(units = 640, activation = "linear", use_bias = True, name = "dense_9"),
        ],
    }
}
