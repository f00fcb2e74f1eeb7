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
