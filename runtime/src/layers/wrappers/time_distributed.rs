//! `TimeDistributed`: one layer applied to every slice of its input along axis 1.

use super::{tensors, tensors_mut};
use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::train::{Params, Train, TrainCtx, View};
use crate::{flat, flat_mut, Tensor};

/// Keras `TimeDistributed(layer)`: applies `layer` to each of the `STEPS` slices of its input
/// along axis 1 (the first axis after the batch), every slice through the same weights.
///
/// A Keras input `(STEPS, d1, …, F)` is a `Tensor<F, P>` with `P = STEPS·SLICE`: its slices are
/// `STEPS` consecutive `Tensor<F, SLICE>` (Keras `(d1, …, F)`). The layer maps each to a
/// `Tensor<G, SO>`, and the output `(STEPS, e1, …, G)` is the `Tensor<G, OUT>` holding them one
/// after the other, `OUT = STEPS·SO`. Both equalities are checked at compile time.
///
/// The slices run as one batch of the wrapped layer (`Layer::forward_batch`), so a wrapped
/// `Dense` is one matrix product over every step, as a `Dense` on the whole sequence would be.
///
/// # Shapes
/// - input: `Tensor<F, P>`, `P = STEPS·SLICE` (Keras `(STEPS, …)`)
/// - output: `Tensor<G, OUT>`, `OUT = STEPS·SO`, where
///   `L: Layer<Tensor<F, SLICE>, Output = Tensor<G, SO>>`
/// - variables: the wrapped layer's (Keras stores them under `time_distributed/layer`).
///
/// ```
/// use static_keras_runtime::{Activation, Dense, Layer, Tensor, TimeDistributed, Weights};
/// // Keras TimeDistributed(Dense(2)) on (3, 2): each of the 3 steps through one Dense.
/// let mut dense: Dense<2, 2> = Dense::new(Activation::Linear);
/// dense.load_variable(0, &mut [1.0, 0.0, 0.0, 2.0].into_iter()); // kernel (2, 2)
/// let td: TimeDistributed<_, 3, 1, 3> = TimeDistributed::new(dense);
/// let y = td.forward(&Tensor::<2, 3>::from_slice(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]));
/// assert_eq!(y.as_slice(), &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
/// ```
///
/// Sizes that do not fit do not build:
///
/// ```compile_fail
/// use static_keras_runtime::{Activation, Dense, Layer, Tensor, TimeDistributed};
/// let td: TimeDistributed<Dense<2, 2>, 3, 1, 4> = TimeDistributed::new(Dense::new(Activation::Linear));
/// let y = td.forward(&Tensor::<2, 3>::zeros()); // 3 steps of one position: OUT must be 3
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[repr(transparent)]
pub struct TimeDistributed<L, const STEPS: usize, const SLICE: usize, const OUT: usize> {
    /// The wrapped layer (Keras `layer`), shared by every step.
    pub layer: L,
}

zeroable!([L: crate::memory::Zeroable, const STEPS: usize, const SLICE: usize, const OUT: usize] TimeDistributed<L, STEPS, SLICE, OUT> => TimeDistributed { layer });

