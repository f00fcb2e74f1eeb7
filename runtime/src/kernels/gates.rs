//! The rest of an LSTM or GRU step after its products (gates, state update, bias) fused into
//! one SIMD pass, written once over [`Vector`].
//!
//! Blocks of 4 vectors, each phase over the whole block: 4 independent chains of activations in
//! flight rather than one (the gates' latency, not their count, bounds a step). Every access is
//! masked to the units left; a vector wholly past the end has an empty mask, and its offset is
//! clamped to the slice's end, so no pointer is formed past one-past-the-end.

use super::math::{sigmoid, tanh};
use super::vector::{Kernel, Vector};

/// The `LANES` values of `v` from `at` whose lanes `mk` covers (the others zero); with `FULL`,
/// all `LANES` values (a plain load: `mk` covers them all).
///
/// # Safety
/// `mk` covers only lanes inside `v` from `at` (none when `at ≥ v.len()`); with `FULL`, `v`
/// holds `LANES` values from `at`.
#[inline(always)]
unsafe fn load<V: Vector, const FULL: bool>(t: V::Token, v: &[f32], at: usize, mk: V::Mask) -> V {
    // SAFETY: with `FULL`, `at + LANES ≤ v.len()` (the caller's promise); otherwise the offset
    // is at most `v.len()` (one past the end at most), and the lanes read from it are inside `v`
    // (the caller's promise).
    unsafe {
        if FULL {
            V::load(t, v.as_ptr().add(at))
        } else {
            V::load_masked(t, v.as_ptr().add(at.min(v.len())), mk)
        }
    }
}

/// [`load`] of `v` plus that of `w` when given (`w` as long as `v`).
///
/// # Safety
/// As [`load`], for `v` and `w`.
#[inline(always)]
unsafe fn load_sum<V: Vector, const FULL: bool>(
    t: V::Token,
    v: &[f32],
    w: Option<&[f32]>,
    at: usize,
    mk: V::Mask,
) -> V {
    // SAFETY: the caller's promise, for both slices.
    unsafe {
        let s = load::<V, FULL>(t, v, at, mk);
        match w {
            Some(w) => V::add(s, load::<V, FULL>(t, w, at, mk)),
            None => s,
        }
    }
}

/// Writes the lanes `mk` covers to `v` from `at` (all `LANES` with `FULL`).
///
/// # Safety
/// As [`load`].
#[inline(always)]
unsafe fn store<V: Vector, const FULL: bool>(v: &mut [f32], at: usize, mk: V::Mask, x: V) {
    // SAFETY: as `load`: with `FULL` the `LANES` values from `at` are inside `v`; otherwise the
    // offset is at most one past the end, the lanes written inside `v`.
    unsafe {
        if FULL {
            V::store(v.as_mut_ptr().add(at), x)
        } else {
            V::store_masked(v.as_mut_ptr().add(at.min(v.len())), mk, x)
        }
    }
}

/// An LSTM step with sigmoid gates and tanh activations: the sums of the gates i, f, c, o
/// (`units = c.len()` values each) are `z`, plus `xw` and `bias` when given; `c` and `h` are
/// updated.
pub(crate) struct LstmGates<'a> {
    pub z: &'a [f32],
    pub xw: Option<&'a [f32]>,
    pub bias: Option<&'a [f32]>,
    pub c: &'a mut [f32],
    pub h: &'a mut [f32],
}

impl Kernel for LstmGates<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let LstmGates { z, xw, bias, c, h } = self;
        let units = c.len();
        // The lengths that keep every masked access inside its slice: the vector at unit `j`
        // of gate `g` reads `g·units + j ..` for the `min(units − j, LANES)` lanes of its mask.
        assert!(z.len() == 4 * units && h.len() == units);
        assert!(
            xw.is_none_or(|v| v.len() == 4 * units) && bias.is_none_or(|v| v.len() == 4 * units)
        );
        let l = V::LANES;
        let mut state = LstmGates { z, xw, bias, c, h };
        // Blocks of 4 full vectors with plain loads and stores (masked ones, on NEON a branch
        // on the lane count each, cost more than the gates), then the units left masked.
        let mut j = 0;
        while j + 4 * l <= units {
            // SAFETY: units `j..j + 4·l ≤ units`.
            unsafe { state.block::<V, true>(t, j) };
            j += 4 * l;
        }
        if j < units {
            // SAFETY: `j < units`.
            unsafe { state.block::<V, false>(t, j) };
        }
    }
}

