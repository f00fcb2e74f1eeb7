//! The bit patterns that host and microcontroller must both compute.
//!
//! Shared verbatim by the firmware (`src/golden.rs`) and the host test `tests/embedded_golden.rs`
//! of the main workspace: each side hashes the bits of a model's outputs on its fixture inputs and
//! compares with the SAME constant below, so the two are tied together bit for bit. These hashes
//! are OUR outputs, not Keras's; the comparison with Keras's numbers is a separate test on each
//! side (within the parity tolerance).
//!
//! When a kernel change legitimately changes bits (a different summation order), the host test
//! fails and prints the new hash; update it here and both sides check the new value.

/// 32-bit FNV-1a over the bit patterns of f32 values (each as its 4 little-endian bytes).
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u32);

impl Fnv {
    /// An empty hash.
    pub const fn new() -> Self {
        Self(0x811c_9dc5)
    }

    /// Adds one value's bits.
    pub fn push(&mut self, value: f32) {
        for byte in value.to_bits().to_le_bytes() {
            self.0 = (self.0 ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
    }

    /// The hash of everything pushed.
    pub const fn finish(self) -> u32 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// The sine model's 64 outputs on `sine_x.bin`, in order.
pub const SINE_OUTPUTS: u32 = 0x28e7_bb3e;

/// The digits MLP's 360 × 10 probabilities on `digits_test_x.bin`, in order.
pub const DIGITS_MLP_OUTPUTS: u32 = 0xbb8c_5e6a;

/// The digits CNN's 360 × 10 probabilities on `digits_test_x.bin`, in order.
pub const DIGITS_CNN_OUTPUTS: u32 = 0x1d31_4a15;

/// The sensor model's 48 × 3 probabilities on `sensor_x.bin`, in order.
pub const SENSOR_OUTPUTS: u32 = 0xe625_d7ce;

/// The streaming model's 6 × 3 outputs, chunk by chunk with carried state.
pub const STREAM_OUTPUTS: u32 = 0xee86_8795;

/// The MLPerf Tiny keyword spotter's 4 × 12 probabilities on `kws_dscnn.x.bin`, in order.
pub const KWS_OUTPUTS: u32 = 0x829f_6e5e;

/// The trained ResNet-8's 4 × 10 probabilities on `real_resnet8.x.bin`, in order.
pub const RESNET8_OUTPUTS: u32 = 0xbfd4_03b7;

/// The visual wake words model's 2 × 2 probabilities on `vww_mobilenet.x.bin`, in order.
pub const VWW_OUTPUTS: u32 = 0xa94d_1049;

/// The trained autoencoder's 4 × 640 outputs on `real_ad01.x.bin`, in order.
pub const AD01_OUTPUTS: u32 = 0x6949_9cc4;
