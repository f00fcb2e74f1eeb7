//! `predict` never touches the heap: counted through a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use static_keras::{keras_model, Model};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

keras_model! {
    struct Everything {
        input_shape: (6, 8),
        layers: [
            Dense(16, activation = "gelu"),
            Dropout(0.25),
            Activation("softmax"),
            Dense(12, activation = "glu", use_bias = False),
            Flatten(),
            Dense(32, activation = "sparsemax"),
            Reshape((4, -1)),
            Activation("log_softmax"),
            Dense(10),
        ],
    }
}

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn predict_does_not_allocate() {
    let weights: Vec<u8> = (0..Everything::PARAMS)
        .flat_map(|i| ((i % 17) as f32 * 0.03 - 0.2).to_le_bytes())
        .collect();
    let net = Everything::from_le_bytes(&weights).unwrap();
    let values: Vec<f32> = (0..48).map(|i| i as f32 / 10.0 - 2.0).collect();
    let x = Everything::input_from_slice(&values).unwrap();
    // The counter works: a Vec allocates.
    assert_eq!(
        allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))),
        1
    );
    let mut y = None;
    let n = allocations_during(|| y = Some(net.predict(std::hint::black_box(&x))));
    assert_eq!(n, 0, "predict allocated {n} times");
    let y = y.unwrap();
    assert_eq!(y.as_slice().len(), <Everything as Model>::OUTPUT_LEN);
    assert!(y.iter().all(|v| v.is_finite()));
}