impl LstmGates<'_> {
    /// Units `j..j + 4·LANES` (those below `units` when not `FULL`).
    ///
    /// # Safety
    /// The lengths were checked as in [`LstmGates::run`]; `j < units`, and with `FULL`
    /// `j + 4·LANES ≤ units`.
    #[inline(always)]
    unsafe fn block<V: Vector, const FULL: bool>(&mut self, t: V::Token, j: usize) {
        let LstmGates { z, xw, bias, c, h } = self;
        let (z, xw, bias) = (*z, *xw, *bias);
        let units = c.len();
        let l = V::LANES;
        let mut o = [V::zero(t); 4];
        let mut c_new = [V::zero(t); 4];
        for b in 0..4 {
            let jb = j + l * b;
            let mk = V::mask(t, units.saturating_sub(jb).min(l));
            // `mk` covers the lanes of units `jb..units` at most (all `LANES` with `FULL`):
            // inside every slice at gate offset `g·units + jb` (the lengths checked by `run`).
            let sum = |g: usize| {
                let at = g * units + jb;
                // SAFETY: `mk` covers only lanes inside `z` and `xw` from `at` (above).
                let v = unsafe { load_sum::<V, FULL>(t, z, xw, at, mk) };
                match bias {
                    // SAFETY: as for `z`.
                    Some(bias) => V::add(v, unsafe { load::<V, FULL>(t, bias, at, mk) }),
                    None => v,
                }
            };
            let i = sigmoid(t, sum(0));
            let f = sigmoid(t, sum(1));
            let g = tanh(t, sum(2));
            o[b] = sigmoid(t, sum(3));
            // SAFETY: as above, for `c`.
            let c_old = unsafe { load::<V, FULL>(t, c, jb, mk) };
            c_new[b] = V::fmadd(f, c_old, V::mul(i, g));
        }
        for b in 0..4 {
            let jb = j + l * b;
            let mk = V::mask(t, units.saturating_sub(jb).min(l));
            // SAFETY: as above, for `c` and `h` (`units` values each).
            unsafe {
                store::<V, FULL>(c, jb, mk, c_new[b]);
                store::<V, FULL>(h, jb, mk, V::mul(o[b], tanh(t, c_new[b])));
            }
        }
    }
}

/// A GRU step (`reset_after`) with sigmoid gates and a tanh candidate: `xw` holds the input
/// projections `[xz, xr, xh]`, to which `bias_in` is added when given, `rec` the recurrent
/// products `[rz, rr, rh]`, to which `bias_rec` is added when given; `h` is updated.
pub(crate) struct GruGates<'a> {
    pub xw: &'a [f32],
    pub bias_in: Option<&'a [f32]>,
    pub rec: &'a [f32],
    pub bias_rec: Option<&'a [f32]>,
    pub h: &'a mut [f32],
}

impl Kernel for GruGates<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let GruGates {
            xw,
            bias_in,
            rec,
            bias_rec,
            h,
        } = self;
        let units = h.len();
        // The lengths that keep every masked access inside its slice, as in `LstmGates`.
        assert!(xw.len() == 3 * units && rec.len() == 3 * units);
        assert!(bias_in.is_none_or(|v| v.len() == 3 * units));
        assert!(bias_rec.is_none_or(|v| v.len() == 3 * units));
        let l = V::LANES;
        let mut state = GruGates {
            xw,
            bias_in,
            rec,
            bias_rec,
            h,
        };
        // Full blocks with plain loads and stores, then the units left masked, as in
        // `LstmGates`.
        let mut j = 0;
        while j + 4 * l <= units {
            // SAFETY: units `j..j + 4·l ≤ units`.
            unsafe { state.block::<V, true>(t, j) };
            j += 4 * l;
        }
        if j < units {
            // SAFETY: `j < units`.
            unsafe { state.block::<V, false>(t, j) };
        }
    }
}

impl GruGates<'_> {
    /// Units `j..j + 4·LANES` (those below `units` when not `FULL`).
    ///
    /// # Safety
    /// The lengths were checked as in [`GruGates::run`]; `j < units`, and with `FULL`
    /// `j + 4·LANES ≤ units`.
    #[inline(always)]
    unsafe fn block<V: Vector, const FULL: bool>(&mut self, t: V::Token, j: usize) {
        let GruGates {
            xw,
            bias_in,
            rec,
            bias_rec,
            h,
        } = self;
        let (xw, bias_in, rec, bias_rec) = (*xw, *bias_in, *rec, *bias_rec);
        let units = h.len();
        let l = V::LANES;
        let mut z = [V::zero(t); 4];
        let mut pre = [V::zero(t); 4];
        for b in 0..4 {
            let jb = j + l * b;
            let mk = V::mask(t, units.saturating_sub(jb).min(l));
            let (iz, ir, ih) = (jb, units + jb, 2 * units + jb);
            // SAFETY: `mk` covers the lanes of units `jb..units` at most (all `LANES` with
            // `FULL`), inside every slice at gate offset `g·units + jb`.
            let [rz, rr, rh, xz, xr, xh] = unsafe {
                [
                    load_sum::<V, FULL>(t, rec, bias_rec, iz, mk),
                    load_sum::<V, FULL>(t, rec, bias_rec, ir, mk),
                    load_sum::<V, FULL>(t, rec, bias_rec, ih, mk),
                    load_sum::<V, FULL>(t, xw, bias_in, iz, mk),
                    load_sum::<V, FULL>(t, xw, bias_in, ir, mk),
                    load_sum::<V, FULL>(t, xw, bias_in, ih, mk),
                ]
            };
            z[b] = sigmoid(t, V::add(xz, rz));
            let r = sigmoid(t, V::add(xr, rr));
            pre[b] = V::fmadd(r, rh, xh);
        }
        for b in 0..4 {
            let jb = j + l * b;
            let mk = V::mask(t, units.saturating_sub(jb).min(l));
            let candidate = tanh(t, pre[b]);
            // z·h + (1 − z)·h̃ = h̃ + z·(h − h̃)
            // SAFETY: as above, for `h` (`units` values).
            unsafe {
                let h_old = load::<V, FULL>(t, h, jb, mk);
                let h_new = V::fmadd(z[b], V::sub(h_old, candidate), candidate);
                store::<V, FULL>(h, jb, mk, h_new);
            }
        }
    }
}