impl<L, const STEPS: usize, const SLICE: usize, const OUT: usize>
    TimeDistributed<L, STEPS, SLICE, OUT>
{
    /// Wraps `layer`; usable in `const` context.
    pub const fn new(layer: L) -> Self {
        Self { layer }
    }

    /// Slice `t` of `x` (Keras `x[:, t]`), `SLICE` positions.
    ///
    /// # Panics
    /// When `t >= STEPS`, or `x` does not hold `STEPS` slices.
    pub fn slice<const F: usize, const P: usize>(x: &Tensor<F, P>, t: usize) -> &Tensor<F, SLICE> {
        const {
            assert!(
                P == STEPS * SLICE,
                "the input is not STEPS slices of SLICE positions"
            )
        };
        &tensors(x.as_slice())[t]
    }

    /// The Keras mask of slice `t` (one flag per position of the slice).
    ///
    /// # Panics
    /// When `t >= STEPS`.
    pub fn slice_mask<const P: usize>(mask: &[bool; P], t: usize) -> &[bool; SLICE] {
        const {
            assert!(
                P == STEPS * SLICE,
                "the mask is not STEPS slices of SLICE positions"
            )
        };
        mask[t * SLICE..(t + 1) * SLICE]
            .try_into()
            .expect("SLICE flags")
    }

    /// Writes `y` as slice `t` of the output `out`.
    ///
    /// # Panics
    /// When `t >= STEPS`.
    pub fn set_slice<const G: usize, const SO: usize>(
        out: &mut Tensor<G, OUT>,
        t: usize,
        y: &Tensor<G, SO>,
    ) {
        const {
            assert!(
                OUT == STEPS * SO,
                "the output is not STEPS slices of SO positions"
            )
        };
        out.as_mut_slice()[t * G * SO..(t + 1) * G * SO].copy_from_slice(y.as_slice());
    }
}

/// The compile-time checks of the sizes (the Keras shape rule, `OUT = STEPS·SO`).
const fn check(steps: usize, slice: usize, p: usize, so: usize, out: usize) {
    assert!(slice > 0, "TimeDistributed: a slice has no position");
    assert!(
        p == steps * slice,
        "TimeDistributed: the input is not STEPS slices of SLICE positions"
    );
    assert!(
        out == steps * so,
        "TimeDistributed: OUT is not STEPS times the positions of the layer's output"
    );
}

impl<
        L,
        const F: usize,
        const P: usize,
        const G: usize,
        const SO: usize,
        const STEPS: usize,
        const SLICE: usize,
        const OUT: usize,
    > Layer<Tensor<F, P>> for TimeDistributed<L, STEPS, SLICE, OUT>
where
    L: Layer<Tensor<F, SLICE>, Output = Tensor<G, SO>>,
{
    type Output = Tensor<G, OUT>;

    fn forward(&self, x: &Tensor<F, P>) -> Tensor<G, OUT> {
        let mut y = Tensor::zeros();
        self.forward_into(x, &mut y);
        y
    }

    /// The `STEPS` slices as one batch of the wrapped layer, written in place.
    fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<G, OUT>) {
        const { check(STEPS, SLICE, P, SO, OUT) };
        self.layer.forward_batch(
            tensors::<F, SLICE>(x.as_slice()),
            tensors_mut::<G, SO>(y.as_mut_slice()),
        );
    }

    /// Every slice of every sample as one batch of the wrapped layer.
    fn forward_batch(&self, xs: &[Tensor<F, P>], ys: &mut [Tensor<G, OUT>]) {
        const { check(STEPS, SLICE, P, SO, OUT) };
        assert_eq!(xs.len(), ys.len(), "as many outputs as inputs");
        self.layer.forward_batch(
            tensors::<F, SLICE>(flat(xs)),
            tensors_mut::<G, SO>(flat_mut(ys)),
        );
    }
}

impl<L: Weights, const STEPS: usize, const SLICE: usize, const OUT: usize> Weights
    for TimeDistributed<L, STEPS, SLICE, OUT>
{
    fn variables(&self) -> &'static [Variable] {
        self.layer.variables()
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        self.layer.load_variable(index, values);
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        self.layer.store_variable(index, out);
    }
}

/// Training: the slices of the whole batch run as one batch of the wrapped layer (`N·STEPS`
/// samples, sample after sample), one cache per slice; the gradients of the shared weights sum
/// over the slices, as Keras's do over its steps.
///
/// Keras calls the wrapped layer once per step, on that step's slice of every sample. For a
/// layer that treats its samples independently (Dense, Dropout, Activation, Flatten, Reshape)
/// this is the same; a layer whose training statistics span its batch
/// ([`Train::BATCH_STATISTICS`]: BatchNormalization) runs one step at a time here too, with
/// that step's statistics, and updates its moving statistics once per step, in step order, as
/// Keras's `TimeDistributed(BatchNormalization())` does.
impl<
        L,
        const F: usize,
        const P: usize,
        const G: usize,
        const SO: usize,
        const STEPS: usize,
        const SLICE: usize,
        const OUT: usize,
    > Train<Tensor<F, P>> for TimeDistributed<L, STEPS, SLICE, OUT>
