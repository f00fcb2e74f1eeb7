//! Models made of the padding, cropping, up-sampling and global pooling layers, beyond parity:
//! `predict_batch` gives exactly `predict`'s values, neither allocates, a model built by the
//! compiler (`from_le_bytes_const`) equals the loaded one, and a masked sequence is averaged over
//! its tokens only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use static_keras::{keras_model, Model};

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
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

keras_model! {
    struct Images {
        input_shape: (7, 6, 3),
        layers: [
            ZeroPadding2D(((1, 0), (2, 1))),
            Conv2D(4, 3, activation = "relu"),
            UpSampling2D((2, 3), interpolation = "bilinear"),
            Cropping2D(((1, 2), (0, 3))),
            UpSampling2D(),
            GlobalMaxPooling2D(keepdims = True),
            Flatten(),
            Dense(3),
        ],
    }
}

keras_model! {
    struct Volumes {
        input_shape: (3, 4, 2, 2),
        layers: [
            ZeroPadding3D((1, (0, 2), 1)),
            UpSampling3D((2, 1, 2)),
            Cropping3D(((1, 0), (1, 1), (0, 2))),
            Conv3D(3, 2),
            GlobalAveragePooling3D(),
        ],
    }
}

keras_model! {
    struct Sequences {
        input_shape: (9, 4),
        layers: [
            ZeroPadding1D((0, 2)),
            UpSampling1D(3),
            Cropping1D(),
            Conv1D(5, 3),
            GlobalAveragePooling1D(keepdims = True),
            Dense(2),
        ],
    }
}

keras_model! {
    struct Bag {
        input_shape: (6,),
        layers: [Embedding(10, 3, mask_zero = True), GlobalAveragePooling1D()],
    }
}

fn weights(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| ((i % 13) as f32 * 0.05 - 0.3).to_le_bytes())
        .collect()
}

fn inputs<M: Model<InputElem = f32>>(count: usize) -> Vec<M::Input> {
    let len: usize = M::INPUT_SHAPE.iter().product();
    (0..count)
        .map(|s| {
            let v: Vec<f32> = (0..len)
                .map(|i| ((i * 7 + s * 3) % 19) as f32 / 6.0 - 1.5)
                .collect();
            M::input_from_slice(&v).unwrap()
        })
        .collect()
}

/// `predict` and `predict_batch` (over stale outputs) agree exactly and allocate nothing.
fn check<M: Model<InputElem = f32>>(net: &M) {
    let xs = inputs::<M>(5);
    let mut want = Vec::new();
    for x in &xs {
        let mut y = None;
        let n = allocations_during(|| y = Some(net.predict(std::hint::black_box(x))));
        assert_eq!(n, 0, "predict allocated {n} times");
        want.push(y.unwrap());
    }
    // Outputs holding another sample's values: every value must be written.
    let mut got: Vec<M::Output> = xs.iter().rev().map(|x| net.predict(x)).collect();
    let n = allocations_during(|| net.predict_batch(&xs, &mut got));
    assert_eq!(n, 0, "predict_batch allocated {n} times");
    let (mut a, mut b) = (vec![0.0; M::OUTPUT_LEN], vec![0.0; M::OUTPUT_LEN]);
    for (g, w) in got.iter().zip(&want) {
        M::output_to_slice(g, &mut a);
        M::output_to_slice(w, &mut b);
        assert_eq!(a, b);
        assert!(b.iter().all(|v| v.is_finite()));
    }
    // The samples differ, so a stale output would have been seen.
    M::output_to_slice(&want[0], &mut a);
    M::output_to_slice(&want[4], &mut b);
    assert_ne!(a, b);
}

#[test]
fn batches_equal_single_predictions_without_allocating() {
    check(&Images::from_le_bytes(&weights(Images::PARAMS)).unwrap());
    check(&Volumes::from_le_bytes(&weights(Volumes::PARAMS)).unwrap());
    check(&Sequences::from_le_bytes(&weights(Sequences::PARAMS)).unwrap());
}

const IMAGE_WEIGHTS: [u8; Images::PARAMS * 4] = {
    let mut bytes = [0u8; Images::PARAMS * 4];
    let mut i = 0;
    while i < Images::PARAMS {
        let v = ((i % 11) as f32 * 0.1 - 0.5).to_le_bytes();
        bytes[4 * i] = v[0];
        bytes[4 * i + 1] = v[1];
        bytes[4 * i + 2] = v[2];
        bytes[4 * i + 3] = v[3];
        i += 1;
    }
    bytes
};
static IMAGES: Images = Images::from_le_bytes_const(&IMAGE_WEIGHTS);

#[test]
fn a_model_built_by_the_compiler_equals_the_loaded_one() {
    let loaded = Images::from_le_bytes(&IMAGE_WEIGHTS).unwrap();
    for x in inputs::<Images>(3) {
        assert_eq!(IMAGES.predict(&x).as_slice(), loaded.predict(&x).as_slice());
    }
}

#[test]
fn a_masked_sequence_is_averaged_over_its_tokens() {
    // Embedding row i is (i, 10 i, 100 i): the mean of tokens 2 and 6 is (4, 40, 400),
    // whatever the padding around them.
    let rows: Vec<u8> = (0..10)
        .flat_map(|i| [i as f32, 10.0 * i as f32, 100.0 * i as f32])
        .flat_map(f32::to_le_bytes)
        .collect();
    let bag = Bag::from_le_bytes(&rows).unwrap();
    for ids in [[2, 6, 0, 0, 0, 0], [0, 0, 0, 0, 2, 6], [0, 2, 0, 0, 6, 0]] {
        let x = Bag::input_from_slice(&ids).unwrap();
        let mut y = None;
        let n = allocations_during(|| y = Some(bag.predict(std::hint::black_box(&x))));
        assert_eq!(n, 0, "predict allocated {n} times");
        assert_eq!(y.unwrap().as_slice(), &[4.0, 40.0, 400.0], "{ids:?}");
    }
    // Every step padding: 0 / 0, NaN, as in Keras.
    let y = bag.predict(&Bag::input_from_slice(&[0; 6]).unwrap());
    assert!(y.as_slice().iter().all(|v| v.is_nan()));
}
