//! The random numbers of training (Dropout masks, noise layers, shuffling, initializers).
//!
//! Keras's JAX backend draws from threefry keys; those bits cannot be reproduced, so here the
//! generator only has to be good, seeded, fast and the same on every target: xoshiro128++
//! (Blackman & Vigna), seeded through SplitMix64.

/// A seeded xoshiro128++ generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator whose stream depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        let (a, b) = (next(), next());
        Self {
            s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32 | 1],
        }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// A uniform value in `[0, 1)` with 24 random bits.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform index in `0..n` (`n > 0`), without modulo bias worth measuring (Lemire's
    /// multiply-shift on 32 bits).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u32() as u64 * n as u64) >> 32) as usize
    }

    /// A standard normal value (Box–Muller, `libm`).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        libm::sqrtf(-2.0 * libm::logf(u1)) * libm::cosf(core::f32::consts::TAU * u2)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_uniform() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.next_u32(), b.next_u32());
        assert_ne!(Rng::new(8).next_u32(), Rng::new(7).next_u32());
        let n = 20_000;
        let mean: f32 = (0..n).map(|_| a.uniform()).sum::<f32>() / n as f32;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let var: f32 = (0..n).map(|_| a.normal().powi(2)).sum::<f32>() / n as f32;
        assert!((var - 1.0).abs() < 0.05, "{var}");
        let mut v = [0, 1, 2, 3, 4, 5, 6, 7];
        a.shuffle(&mut v);
        v.sort();
        assert_eq!(v, [0, 1, 2, 3, 4, 5, 6, 7]);
    }
}
