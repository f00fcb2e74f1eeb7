//! What a convolution may apply to its outputs in its last store, after its bias: the
//! BatchNormalization and the ReLU that follow it in a model, fused so that the activation is not
//! read and written again for each ([`Epilogue`]).

use crate::Activation;

/// The per-filter steps after a convolution's bias, in this order:
///
/// 1. `affine`: `y·a[f] + b[f]` (BatchNormalization at inference, whose
///    [`factors`](crate::BatchNorm::factors) these are), a multiply then an add, not a fused
///    multiply-add: the bits of the layer's own pass;
/// 2. `clamp`: `hi` clamps to `[0, hi]`: `y > 0 ? y : 0` (zero for NaN and ±0, as
///    [`Activation::Relu`]), then `min(·, hi)`: `hi = ∞` is Keras's `relu`, `hi = 6` its `relu6`
///    and `ReLU(max_value=6)`.
///
/// The SIMD kernels apply it in their store; elsewhere [`Epilogue::apply`] makes the same bits in
/// a pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Epilogue<'a> {
    /// `(a, b)`, one factor of each per filter.
    pub affine: Option<(&'a [f32], &'a [f32])>,
    /// The upper bound of the clamp to `[0, hi]` (`f32::INFINITY` for a ReLU).
    pub clamp: Option<f32>,
}