where
    L: Train<Tensor<F, SLICE>, Output = Tensor<G, SO>>,
{
    type Cache = [L::Cache; STEPS];

    fn forward_train(
        &self,
        x: &Tensor<F, P>,
        y: &mut Tensor<G, OUT>,
        cache: &mut Self::Cache,
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_batch(
            core::slice::from_ref(x),
            core::slice::from_mut(y),
            core::slice::from_mut(cache),
            ctx,
        );
    }

    fn backward(
        &self,
        x: &Tensor<F, P>,
        y: &Tensor<G, OUT>,
        cache: &mut Self::Cache,
        dy: &Tensor<G, OUT>,
        dx: Option<&mut Tensor<F, P>>,
        grads: Option<&mut Self>,
    ) {
        self.backward_batch(
            core::slice::from_ref(x),
            core::slice::from_ref(y),
            core::slice::from_mut(cache),
            core::slice::from_ref(dy),
            dx.map(core::slice::from_mut),
            grads,
        );
    }

    fn forward_train_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<G, OUT>],
        caches: &mut [Self::Cache],
        ctx: &mut TrainCtx,
    ) {
        self.forward_train_strided(xs, ys, caches, (0, 1), ctx);
    }

    fn backward_batch(
        &self,
        xs: &[Tensor<F, P>],
        ys: &[Tensor<G, OUT>],
        caches: &mut [Self::Cache],
        dys: &[Tensor<G, OUT>],
        dxs: Option<&mut [Tensor<F, P>]>,
        grads: Option<&mut Self>,
    ) {
        self.backward_strided(xs, ys, caches, dys, dxs, grads, (0, 1));
    }

    const BATCH_STATISTICS: bool = L::BATCH_STATISTICS;

    /// The selected samples' slices: all of them as one batch of the wrapped layer, or, for a
    /// layer with batch statistics (or a selection), one step at a time (slice `t` of sample
    /// `s` is slice `s·STEPS + t` of the flattened batch).
    fn forward_train_strided(
        &self,
        xs: &[Tensor<F, P>],
        ys: &mut [Tensor<G, OUT>],
        caches: &mut [Self::Cache],
        (start, stride): (usize, usize),
        ctx: &mut TrainCtx,
    ) {
        const { check(STEPS, SLICE, P, SO, OUT) };
        let (xs, ys, caches) = (
            tensors::<F, SLICE>(flat(xs)),
            tensors_mut::<G, SO>(flat_mut(ys)),
            caches.as_flattened_mut(),
        );
        if !L::BATCH_STATISTICS && (start, stride) == (0, 1) {
            self.layer.forward_train_batch(xs, ys, caches, ctx);
            return;
        }
        for t in 0..STEPS {
            self.layer.forward_train_strided(
                xs,
                ys,
                caches,
                (start * STEPS + t, stride * STEPS),
                ctx,
            );
        }
    }

    fn backward_strided(
        &self,
        xs: &[Tensor<F, P>],
        ys: &[Tensor<G, OUT>],
        caches: &mut [Self::Cache],
        dys: &[Tensor<G, OUT>],
        dxs: Option<&mut [Tensor<F, P>]>,
        mut grads: Option<&mut Self>,
        (start, stride): (usize, usize),
    ) {
        const { check(STEPS, SLICE, P, SO, OUT) };
        let (xs, ys, caches, dys) = (
            tensors::<F, SLICE>(flat(xs)),
            tensors::<G, SO>(flat(ys)),
            caches.as_flattened_mut(),
            tensors::<G, SO>(flat(dys)),
        );
        let mut dxs = dxs.map(|d| tensors_mut::<F, SLICE>(flat_mut(d)));
        if !L::BATCH_STATISTICS && (start, stride) == (0, 1) {
            self.layer
                .backward_batch(xs, ys, caches, dys, dxs, grads.map(|g| &mut g.layer));
            return;
        }
        for t in 0..STEPS {
            self.layer.backward_strided(
                xs,
                ys,
                caches,
                dys,
                dxs.as_deref_mut(),
                grads.as_deref_mut().map(|g| &mut g.layer),
                (start * STEPS + t, stride * STEPS),
            );
        }
    }

    /// A layer with batch statistics updates its state once per step, in step order, from that
    /// step's statistics (the first sample's cache of the step holds them).
    fn update_state(&mut self, caches: &[Self::Cache]) {
        if !L::BATCH_STATISTICS {
            self.layer.update_state(caches.as_flattened());
            return;
        }
        let flat = caches.as_flattened();
        for t in 0..STEPS.min(flat.len()) {
            self.layer.update_state(&flat[t..=t]);
        }
    }
}

