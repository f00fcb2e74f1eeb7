//! Depthwise, separable and transposed convolutions beyond the parity suite: MLPerf Tiny's
//! DS-CNN pasted with the tf.keras 2 arguments Keras 3 rejects (accepted and ignored here),
//! models built by the compiler in a `static` (`from_le_bytes_const`) that equal the same models
//! loaded at run time and predict like Keras, and `predict` without a heap allocation.
#[macro_use]
#[allow(unused_macros)]
mod parity;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use static_keras::{keras_model, Model};

/// Counts this thread's allocations (the tests of this file run in parallel).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

keras_model! {
    /// MLPerf Tiny's keyword-spotting DS-CNN (`keras_model.py`, 'ds_cnn') without its batch
    /// normalizations, as its source spells the layers: `kernel_regularizer` and
    /// `kernel_initializer` on DepthwiseConv2D, and `groups = 1` as tf.keras 2 saved it.
    struct DsCnn {
        input_shape: (49, 10, 1),
        layers: [
            Conv2D(64, (10, 4), strides = (2, 2), padding = "same", kernel_regularizer = l2(1e-4)),
            Activation("relu"),
            Dropout(0.2),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same",
                            kernel_regularizer = l2(1e-4), kernel_initializer = "he_normal"),
            Activation("relu"),
            Conv2D(64, (1, 1), padding = "same", kernel_regularizer = l2(1e-4)),
            Activation("relu"),
            DepthwiseConv2D(depth_multiplier = 1, kernel_size = (3, 3), padding = "same", groups = 1),
            Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"),
            Activation("relu"),
            DepthwiseConv2D(kernel_size = (3, 3), padding = "same", depthwise_initializer = "he_normal"),
            Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"),
            Activation("relu"),
            DepthwiseConv2D(kernel_size = (3, 3), padding = "same", kernel_constraint = None),
            Activation("relu"),
            Conv2D(64, (1, 1), padding = "same"),
            Activation("relu"),
            Dropout(0.4),
            AveragePooling2D(pool_size = (24, 5)),
            Flatten(),
            Dense(12, activation = "softmax"),
        ],
    }
}

#[test]
fn mlperf_ds_cnn_pastes_in() {
    // Keras's 24,908 parameters less the 9 batch normalizations' 4 × 64 each.
    assert_eq!(DsCnn::PARAMS, 24_908 - 9 * 4 * 64);
    assert_eq!(DsCnn::OUTPUT_SHAPE, &[12]);
    let net = DsCnn::zeroed_boxed();
    let y = net.predict(&DsCnn::input_from_slice(&[0.5; 490]).unwrap());
    // Zero weights: every class equally likely.
    assert!(y.as_slice().iter().all(|&p| (p - 1.0 / 12.0).abs() < 1e-6));
}

keras_model! {
    struct MobilenetBlocks {
        input_shape: (12, 12, 8),
        layers: [
            DepthwiseConv2D(3, padding = "same"),
            Conv2D(16, 1, activation = "relu"),
            DepthwiseConv2D(3, strides = 2, padding = "same", use_bias = False),
            Conv2D(16, 1, activation = "relu6"),
            Flatten(),
            Dense(3, activation = "softmax"),
        ],
    }
}

keras_model! {
    struct Autoencoder {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(4, 3, strides = 2, padding = "same", activation = "relu"),
            SeparableConv2D(8, 3, padding = "same", activation = "relu"),
            Conv2DTranspose(4, 3, strides = 2, padding = "same", activation = "relu"),
            Conv2D(1, 3, padding = "same", activation = "sigmoid"),
        ],
    }
}

keras_model! {
    struct SequenceUpsampler {
        input_shape: (6, 3),
        layers: [
            SeparableConv1D(4, 3, padding = "same"),
            Conv1DTranspose(2, 4, strides = 2, padding = "same"),
            DepthwiseConv1D(3, depth_multiplier = 2),
        ],
    }
}

macro_rules! fixture {
    ($case:literal, $kind:literal) => {
        include_bytes!(concat!("fixtures/convx/", $case, ".", $kind, ".bin"))
    };
}

static MOBILENET: MobilenetBlocks =
    MobilenetBlocks::from_le_bytes_const(fixture!("mobilenet_blocks", "w"));
static AUTOENCODER: Autoencoder = Autoencoder::from_le_bytes_const(fixture!("autoencoder", "w"));
static UPSAMPLER: SequenceUpsampler =
    SequenceUpsampler::from_le_bytes_const(fixture!("sequence_upsampler", "w"));

/// The static model equals the loaded one bit for bit, and both predict like Keras.
fn check<M: Model<InputElem = f32>>(name: &str, built: &M, weights: &[u8], x: &[u8], y: &[u8])
where
    M::Output: PartialEq + core::fmt::Debug,
{
    let mut loaded = M::zeroed();
    static_keras::load_le_bytes(&mut loaded, weights).unwrap();
    let (x, y) = (parity::read_f32(x), parity::read_f32(y));
    let in_len: usize = M::INPUT_SHAPE.iter().product();
    let mut out = vec![0.0; M::OUTPUT_LEN];
    for (sample, want) in x.chunks_exact(in_len).zip(y.chunks_exact(M::OUTPUT_LEN)) {
        let input = M::input_from_slice(sample).unwrap();
        let before = allocations();
        let got = built.predict(&input);
        assert_eq!(allocations(), before, "{name}: predict allocated");
        assert_eq!(got, loaded.predict(&input), "{name}");
        M::output_to_slice(&got, &mut out);
        let worst = out
            .iter()
            .zip(want)
            .map(|(&g, &w)| parity::error(g, w))
            .fold(0.0, f32::max);
        assert!(worst <= parity::TOLERANCE, "{name}: error {worst:e}");
    }
}

#[test]
fn static_models_equal_loaded_ones_and_keras() {
    check(
        "mobilenet_blocks",
        &MOBILENET,
        fixture!("mobilenet_blocks", "w"),
        fixture!("mobilenet_blocks", "x"),
        fixture!("mobilenet_blocks", "y"),
    );
    check(
        "autoencoder",
        &AUTOENCODER,
        fixture!("autoencoder", "w"),
        fixture!("autoencoder", "x"),
        fixture!("autoencoder", "y"),
    );
    check(
        "sequence_upsampler",
        &UPSAMPLER,
        fixture!("sequence_upsampler", "w"),
        fixture!("sequence_upsampler", "x"),
        fixture!("sequence_upsampler", "y"),
    );
}