impl<'a> Epilogue<'a> {
    /// Nothing after the bias.
    pub const NONE: Epilogue<'static> = Epilogue {
        affine: None,
        clamp: None,
    };

    /// A ReLU alone.
    pub const RELU: Epilogue<'static> = Epilogue {
        affine: None,
        clamp: Some(f32::INFINITY),
    };

    /// Whether nothing happens after the bias.
    pub const fn is_none(&self) -> bool {
        self.affine.is_none() && self.clamp.is_none()
    }

    /// Whether the epilogue fits outputs of `channels` values per position: factors of that
    /// length, and a bound that is not below zero (nor NaN).
    pub fn fits(&self, channels: usize) -> bool {
        self.affine
            .is_none_or(|(a, b)| a.len() == channels && b.len() == channels)
            && self.clamp.is_none_or(|hi| hi >= 0.0)
    }

    /// The epilogue of the `m` filters from `from` (a block of a kernel's tile).
    #[inline(always)]
    pub(crate) fn filters(self, from: usize, m: usize) -> Epilogue<'a> {
        Epilogue {
            affine: self
                .affine
                .map(|(a, b)| (&a[from..from + m], &b[from..from + m])),
            clamp: self.clamp,
        }
    }

    /// The epilogue on one vector of sums, of the filters from `at`: `sum·a + b` (a multiply
    /// then an add, as [`Epilogue::apply`]), then `max(sum, 0)` (zero for NaN and both zeros,
    /// as `maxps`) and `min(·, hi)`.
    ///
    /// # Safety
    /// `load` reads one vector (or a masked tail of one) at the pointer it is given; the
    /// factors hold the filters it reads from `at`.
    #[cfg(simd_kernels)]
    #[inline(always)]
    pub(crate) unsafe fn vector<V: crate::kernels::vector::Vector>(
        &self,
        t: V::Token,
        sum: V,
        at: usize,
        load: impl Fn(*const f32) -> V,
    ) -> V {
        // SAFETY: the caller's promise.
        unsafe { self.load(t, at, load) }.apply(t, sum)
    }

    /// [`Epilogue::load`] for the register tile ([`crate::kernels::tile`]): the factors of one
    /// vector of filters from `at`, loaded whole, or the mask's lanes of them for a masked
    /// `tail`. Without closures: one the compiler leaves out of line is compiled without the
    /// kernel's instruction set, and its loads become calls.
    ///
    /// # Safety
    /// The factors hold the values it reads from `at`.
    #[cfg(simd_kernels)]
    #[inline(always)]
    pub(crate) unsafe fn load_lanes<V: crate::kernels::vector::Vector>(
        &self,
        t: V::Token,
        at: usize,
        tail: bool,
        mk: V::Mask,
    ) -> Loaded<V> {
        use crate::kernels::tile::lanes;
        // `match`, not `Option::map`: the compiler left such a closure out of line in the
        // convolution's kernel, where its loads became calls.
        #[allow(clippy::manual_map)]
        let affine = match self.affine {
            // SAFETY: the caller's promise.
            Some((a, b)) => unsafe {
                Some((
                    lanes::<V>(t, a.as_ptr().add(at), tail, mk),
                    lanes::<V>(t, b.as_ptr().add(at), tail, mk),
                ))
            },
            None => None,
        };
        self.loaded(t, affine)
    }

    /// The epilogue of one vector of filters from `at`, its factors loaded, for a kernel that
    /// stores many positions of the same filters ([`Loaded::apply`] is [`Epilogue::vector`]).
    ///
    /// # Safety
    /// As [`Epilogue::vector`].
    #[cfg(simd_kernels)]
    #[inline(always)]
    pub(crate) unsafe fn load<V: crate::kernels::vector::Vector>(
        &self,
        t: V::Token,
        at: usize,
        load: impl Fn(*const f32) -> V,
    ) -> Loaded<V> {
        let affine = self.affine.map(|(a, b)| {
            // SAFETY: the caller's promise.
            unsafe { (load(a.as_ptr().add(at)), load(b.as_ptr().add(at))) }
        });
        self.loaded(t, affine)
    }

    /// The epilogue with its factors `affine` loaded, for [`Epilogue::load`] and
    /// [`Epilogue::load_lanes`]: the clamp's bound in a register where it is finite.
    #[cfg(simd_kernels)]
    #[inline(always)]
    fn loaded<V: crate::kernels::vector::Vector>(
        &self,
        t: V::Token,
        affine: Option<(V, V)>,
    ) -> Loaded<V> {
        let hi = match self.clamp {
            Some(hi) if hi < f32::INFINITY => Some(V::splat(t, hi)),
            _ => None,
        };
        Loaded {
            affine,
            relu: self.clamp.is_some(),
            hi,
        }
    }

    /// The epilogue on the value of output channel `q`, as [`Epilogue::apply`] computes it.
    #[cfg(simd_kernels)]
    #[inline(always)]
    pub(crate) fn scalar(&self, mut v: f32, q: usize) -> f32 {
        if let Some((a, b)) = self.affine {
            v = v * a[q] + b[q];
        }
        match self.clamp {
            None => v,
            Some(f32::INFINITY) => relu(v),
            Some(hi) => relu(v).min(hi),
        }
    }

    /// Applies the epilogue to `values`, positions of `channels` values each (a multiple of it).
    #[inline]
    pub fn apply(&self, values: &mut [f32], channels: usize) {
        if let Some((a, b)) = self.affine {
            assert!(a.len() == channels && b.len() == channels);
            for row in values.chunks_exact_mut(channels) {
                for ((v, &a), &b) in row.iter_mut().zip(a).zip(b) {
                    *v = *v * a + b;
                }
            }
        }
        match self.clamp {
            None => {}
            Some(f32::INFINITY) => values.iter_mut().for_each(|v| *v = relu(*v)),
            Some(hi) => values.iter_mut().for_each(|v| *v = relu(*v).min(hi)),
        }
    }
}

/// What the last chunk of a convolution's reduction does before its store: add the bias (of the
/// tile's filters), then the epilogue (of the tile's filters), which fused there saves passes over
/// the output.
#[derive(Clone, Copy)]
pub(crate) struct Finish<'a> {
    pub bias: Option<&'a [f32]>,
    pub then: Epilogue<'a>,
}