impl<L: Params, const STEPS: usize, const SLICE: usize, const OUT: usize> Params
    for TimeDistributed<L, STEPS, SLICE, OUT>
{
    fn trainable_count(&self) -> usize {
        self.layer.trainable_count()
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        self.layer.trainable_mut(f);
    }

    /// The wrapped layer's derived values follow its variables (BatchNormalization's fused
    /// inference factors).
    fn after_update(&mut self) {
        self.layer.after_update();
    }
}

// SAFETY: `#[repr(transparent)]` over `L`, which has the layout of `L::Of`.
unsafe impl<L: View, const STEPS: usize, const SLICE: usize, const OUT: usize> View
    for TimeDistributed<L, STEPS, SLICE, OUT>
{
    type Of = TimeDistributed<L::Of, STEPS, SLICE, OUT>;
}

/// The training view of a wrapper whose layer trains as a [`View`] (a fused `glu`:
/// `TimeDistributed(Dense(8, activation="glu"))` trains as `TimeDistributed<ThenGlu<Dense>>`).
impl<L: View, const STEPS: usize, const SLICE: usize, const OUT: usize>
    TimeDistributed<L, STEPS, SLICE, OUT>
{
    /// Views the model's wrapper (of the layer's own type) as this one.
    pub fn from_ref(layer: &<Self as View>::Of) -> &Self {
        // SAFETY: `Self: View` (same layout, every value valid); the lifetime is `layer`'s.
        unsafe { &*(layer as *const <Self as View>::Of).cast::<Self>() }
    }

    /// [`TimeDistributed::from_ref`], mutably (the layer's gradients).
    pub fn from_mut(layer: &mut <Self as View>::Of) -> &mut Self {
        // SAFETY: as in `from_ref`; the borrow is exclusive for the new reference's lifetime.
        unsafe { &mut *(layer as *mut <Self as View>::Of).cast::<Self>() }
    }
}

/// Keras's initializers of the wrapped layer (one set of weights, shared by every step).
impl<L, const STEPS: usize, const SLICE: usize, const OUT: usize> crate::train::Init
    for TimeDistributed<L, STEPS, SLICE, OUT>
