//! Keras's other names for the seed layers (`Convolution2D`, `MaxPool2D`, `AvgPool2D`, …) build
//! exactly the canonical layer: Keras's automatic names, summary rows and classes are the
//! canonical class's, counted together with it.
use static_keras::{keras_model, Model};

keras_model! {
    struct Aliased {
        input_shape: (8, 8, 1),
        layers: [
            Convolution2D(4, 3, padding = "same"),
            MaxPool2D(2),
            Conv2D(4, 3),
            AvgPool2D(2, padding = "same"),
            Flatten(),
            Dense(3),
        ],
    }
}

keras_model! {
    struct Aliased1d3d {
        input_shape: (4, 4, 4, 1),
        layers: [
            Convolution3D(2, 2),
            MaxPool3D(1),
            AvgPool3D(1),
            Reshape((9, 6)),
            Convolution1D(2, 3),
            Conv1D(2, 2),
            MaxPool1D(2),
            AvgPool1D(1),
        ],
    }
}

#[test]
fn aliases_are_named_and_summarised_as_their_class() {
    let net = Aliased::zeroed();
    // The fields carry Keras's automatic names, one counter per class.
    let _ = (
        &net.conv2d,
        &net.max_pooling2d,
        &net.conv2d_1,
        &net.average_pooling2d,
    );
    let mut layers = Vec::new();
    net.visit_layers(&mut |info, _| layers.push((info.name, info.class)));
    assert_eq!(
        layers,
        [
            ("conv2d", "Conv2D"),
            ("max_pooling2d", "MaxPooling2D"),
            ("conv2d_1", "Conv2D"),
            ("average_pooling2d", "AveragePooling2D"),
            ("flatten", "Flatten"),
            ("dense", "Dense"),
        ]
    );
    let summary = Aliased::summary();
    for row in [
        "conv2d (Conv2D)",
        "max_pooling2d (MaxPooling2D)",
        "conv2d_1 (Conv2D)",
        "average_pooling2d (AveragePooling2D)",
    ] {
        assert!(summary.contains(row), "{row} in\n{summary}");
    }
    assert!(!summary.contains("Convolution") && !summary.contains("Pool2D"));

    let net = Aliased1d3d::zeroed();
    let mut names = Vec::new();
    net.visit_layers(&mut |info, _| names.push(info.name));
    assert_eq!(
        names,
        [
            "conv3d",
            "max_pooling3d",
            "average_pooling3d",
            "reshape",
            "conv1d",
            "conv1d_1",
            "max_pooling1d",
            "average_pooling1d"
        ]
    );
    assert_eq!(Aliased1d3d::OUTPUT_SHAPE, &[3, 2]);
}

keras_model! {
    /// Keras's other names of the transposed and separable convolutions and global poolings.
    struct AliasedMore {
        input_shape: (4, 4, 2),
        layers: [
            Convolution2DTranspose(2, 2, strides = 2),
            SeparableConvolution2D(3, 3),
            Conv2DTranspose(2, 1),
            GlobalAvgPool2D(keepdims = True),
            Reshape((1, 2)),
            Convolution1DTranspose(3, 2),
            SeparableConvolution1D(2, 1),
            GlobalMaxPool1D(),
            Reshape((1, 1, 2, 1)),
            Convolution3DTranspose(1, 1),
            GlobalAvgPool3D(),
            Reshape((1, 1)),
            GlobalMaxPool1D(),
            Reshape((1, 1, 1, 1)),
            GlobalMaxPool3D(),
            Reshape((1, 1)),
            GlobalAvgPool1D(),
            Reshape((1, 1, 1)),
            GlobalMaxPool2D(),
        ],
    }
}

#[test]
fn more_aliases_are_their_classes() {
    let net = AliasedMore::zeroed();
    let mut layers = Vec::new();
    net.visit_layers(&mut |info, _| {
        if info.class != "Reshape" {
            layers.push((info.name, info.class));
        }
    });
    assert_eq!(
        layers,
        [
            ("conv2d_transpose", "Conv2DTranspose"),
            ("separable_conv2d", "SeparableConv2D"),
            ("conv2d_transpose_1", "Conv2DTranspose"),
            ("global_average_pooling2d", "GlobalAveragePooling2D"),
            ("conv1d_transpose", "Conv1DTranspose"),
            ("separable_conv1d", "SeparableConv1D"),
            ("global_max_pooling1d", "GlobalMaxPooling1D"),
            ("conv3d_transpose", "Conv3DTranspose"),
            ("global_average_pooling3d", "GlobalAveragePooling3D"),
            ("global_max_pooling1d_1", "GlobalMaxPooling1D"),
            ("global_max_pooling3d", "GlobalMaxPooling3D"),
            ("global_average_pooling1d", "GlobalAveragePooling1D"),
            ("global_max_pooling2d", "GlobalMaxPooling2D"),
        ]
    );
    assert_eq!(AliasedMore::OUTPUT_SHAPE, &[1]);
    assert!(
        !AliasedMore::summary().contains("Convolution")
            && !AliasedMore::summary().contains("Pool1D")
    );
}