/// Runs a layer with activation `activation` followed by `then` over `y` (positions of
/// `channels` values): `kernel(e, y)` computes the layer before its activation and applies `e`
/// in its store when it returns `true`. The store takes the activation and `then` when that is
/// the order the layers apply them in (a linear activation; a ReLU followed by no affine step,
/// the two clamps then being one); passes do the rest, in the layers' order.
///
/// Only the kernel's call is generic: the choice and the passes are one function each for
/// every layer (on a microcontroller each convolution layer is a type of its own, and inlining
/// them per layer cost 3–4% of a model's flash).
#[inline]
pub(crate) fn run_then(
    activation: Activation,
    then: &Epilogue<'_>,
    y: &mut [f32],
    channels: usize,
    kernel: impl FnOnce(&Epilogue<'_>, &mut [f32]) -> bool,
) {
    let (in_store, own, merged) = split(activation, then);
    let stored = kernel(&in_store, y);
    passes(activation, then, (own, merged), stored, y, channels);
}

/// What the store takes (see [`run_then`]), whether the activation is one the store can apply
/// (`own`), and whether `then` merged with it.
#[inline(never)]
fn split<'a>(activation: Activation, then: &Epilogue<'a>) -> (Epilogue<'a>, bool, bool) {
    let own = match activation {
        Activation::Linear => Some(Epilogue::NONE),
        Activation::Relu => Some(Epilogue::RELU),
        _ => None,
    };
    let merged = match own {
        Some(own) if own.clamp.is_none() || then.affine.is_none() => Some(Epilogue {
            affine: then.affine,
            clamp: then.clamp.or(own.clamp),
        }),
        _ => None,
    };
    (
        merged.or(own).unwrap_or(Epilogue::NONE),
        own.is_some(),
        merged.is_some(),
    )
}

/// The passes [`run_then`] leaves after the kernel, in the layers' order.
#[inline(never)]
fn passes(
    activation: Activation,
    then: &Epilogue<'_>,
    (own, merged): (bool, bool),
    stored: bool,
    y: &mut [f32],
    channels: usize,
) {
    if !stored {
        activation.apply(y, channels);
        if merged {
            then.apply(y, channels);
        }
    } else if !own {
        activation.apply(y, channels);
    }
    if !merged {
        then.apply(y, channels);
    }
}

/// Keras's `relu` on one value, `max(x, 0)`: zero for x ≤ 0 (both zeros) and NaN, as the SIMD
/// `max` against zero (`maxps`) computes it.
#[inline(always)]
pub(crate) fn relu(x: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// A layer whose inference pass can apply an [`Epilogue`] after its own activation, computing
/// the bits of its `forward_into` followed by the BatchNormalization and ReLU layers the
/// epilogue stands for (the generated `predict` runs such a chain as one step).
pub trait FuseEpilogue<X>: crate::Layer<X> {
    /// `forward_into(x, y)`, then `then` over `y`.
    fn forward_into_then(&self, x: &X, y: &mut Self::Output, then: &Epilogue<'_>);
}

/// An [`Epilogue`] of one vector of filters with its factors in registers ([`Epilogue::load`]).
#[cfg(simd_kernels)]
#[derive(Clone, Copy)]
pub(crate) struct Loaded<V> {
    affine: Option<(V, V)>,
    relu: bool,
    hi: Option<V>,
}

#[cfg(simd_kernels)]
impl<V: crate::kernels::vector::Vector> Loaded<V> {
    /// `sum·a + b` (a multiply then an add, as [`Epilogue::apply`]), then `max(sum, 0)` (zero
    /// for NaN and both zeros, as `maxps`) and `min(·, hi)`.
    #[inline(always)]
    pub(crate) fn apply(&self, t: V::Token, mut sum: V) -> V {
        if let Some((a, b)) = self.affine {
            sum = V::add(V::mul(sum, a), b);
        }
        if self.relu {
            sum = V::max(sum, V::zero(t));
            if let Some(hi) = self.hi {
                sum = V::min(sum, hi);
            }
        }
        sum
    }
}
