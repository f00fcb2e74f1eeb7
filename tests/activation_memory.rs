//! Activation memory planned at compile time for the reference models of KERAS_GRAPHS.md §4
//! (MLPerf Tiny's four and MobileNetV2-0.35 at 96×96), declared as Keras builds them: their
//! `ACTIVATION_BYTES` against the peaks that document measured on Keras's own graphs.
//!
//! Its strategies: A, every layer output in a buffer of its own; B, BatchNormalization,
//! activations, Dropout and Flatten in place; C, B with `Add` into an input and ZeroPadding2D
//! fused into the next convolution. The planner here does B and `Add` in place, and reuses
//! every buffer once its last reader has run; it does not fuse padding into convolutions.
//! (The document counts the model's input while it is alive; `predict_in` borrows the input,
//! and in none of these models is the peak where the input is still alive.)

// MobileNetV2's layer names (`bn_Conv1`, `Conv_1`, …) are Keras's, so its fields are too.
#![allow(non_snake_case)]

use static_keras::{keras_model, Model, Planned, Zeroable};

keras_model! {
    /// MLPerf Tiny keyword spotting, DS-CNN (`keras_model.py`, 'ds_cnn').
    struct Kws {
        input_shape: (49, 10, 1),
        layers: [
            Conv2D(64, (10, 4), strides = (2, 2), padding = "same"),
            BatchNormalization(), Activation("relu"), Dropout(0.2),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same"),
            BatchNormalization(), Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same"),
            BatchNormalization(), Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same"),
            BatchNormalization(), Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same"),
            BatchNormalization(), Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"), BatchNormalization(), Activation("relu"),
            Dropout(0.4), AveragePooling2D(pool_size = (24, 5)), Flatten(),
            Dense(12, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// MLPerf Tiny visual wake words, MobileNetV1 α = 0.25 (`vww_model.py`).
    struct Vww {
        input_shape: (96, 96, 3),
        layers: [
            Conv2D(8, 3, strides = 2, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(16, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 2, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(32, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(32, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 2, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(64, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(64, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 2, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(128, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 2, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(256, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            DepthwiseConv2D(3, strides = 1, padding = "same"), BatchNormalization(), Activation("relu"),
            Conv2D(256, 1, padding = "same"), BatchNormalization(), Activation("relu"),
            AveragePooling2D(pool_size = (3, 3)), Flatten(), Dense(2, activation = "softmax"),
        ],
    }
}

keras_model! {
    /// MLPerf Tiny image classification, ResNet-8 with 16 filters (`resnet_v1_eembc`).
    struct ResNet8 {
        img = Input(shape = (32, 32, 3));
        x = Conv2D(16, 3, padding = "same")(img);
        x = BatchNormalization()(x);
        x = Activation("relu")(x);
        y = Conv2D(16, 3, padding = "same")(x);
        y = BatchNormalization()(y);
        y = Activation("relu")(y);
        y = Conv2D(16, 3, padding = "same")(y);
        y = BatchNormalization()(y);
        x = add([x, y]);
        x = Activation("relu")(x);
        y = Conv2D(32, 3, strides = 2, padding = "same")(x);
        y = BatchNormalization()(y);
        y = Activation("relu")(y);
        y = Conv2D(32, 3, padding = "same")(y);
        y = BatchNormalization()(y);
        x = Conv2D(32, 1, strides = 2, padding = "same")(x);
        x = add([x, y]);
        x = Activation("relu")(x);
        y = Conv2D(64, 3, strides = 2, padding = "same")(x);
        y = BatchNormalization()(y);
        y = Activation("relu")(y);
        y = Conv2D(64, 3, padding = "same")(y);
        y = BatchNormalization()(y);
        x = Conv2D(64, 1, strides = 2, padding = "same")(x);
        x = add([x, y]);
        x = Activation("relu")(x);
        x = AveragePooling2D(pool_size = 8)(x);
        y = Flatten()(x);
        out = Dense(10, activation = "softmax")(y);
        model = Model(inputs = img, outputs = out);
    }
}

keras_model! {
    /// MLPerf Tiny anomaly detection, the fully connected autoencoder (`keras_model.py`).
    struct Ad {
        input_shape: (640,),
        layers: [
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(8), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(128), BatchNormalization(), Activation("relu"),
            Dense(640),
        ],
    }
}

keras_model! {
    /// `keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), weights=None,
    /// classes=10)`, layer for layer.
    struct MobileNetV2 {
        img = Input(shape = (96, 96, 3));
        x = Conv2D(16, 3, strides = 2, padding = "same", use_bias = False, name = "Conv1")(img);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "bn_Conv1")(x);
        x = ReLU(6.0, name = "Conv1_relu")(x);
        x = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "expanded_conv_depthwise")(x);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "expanded_conv_depthwise_BN")(x);
        x = ReLU(6.0, name = "expanded_conv_depthwise_relu")(x);
        x = Conv2D(8, 1, padding = "same", use_bias = False, name = "expanded_conv_project")(x);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "expanded_conv_project_BN")(x);
        y = Conv2D(48, 1, padding = "same", use_bias = False, name = "block_1_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_1_expand_BN")(y);
        y = ReLU(6.0, name = "block_1_expand_relu")(y);
        y = ZeroPadding2D(((0, 1), (0, 1)), name = "block_1_pad")(y);
        y = DepthwiseConv2D(3, strides = 2, padding = "valid", use_bias = False, name = "block_1_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_1_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_1_depthwise_relu")(y);
        y = Conv2D(8, 1, padding = "same", use_bias = False, name = "block_1_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_1_project_BN")(y);
        y = Conv2D(48, 1, padding = "same", use_bias = False, name = "block_2_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_2_expand_BN")(y);
        y = ReLU(6.0, name = "block_2_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_2_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_2_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_2_depthwise_relu")(y);
        y = Conv2D(8, 1, padding = "same", use_bias = False, name = "block_2_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_2_project_BN")(y);
        x = Add(name = "block_2_add")([x, y]);
        y = Conv2D(48, 1, padding = "same", use_bias = False, name = "block_3_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_3_expand_BN")(y);
        y = ReLU(6.0, name = "block_3_expand_relu")(y);
        y = ZeroPadding2D(((0, 1), (0, 1)), name = "block_3_pad")(y);
        y = DepthwiseConv2D(3, strides = 2, padding = "valid", use_bias = False, name = "block_3_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_3_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_3_depthwise_relu")(y);
        y = Conv2D(16, 1, padding = "same", use_bias = False, name = "block_3_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_3_project_BN")(y);
        y = Conv2D(96, 1, padding = "same", use_bias = False, name = "block_4_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_4_expand_BN")(y);
        y = ReLU(6.0, name = "block_4_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_4_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_4_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_4_depthwise_relu")(y);
        y = Conv2D(16, 1, padding = "same", use_bias = False, name = "block_4_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_4_project_BN")(y);
        x = Add(name = "block_4_add")([x, y]);
        y = Conv2D(96, 1, padding = "same", use_bias = False, name = "block_5_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_5_expand_BN")(y);
        y = ReLU(6.0, name = "block_5_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_5_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_5_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_5_depthwise_relu")(y);
        y = Conv2D(16, 1, padding = "same", use_bias = False, name = "block_5_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_5_project_BN")(y);
        x = Add(name = "block_5_add")([x, y]);
        y = Conv2D(96, 1, padding = "same", use_bias = False, name = "block_6_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_6_expand_BN")(y);
        y = ReLU(6.0, name = "block_6_expand_relu")(y);
        y = ZeroPadding2D(((0, 1), (0, 1)), name = "block_6_pad")(y);
        y = DepthwiseConv2D(3, strides = 2, padding = "valid", use_bias = False, name = "block_6_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_6_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_6_depthwise_relu")(y);
        y = Conv2D(24, 1, padding = "same", use_bias = False, name = "block_6_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_6_project_BN")(y);
        y = Conv2D(144, 1, padding = "same", use_bias = False, name = "block_7_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_7_expand_BN")(y);
        y = ReLU(6.0, name = "block_7_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_7_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_7_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_7_depthwise_relu")(y);
        y = Conv2D(24, 1, padding = "same", use_bias = False, name = "block_7_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_7_project_BN")(y);
        x = Add(name = "block_7_add")([x, y]);
        y = Conv2D(144, 1, padding = "same", use_bias = False, name = "block_8_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_8_expand_BN")(y);
        y = ReLU(6.0, name = "block_8_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_8_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_8_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_8_depthwise_relu")(y);
        y = Conv2D(24, 1, padding = "same", use_bias = False, name = "block_8_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_8_project_BN")(y);
        x = Add(name = "block_8_add")([x, y]);
        y = Conv2D(144, 1, padding = "same", use_bias = False, name = "block_9_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_9_expand_BN")(y);
        y = ReLU(6.0, name = "block_9_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_9_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_9_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_9_depthwise_relu")(y);
        y = Conv2D(24, 1, padding = "same", use_bias = False, name = "block_9_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_9_project_BN")(y);
        x = Add(name = "block_9_add")([x, y]);
        y = Conv2D(144, 1, padding = "same", use_bias = False, name = "block_10_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_10_expand_BN")(y);
        y = ReLU(6.0, name = "block_10_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_10_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_10_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_10_depthwise_relu")(y);
        y = Conv2D(32, 1, padding = "same", use_bias = False, name = "block_10_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_10_project_BN")(y);
        y = Conv2D(192, 1, padding = "same", use_bias = False, name = "block_11_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_11_expand_BN")(y);
        y = ReLU(6.0, name = "block_11_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_11_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_11_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_11_depthwise_relu")(y);
        y = Conv2D(32, 1, padding = "same", use_bias = False, name = "block_11_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_11_project_BN")(y);
        x = Add(name = "block_11_add")([x, y]);
        y = Conv2D(192, 1, padding = "same", use_bias = False, name = "block_12_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_12_expand_BN")(y);
        y = ReLU(6.0, name = "block_12_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_12_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_12_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_12_depthwise_relu")(y);
        y = Conv2D(32, 1, padding = "same", use_bias = False, name = "block_12_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_12_project_BN")(y);
        x = Add(name = "block_12_add")([x, y]);
        y = Conv2D(192, 1, padding = "same", use_bias = False, name = "block_13_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_13_expand_BN")(y);
        y = ReLU(6.0, name = "block_13_expand_relu")(y);
        y = ZeroPadding2D(((0, 1), (0, 1)), name = "block_13_pad")(y);
        y = DepthwiseConv2D(3, strides = 2, padding = "valid", use_bias = False, name = "block_13_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_13_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_13_depthwise_relu")(y);
        y = Conv2D(56, 1, padding = "same", use_bias = False, name = "block_13_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_13_project_BN")(y);
        y = Conv2D(336, 1, padding = "same", use_bias = False, name = "block_14_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_14_expand_BN")(y);
        y = ReLU(6.0, name = "block_14_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_14_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_14_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_14_depthwise_relu")(y);
        y = Conv2D(56, 1, padding = "same", use_bias = False, name = "block_14_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_14_project_BN")(y);
        x = Add(name = "block_14_add")([x, y]);
        y = Conv2D(336, 1, padding = "same", use_bias = False, name = "block_15_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_15_expand_BN")(y);
        y = ReLU(6.0, name = "block_15_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_15_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_15_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_15_depthwise_relu")(y);
        y = Conv2D(56, 1, padding = "same", use_bias = False, name = "block_15_project")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_15_project_BN")(y);
        x = Add(name = "block_15_add")([x, y]);
        y = Conv2D(336, 1, padding = "same", use_bias = False, name = "block_16_expand")(x);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_16_expand_BN")(y);
        y = ReLU(6.0, name = "block_16_expand_relu")(y);
        y = DepthwiseConv2D(3, padding = "same", use_bias = False, name = "block_16_depthwise")(y);
        y = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_16_depthwise_BN")(y);
        y = ReLU(6.0, name = "block_16_depthwise_relu")(y);
        y = Conv2D(112, 1, padding = "same", use_bias = False, name = "block_16_project")(y);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "block_16_project_BN")(y);
        x = Conv2D(1280, 1, use_bias = False, name = "Conv_1")(x);
        x = BatchNormalization(epsilon = 1e-3, momentum = 0.999, name = "Conv_1_bn")(x);
        x = ReLU(6.0, name = "out_relu")(x);
        x = GlobalAveragePooling2D()(x);
        y = Dense(10, activation = "softmax", name = "predictions")(x);
        model = Model(inputs = img, outputs = y);
    }
}

#[test]
fn parameters_are_keras_count_params() {
    // KERAS_GRAPHS.md §3.
    assert_eq!(Kws::PARAMS, 24_908);
    assert_eq!(Vww::PARAMS, 221_794);
    assert_eq!(ResNet8::PARAMS, 78_666);
    assert_eq!(Ad::PARAMS, 269_992);
    assert_eq!(MobileNetV2::PARAMS, 423_018);
}

#[test]
fn peaks_are_those_of_keras_graphs() {
    // KERAS_GRAPHS.md §4, f32 at batch 1, by hand:
    // KWS: two (25, 5, 64) activations, a layer's input and output (A = B = C).
    assert_eq!(Kws::ACTIVATION_BYTES, 2 * 25 * 5 * 64 * 4);
    assert_eq!(Kws::ACTIVATION_BYTES, 64_000);
    // VWW: the first pointwise convolution's (48, 48, 8) input and (48, 48, 16) output (B, C).
    assert_eq!(Vww::ACTIVATION_BYTES, (48 * 48 * 8 + 48 * 48 * 16) * 4);
    assert_eq!(Vww::ACTIVATION_BYTES, 221_184);
    // ResNet-8: the first stack's shortcut and a convolution's input and output, all
    // (32, 32, 16) (A = B = C).
    assert_eq!(ResNet8::ACTIVATION_BYTES, 3 * 32 * 32 * 16 * 4);
    assert_eq!(ResNet8::ACTIVATION_BYTES, 196_608);
    // AD: the last Dense's (128,) input and (640,) output (A = B = C).
    assert_eq!(Ad::ACTIVATION_BYTES, (128 + 640) * 4);
    assert_eq!(Ad::ACTIVATION_BYTES, 3_072);
    // MobileNetV2: block 1's expanded (48, 48, 48) activation and its zero-padded copy
    // (49, 49, 48), B's peak; C's 552,960 would need the padding fused into the depthwise
    // convolution.
    assert_eq!(
        MobileNetV2::ACTIVATION_BYTES,
        (48 * 48 * 48 + 49 * 49 * 48) * 4
    );
    assert_eq!(MobileNetV2::ACTIVATION_BYTES, 903_360);
}

#[test]
fn planned_models_run() {
    runs_with_every_class_equally_likely::<MobileNetV2>(96 * 96 * 3);
    runs_with_every_class_equally_likely::<ResNet8>(32 * 32 * 3);
    for (name, bytes) in [
        ("KWS DS-CNN", Kws::ACTIVATION_BYTES),
        ("VWW", Vww::ACTIVATION_BYTES),
        ("ResNet-8", ResNet8::ACTIVATION_BYTES),
        ("AD", Ad::ACTIVATION_BYTES),
        ("MobileNetV2", MobileNetV2::ACTIVATION_BYTES),
    ] {
        eprintln!("{name:<12} ACTIVATION_BYTES {bytes:>9}");
    }
}

/// Runs `M` (ten classes, `input_len` input values) with zero weights on the heap, through its
/// planned workspace: with zero weights every class is equally likely.
fn runs_with_every_class_equally_likely<M>(input_len: usize)
where
    M: Planned + Model<InputElem = f32> + Zeroable,
{
    let net = M::zeroed_boxed();
    let mut workspace = M::boxed_workspace();
    let x = M::input_from_slice(&vec![0.5; input_len]).unwrap();
    let y = net.predict_in(&x, &mut workspace);
    let mut out = vec![0.0; M::OUTPUT_LEN];
    M::output_to_slice(&y, &mut out);
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|&p| (p - 0.1).abs() < 1e-6), "{out:?}");
}