where
    L: crate::train::Init,
    Self: Weights,
{
    fn init_with(
        &mut self,
        rng: &mut crate::train::Rng,
        overrides: &[(&str, crate::train::init::Initializer)],
    ) {
        self.layer.init_with(rng, overrides);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{Axis, Valid};
    use crate::{Activation, Conv1d, Dense, Flatten, MaxPool1d};

    fn dense() -> Dense<3, 2> {
        let mut d = Dense::new(Activation::Tanh);
        d.load_variable(0, &mut [0.5, -1.0, 0.25, 2.0, -0.75, 0.1].into_iter());
        d.load_variable(1, &mut [0.2, -0.3].into_iter());
        d
    }

    #[test]
    fn each_step_goes_through_the_same_layer() {
        // (4, 3) → (4, 2): the same as Dense on the whole sequence.
        let x = Tensor::<3, 4>::from_slice(&core::array::from_fn::<f32, 12, _>(|i| {
            (i as f32 - 5.0) * 0.3
        }));
        let td: TimeDistributed<_, 4, 1, 4> = TimeDistributed::new(dense());
        let y = td.forward(&x);
        assert_eq!(y, dense().forward(&x));
        for t in 0..4 {
            let step = TimeDistributed::<Dense<3, 2>, 4, 1, 4>::slice(&x, t);
            let yt: Tensor<2, 1> = dense().forward(step);
            assert_eq!(&y.as_slice()[2 * t..2 * t + 2], yt.as_slice());
        }
        assert_eq!(td.param_count(), 8);
    }

    #[test]
    fn slices_of_several_positions() {
        // (2, 5, 1) → Conv1D(1, 2) per step → (2, 4, 1) → MaxPooling1D(2) → (2, 2, 1) → Flatten.
        let mut conv: Conv1d<1, 1, 1, Axis<5, 2, 1, 1, Valid>, 2, 4> =
            Conv1d::new(Activation::Linear);
        conv.load_variable(0, &mut [1.0, -1.0].into_iter());
        conv.load_variable(1, &mut [0.5].into_iter());
        let x = Tensor::<1, 10>::from_slice(&[
            1.0, 3.0, 2.0, 7.0, 4.0, //
            0.0, -1.0, -3.0, 2.0, 2.0,
        ]);
        let td: TimeDistributed<_, 2, 5, 8> = TimeDistributed::new(conv);
        let y = td.forward(&x);
        // x[t] - x[t+1] + 0.5
        assert_eq!(y.as_slice(), &[-1.5, 1.5, -4.5, 3.5, 1.5, 2.5, -4.5, 0.5]);
        let pool: TimeDistributed<MaxPool1d<1, Axis<4, 2, 2, 1, Valid>, 2>, 2, 4, 4> =
            TimeDistributed::new(MaxPool1d::new());
        let pooled = pool.forward(&y);
        assert_eq!(pooled.as_slice(), &[1.5, 3.5, 2.5, 0.5]);
        let flat: TimeDistributed<Flatten<1, 2, 2>, 2, 2, 2> =
            TimeDistributed::new(Flatten::default());
        let f: Tensor<2, 2> = flat.forward(&pooled);
        assert_eq!(f.as_slice(), pooled.as_slice());
    }

    #[test]
    fn a_batch_gives_what_each_sample_gives() {
        let td: TimeDistributed<_, 2, 1, 2> = TimeDistributed::new(dense());
        let xs: [Tensor<3, 2>; 3] =
            core::array::from_fn(|s| Tensor::from_slice(&[s as f32, 1.0, -0.5, 0.25, 2.0, -1.0]));
        let mut ys = [Tensor::<2, 2>::zeros(); 3];
        td.forward_batch(&xs, &mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            assert_eq!(*y, td.forward(x));
        }
    }

    #[test]
    fn masks_and_outputs_by_slice() {
        type Td = TimeDistributed<Dense<3, 2>, 3, 2, 3>;
        let mask = [true, false, false, true, true, true];
        assert_eq!(Td::slice_mask(&mask, 1), &[false, true]);
        let mut out = Tensor::<2, 3>::zeros();
        Td::set_slice(&mut out, 2, &Tensor::<2, 1>::from_slice(&[4.0, 5.0]));
        assert_eq!(out.as_slice(), &[0.0, 0.0, 0.0, 0.0, 4.0, 5.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let td: TimeDistributed<_, 3, 1, 3> = TimeDistributed::new(dense());
        crate::train::check::gradients::<_, Tensor<3, 3>>(&td, 5);
        // Slices of two positions.
        let td: TimeDistributed<_, 2, 2, 4> = TimeDistributed::new(dense());
        crate::train::check::gradients::<_, Tensor<3, 4>>(&td, 6);
    }
}
