//! The digits CNN of `examples/digits.rs` in a web page: `keras_model!` compiled to
//! `wasm32-unknown-unknown`, called from JavaScript through plain `extern "C"` exports (no
//! wasm-bindgen: the page passes pointers into the module's memory).
//!
//! Two models: [`DIGITS`], trained in Keras, its weights embedded in the `.wasm` as a `const`
//! model; and a model of the same declaration whose weights come from a `.keras` file the user
//! picks in the page ([`load_user_model`]), checked against the declaration at run time.

use std::cell::RefCell;

use static_keras::keras_model;

keras_model! {
    /// A CNN for 8×8 grayscale digits (ink in [0, 1], row by row), as `examples/digits.rs`.
    pub struct DigitsCnn {
        input_shape: (8, 8, 1),
        layers: [
            Conv2D(16, 3, activation = "relu", padding = "same"),
            MaxPooling2D(2),
            Conv2D(32, 3, activation = "relu"),
            Flatten(),
            Dropout(0.25),
            Dense(10, activation = "softmax"),
        ],
    }
}

/// The digits CNN trained by `tools/gen_fixtures.py digits_cnn`, built by the compiler.
pub static DIGITS: DigitsCnn =
    DigitsCnn::from_le_bytes_const(include_bytes!("../../data/digits_cnn.weights.bin"));

/// The ten digits' probabilities for 64 pixels.
pub fn classify(model: &DigitsCnn, pixels: &[f32; 64]) -> [f32; 10] {
    // 64 values always make a (8, 8, 1) input.
    let x = DigitsCnn::input_from_slice(pixels).expect("64 pixels");
    let mut probs = [0.0; 10];
    probs.copy_from_slice(model.predict(&x).as_slice());
    probs
}

/// Loads the user's model from a file's bytes, or says why it does not fit [`DigitsCnn`].
pub fn load_user_model(bytes: &[u8]) -> Result<Box<DigitsCnn>, String> {
    DigitsCnn::from_keras_bytes(bytes)
        .map(Box::new)
        .map_err(|e| e.to_string())
}

thread_local! {
    /// The model loaded from the user's file (the page is one thread).
    static USER: RefCell<Option<Box<DigitsCnn>>> = const { RefCell::new(None) };
    /// The last load's message, read by the page through `sk_message_*`.
    static MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Bytes the page may write into (pixels, probabilities, a file): `len` bytes, 4-aligned.
#[no_mangle]
pub extern "C" fn sk_alloc(len: usize) -> *mut u8 {
    let words = vec![0u32; len.div_ceil(4)].into_boxed_slice();
    Box::into_raw(words).cast()
}

/// Frees what [`sk_alloc`] gave for the same `len`.
///
/// # Safety
/// `ptr` came from `sk_alloc(len)` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn sk_free(ptr: *mut u8, len: usize) {
    let words = len.div_ceil(4);
    // SAFETY: by the contract, `ptr` is the boxed slice of `words` u32 that `sk_alloc` leaked.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr.cast::<u32>(), words)) });
}

/// Classifies 64 pixels at `pixels` with the embedded model, writes the ten probabilities at
/// `probs` and returns the most probable digit.
///
/// # Safety
/// `pixels` points to 64 `f32` and `probs` to 10, both aligned (from [`sk_alloc`]).
#[no_mangle]
pub unsafe extern "C" fn sk_classify(pixels: *const f32, probs: *mut f32) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { run(&DIGITS, pixels, probs) }
}

/// Loads the user's file (`len` bytes at `bytes`); 1 when it fits the declared model, 0 when not.
/// Either way the message is at `sk_message_ptr()`, `sk_message_len()` bytes of UTF-8.
///
/// # Safety
/// `bytes` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn sk_load_user(bytes: *const u8, len: usize) -> u32 {
    // SAFETY: the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(bytes, len) };
    let (ok, message) = match load_user_model(bytes) {
        Ok(model) => {
            USER.with(|user| *user.borrow_mut() = Some(model));
            (1, format!("loaded: {} parameters", DigitsCnn::PARAMS))
        }
        Err(error) => {
            USER.with(|user| *user.borrow_mut() = None);
            (0, error)
        }
    };
    MESSAGE.with(|m| *m.borrow_mut() = message);
    ok
}

/// Where the last load's message starts.
#[no_mangle]
pub extern "C" fn sk_message_ptr() -> *const u8 {
    MESSAGE.with(|m| m.borrow().as_ptr())
}

/// The last load's message length in bytes.
#[no_mangle]
pub extern "C" fn sk_message_len() -> usize {
    MESSAGE.with(|m| m.borrow().len())
}

/// As [`sk_classify`] with the user's model; `u32::MAX` when none is loaded.
///
/// # Safety
/// As [`sk_classify`].
#[no_mangle]
pub unsafe extern "C" fn sk_classify_user(pixels: *const f32, probs: *mut f32) -> u32 {
    USER.with(|user| match user.borrow().as_deref() {
        // SAFETY: the caller's contract.
        Some(model) => unsafe { run(model, pixels, probs) },
        None => u32::MAX,
    })
}

/// # Safety
/// As [`sk_classify`].
unsafe fn run(model: &DigitsCnn, pixels: *const f32, probs: *mut f32) -> u32 {
    // SAFETY: the caller guarantees 64 readable and 10 writable aligned f32.
    let (pixels, out) = unsafe {
        (
            &*pixels.cast::<[f32; 64]>(),
            &mut *probs.cast::<[f32; 10]>(),
        )
    };
    *out = classify(model, pixels);
    let best = out
        .iter()
        .enumerate()
        .fold(0, |best, (i, &p)| if p > out[best] { i } else { best });
    best as u32
}
