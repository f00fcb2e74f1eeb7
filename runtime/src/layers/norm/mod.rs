//! The normalization layers: `BatchNormalization`, `LayerNormalization`, `GroupNormalization`,
//! `Normalization`, and the affine `Rescaling`.
//!
//! Each normalizes along one axis or a contiguous block of axes of a channels_last tensor, seen
//! as `(outer, C, INNER)`: `C` values along the normalized axes, `INNER` values after them (1
//! when they end with the last axis).

mod batch_norm;
mod group_norm;
mod layer_norm;
pub mod math;
mod normalization;
mod rescaling;

pub use batch_norm::BatchNorm;
pub use group_norm::GroupNorm;
pub use layer_norm::LayerNorm;
pub use normalization::Normalization;
pub use rescaling::Rescaling;

/// The Keras shape of a layer's per-axis variables (LayerNormalization's γ and β, Normalization's
/// mean and variance), as a type so that it can be a generic parameter: [`Dims0`] to [`Dims4`].
pub trait VarShape {
    /// The shape, in Keras's order.
    const SHAPE: &'static [usize];
}

/// The scalar shape `()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims0;
/// The shape `(A,)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims1<const A: usize>;
/// The shape `(A, B)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims2<const A: usize, const B: usize>;
/// The shape `(A, B, C)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims3<const A: usize, const B: usize, const C: usize>;
/// The shape `(A, B, C, D)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dims4<const A: usize, const B: usize, const C: usize, const D: usize>;

impl VarShape for Dims0 {
    const SHAPE: &'static [usize] = &[];
}
impl<const A: usize> VarShape for Dims1<A> {
    const SHAPE: &'static [usize] = &[A];
}
impl<const A: usize, const B: usize> VarShape for Dims2<A, B> {
    const SHAPE: &'static [usize] = &[A, B];
}
impl<const A: usize, const B: usize, const C: usize> VarShape for Dims3<A, B, C> {
    const SHAPE: &'static [usize] = &[A, B, C];
}
impl<const A: usize, const B: usize, const C: usize, const D: usize> VarShape
    for Dims4<A, B, C, D>
{
    const SHAPE: &'static [usize] = &[A, B, C, D];
}

/// The number of values of a shape.
const fn volume(shape: &[usize]) -> usize {
    let mut n = 1;
    let mut i = 0;
    while i < shape.len() {
        n *= shape[i];
        i += 1;
    }
    n
}

/// Whether a `Tensor<F, P>` splits into `(outer, C, INNER)` along its axes: the block of `C`
/// covers its last axis when `INNER = 1` (a multiple of `F`), otherwise `INNER` does; and
/// `C·INNER` divides its size.
const fn channel_layout_ok(f: usize, p: usize, c: usize, inner: usize) -> bool {
    let last = if inner == 1 { c } else { inner };
    c > 0 && f > 0 && last.is_multiple_of(f) && (f * p).is_multiple_of(c * inner)
}
