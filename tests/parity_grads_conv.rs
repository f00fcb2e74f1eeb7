//! Gradient parity with Keras (`jax.grad` over `stateless_call(training=True)`) for the
//! convolution and spatial families: Conv1D/2D/3D, the depthwise, separable and transposed
//! convolutions, pooling, global pooling, padding, cropping and up-sampling.
#[macro_use]
mod grads;

include!("generated/grads_conv.rs");

use static_keras::losses::MeanSquaredError;
use static_keras::optimizers::Sgd;
use static_keras::train::Trainable;
use static_keras::{keras_model, Model, Tensor};

keras_model! {
    /// Layers whose kernels are stored packed: 40 filters in 2 groups (blocks of filters and a
    /// short one per group), a depthwise kernel with a multiplier, a separable and a transposed
    /// convolution.
    struct Packed {
        x = Input(shape = (6, 5, 3));
        h = Conv2D(40, 3, groups = 1, padding = "same", activation = "tanh")(x);
        h = Conv2D(36, 2, groups = 2, activation = "tanh")(h);
        h = DepthwiseConv2D(3, depth_multiplier = 2, activation = "tanh")(h);
        h = SeparableConv2D(5, 2, depth_multiplier = 2, padding = "same")(h);
        h = Conv2DTranspose(3, 2, strides = 2)(h);
        model = Model(x, GlobalAveragePooling2D()(h));
    }
}

fn keras_weights<M: Model>(model: &M) -> Vec<f32> {
    let mut out = Vec::new();
    model.visit_layers(&mut |_, layer| {
        for i in 0..layer.variables().len() {
            layer.store_variable(i, &mut |v| out.push(v));
        }
    });
    out
}

/// The optimizer updates the packed kernels element by element with gradients packed the same
/// way: one SGD step moves every weight, in Keras's order, by `−learning_rate · gradient` in
/// Keras's order; and steps lower the loss.
#[test]
fn sgd_steps_packed_kernels_by_their_gradients() {
    let weights: Vec<u8> = (0..Packed::PARAMS)
        .flat_map(|i| ((i as f32 * 0.618).sin() * 0.3).to_le_bytes())
        .collect();
    let mut net = Packed::from_le_bytes(&weights).unwrap();
    let xs: Vec<_> = (0..4)
        .map(|s| {
            let v: Vec<f32> = (0..90)
                .map(|i| ((s * 90 + i) as f32 * 0.37).cos())
                .collect();
            Packed::input_from_slice(&v).unwrap()
        })
        .collect();
    let ys: Vec<Tensor<3, 1>> = (0..4)
        .map(|s| Tensor::from_slice(&[0.1 * s as f32, -0.2, 0.3]))
        .collect();
    let before = keras_weights(&net);
    let learning_rate = 0.5;
    let mut trainer = net.compile(
        Sgd {
            learning_rate,
            ..Default::default()
        },
        MeanSquaredError::default(),
    );
    let first = trainer.compute_gradients(&xs, &ys).unwrap();
    let mut grads = Vec::new();
    <Packed as Trainable>::grads_in_keras_order(trainer.grads(), &mut |g| grads.push(g));
    assert_eq!(grads.len(), Packed::PARAMS);
    assert!(grads.iter().filter(|g| **g != 0.0).count() > Packed::PARAMS / 2);
    trainer.apply_gradients();
    let after = keras_weights(trainer.model());
    for (i, ((b, a), g)) in before.iter().zip(&after).zip(&grads).enumerate() {
        let want = b - learning_rate * g;
        assert!(
            (a - want).abs() <= 1e-6,
            "weight {i}: {a}, want {b} - lr·{g} = {want}"
        );
    }
    let mut last = first;
    for _ in 0..30 {
        last = trainer.train_on_batch(&xs, &ys);
    }
    assert!(last < first * 0.5, "loss {first} -> {last}");
}
