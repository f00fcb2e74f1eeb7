//! `Bidirectional`: a recurrent layer run forwards, a copy run backwards, the outputs merged.

use core::fmt;
use core::marker::PhantomData;

use crate::layer::{Layer, Variable, Weights};
use crate::layers::recurrent::{Gru, Lstm, LstmState, ReturnLast, ReturnSequences, SimpleRnn};
use crate::memory::zeroable;
use crate::train::{MaskedTrain, Params, Plain, Train, TrainCtx, TrainStates};
use crate::Tensor;

/// The values of a tensor, whatever its dimensions: how [`Bidirectional`] reads and writes the
/// outputs of the layers it wraps, whose sizes it does not name.
pub trait Values: Default {
    /// The values in Keras's row-major order.
    fn values(&self) -> &[f32];
    /// The values in Keras's row-major order, mutable.
    fn values_mut(&mut self) -> &mut [f32];
}

impl<const F: usize, const P: usize> Values for Tensor<F, P> {
    fn values(&self) -> &[f32] {
        self.as_slice()
    }
    fn values_mut(&mut self) -> &mut [f32] {
        self.as_mut_slice()
    }
}

/// A recurrent layer as [`Bidirectional`] runs it over `T` steps of `IN` features: Keras's
/// `SimpleRNN`, `LSTM` and `GRU` ([`SimpleRnn`], [`Lstm`], [`Gru`]), returning the last step or
/// the sequence.
pub trait Rnn<const IN: usize, const T: usize>: RnnWeights {
    /// Keras `units`.
    const UNITS: usize;
    /// How many states the layer carries (and returns with `return_state`): LSTM 2, else 1.
    const STATES: usize;
    /// What the layer carries from step to step: `Tensor<UNITS, 1>` (`h`) or [`LstmState`].
    type State: Default + Clone + fmt::Debug + PartialEq;
    /// Its output: `Tensor<UNITS, 1>` (the last step), or `Tensor<UNITS, T>` with Keras's
    /// `return_sequences`, in processing order.
    type Output: Values;
    /// `W` features at each position of the output: `Tensor<W, 1>` or `Tensor<W, T>`.
    type Rows<const W: usize>: Values;

    /// Keras `layer(x, mask=mask, initial_state=state)`, leaving the final state in `state`.
    fn forward_with(
        &self,
        x: &Tensor<IN, T>,
        mask: Option<&[bool; T]>,
        state: &mut Self::State,
    ) -> Self::Output;
}

/// The variables a recurrent layer may have, known at compile time (a [`Bidirectional`] lists
/// both of its layers' as its own).
pub trait RnnWeights: Weights {
    /// The variable lists of the layer's possible layouts (GRU: `reset_after`, then without;
    /// the others have one), each as [`Weights::variables`] gives it.
    const LAYOUTS: [&'static [Variable]; 2];

    /// Which of [`RnnWeights::LAYOUTS`] this layer has.
    fn layout(&self) -> usize {
        0
    }
}

/// `kernel`, `recurrent_kernel` and `bias` of the given shapes.
const fn variables(
    kernel: &'static [usize],
    recurrent: &'static [usize],
    bias: &'static [usize],
) -> [Variable; 3] {
    [
        Variable {
            name: "kernel",
            shape: kernel,
        },
        Variable {
            name: "recurrent_kernel",
            shape: recurrent,
        },
        Variable {
            name: "bias",
            shape: bias,
        },
    ]
}

/// The first two variables, or all three when `bias`.
const fn cut(all: &'static [Variable; 3], bias: bool) -> &'static [Variable] {
    all.split_at(if bias { 3 } else { 2 }).0
}

macro_rules! rnn {
    ($ty:ident, $state:ty, $states:literal, $($layer:tt)*) => {
        impl<const IN: usize, const U: usize, const BIAS: bool, const T: usize> Rnn<IN, T>
            for $ty<IN, U, ReturnLast, BIAS>
        {
            const UNITS: usize = U;
            const STATES: usize = $states;
            type State = $state;
            type Output = Tensor<U, 1>;
            type Rows<const W: usize> = Tensor<W, 1>;

            fn forward_with(
                &self,
                x: &Tensor<IN, T>,
                mask: Option<&[bool; T]>,
                state: &mut $state,
            ) -> Tensor<U, 1> {
                $ty::forward_with(self, x, mask, state)
            }
        }

        impl<const IN: usize, const U: usize, const BIAS: bool, const T: usize> Rnn<IN, T>
            for $ty<IN, U, ReturnSequences, BIAS>
        {
            const UNITS: usize = U;
            const STATES: usize = $states;
            type State = $state;
            type Output = Tensor<U, T>;
            type Rows<const W: usize> = Tensor<W, T>;

            fn forward_with(
                &self,
                x: &Tensor<IN, T>,
                mask: Option<&[bool; T]>,
                state: &mut $state,
            ) -> Tensor<U, T> {
                $ty::forward_with(self, x, mask, state)
            }
        }

        impl<const IN: usize, const U: usize, R, const BIAS: bool> RnnWeights
            for $ty<IN, U, R, BIAS>
        {
            $($layer)*
        }
    };
}

impl<const IN: usize, const U: usize, R, const BIAS: bool> SimpleRnn<IN, U, R, BIAS> {
    const VARIABLES: &'static [Variable; 3] = &variables(&[IN, U], &[U, U], &[U]);
}
impl<const IN: usize, const U: usize, R, const BIAS: bool> Lstm<IN, U, R, BIAS> {
    const VARIABLES: &'static [Variable; 3] = &variables(&[IN, 4 * U], &[U, 4 * U], &[4 * U]);
}
impl<const IN: usize, const U: usize, R, const BIAS: bool> Gru<IN, U, R, BIAS> {
    const AFTER: &'static [Variable; 3] = &variables(&[IN, 3 * U], &[U, 3 * U], &[2, 3 * U]);
    const BEFORE: &'static [Variable; 3] = &variables(&[IN, 3 * U], &[U, 3 * U], &[3 * U]);
}

rnn!(SimpleRnn, Tensor<U, 1>, 1,
    const LAYOUTS: [&'static [Variable]; 2] = [cut(Self::VARIABLES, BIAS), cut(Self::VARIABLES, BIAS)];
);
rnn!(
    Lstm,
    LstmState<U>,
    2,
    const LAYOUTS: [&'static [Variable]; 2] =
        [cut(Self::VARIABLES, BIAS), cut(Self::VARIABLES, BIAS)];
);
rnn!(Gru, Tensor<U, 1>, 1,
    const LAYOUTS: [&'static [Variable]; 2] = [cut(Self::AFTER, BIAS), cut(Self::BEFORE, BIAS)];
    fn layout(&self) -> usize {
        usize::from(!self.reset_after)
    }
);

/// Keras `merge_mode="concat"`: the forward output, then the backward one, on the last axis
/// (`OUT` features = the two layers' units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Concat<const OUT: usize>;

/// Keras `merge_mode="sum"`: the sum of the two outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sum;

/// Keras `merge_mode="mul"`: the product of the two outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mul;

/// Keras `merge_mode="ave"`: the mean of the two outputs, `(f + b) / 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ave;

/// Keras `merge_mode=None`: the two outputs, not merged (`(forward, backward)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Separate;

/// How [`Bidirectional`] combines its two outputs. The backward output is in time order when it
/// reaches [`MergeMode::merge`] (Keras flips it back before merging).
pub trait MergeMode<F, B, const IN: usize, const T: usize>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    /// The layer's output.
    type Output;

    /// Combines the forward output `y` and the time-ordered backward output `y_rev`.
    fn merge(y: F::Output, y_rev: B::Output) -> Self::Output;
}

/// Reverses the rows (time steps) of `y` of `units` features each, in place.
fn reverse_rows(y: &mut [f32], units: usize) {
    let rows = y.len() / units.max(1);
    for i in 0..rows / 2 {
        let (head, tail) = y.split_at_mut((rows - 1 - i) * units);
        head[i * units..(i + 1) * units].swap_with_slice(&mut tail[..units]);
    }
}

impl<F, B, const IN: usize, const T: usize, const OUT: usize> MergeMode<F, B, IN, T> for Concat<OUT>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    type Output = F::Rows<OUT>;

    fn merge(y: F::Output, y_rev: B::Output) -> F::Rows<OUT> {
        const {
            assert!(
                OUT == F::UNITS + B::UNITS,
                "Bidirectional Concat: OUT is not the two layers' units"
            )
        };
        let (uf, ub) = (F::UNITS, B::UNITS);
        let (y, y_rev) = (y.values(), y_rev.values());
        let n = y.len() / uf.max(1);
        let mut out = F::Rows::<OUT>::default();
        for (i, row) in out.values_mut().chunks_exact_mut(OUT).enumerate() {
            let j = n - 1 - i;
            row[..uf].copy_from_slice(&y[i * uf..(i + 1) * uf]);
            row[uf..].copy_from_slice(&y_rev[j * ub..(j + 1) * ub]);
        }
        out
    }
}

macro_rules! elementwise_mode {
    ($mode:ident, |$a:ident, $b:ident| $e:expr) => {
        impl<F, B, const IN: usize, const T: usize> MergeMode<F, B, IN, T> for $mode
        where
            F: Rnn<IN, T>,
            B: Rnn<IN, T, Output = F::Output>,
        {
            type Output = F::Output;

            fn merge(y: F::Output, y_rev: F::Output) -> F::Output {
                elementwise_rows(y, y_rev, F::UNITS, |$a, $b| $e)
            }
        }
    };
}

/// `y[i] ∘ y_rev[n − 1 − i]` for every row `i` of `units` values, into `y`.
fn elementwise_rows<V: Values>(mut y: V, y_rev: V, units: usize, f: impl Fn(f32, f32) -> f32) -> V {
    let b = y_rev.values();
    let a = y.values_mut();
    let n = a.len() / units.max(1);
    for i in 0..n {
        let j = n - 1 - i;
        for (p, q) in a[i * units..(i + 1) * units]
            .iter_mut()
            .zip(&b[j * units..(j + 1) * units])
        {
            *p = f(*p, *q);
        }
    }
    y
}

elementwise_mode!(Sum, |a, b| a + b);
elementwise_mode!(Mul, |a, b| a * b);
elementwise_mode!(Ave, |a, b| (a + b) / 2.0);

impl<F, B, const IN: usize, const T: usize> MergeMode<F, B, IN, T> for Separate
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    type Output = (F::Output, B::Output);

    fn merge(y: F::Output, mut y_rev: B::Output) -> (F::Output, B::Output) {
        reverse_rows(y_rev.values_mut(), B::UNITS);
        (y, y_rev)
    }
}

/// Keras `Bidirectional(layer, merge_mode="concat", backward_layer=None)`: the recurrent layer
/// `forward_layer` reads the sequence, `backward_layer` (Keras: a copy of it with
/// `go_backwards=True`) reads it from the end, and `M` merges the two outputs ([`Concat`],
/// [`Sum`], [`Mul`], [`Ave`], or [`Separate`] for `merge_mode=None`).
///
/// With `return_sequences` the backward layer's outputs come in processing order (its first
/// output read the last step); Keras flips them back, so that step `t` of the output merges the
/// forward and backward outputs at time `t`, and so does this layer. Without it the two last
/// outputs are merged. A mask reaches both layers unchanged (indexed by time, the backward layer
/// included).
///
/// Keras sets both layers' `zero_output_for_mask` to `return_sequences` (masked steps of a
/// returned sequence are zeros); `keras_model!` builds the layers so, and so should hand-written
/// code (`with_zero_output_for_mask`).
///
/// # Shapes
/// - input: `Tensor<IN, T>` (Keras `(T, IN)`)
/// - output: `Concat<OUT>`: `Tensor<OUT, 1>` (or `Tensor<OUT, T>` with `return_sequences`),
///   `OUT` the two layers' units (checked at compile time); `Sum`, `Mul`, `Ave`: the forward
///   layer's output type (both layers must have it); `Separate`: both outputs, as a tuple
/// - variables: the forward layer's (kernel, recurrent kernel, bias), then the backward layer's.
///
/// ```
/// use static_keras_runtime::wrappers::Concat;
/// use static_keras_runtime::{
///     Activation, Bidirectional, Layer, ReturnLast, SimpleRnn, Tensor, Weights,
/// };
/// // Keras Bidirectional(SimpleRNN(1, activation=None, use_bias=False)): h_t = x_t + h_{t−1}.
/// let mut rnn: SimpleRnn<1, 1, ReturnLast, false> = SimpleRnn::new(Activation::Linear);
/// rnn.load_variable(0, &mut [1.0].into_iter());
/// rnn.load_variable(1, &mut [1.0].into_iter());
/// let back = rnn.clone().with_go_backwards(true);
/// let bi: Bidirectional<_, _, Concat<2>> = Bidirectional::new(rnn, back);
/// let y: Tensor<2, 1> = bi.forward(&Tensor::<1, 3>::from_slice(&[1.0, 2.0, 4.0]));
/// assert_eq!(y.as_slice(), &[7.0, 7.0]); // both read every step
/// assert_eq!(bi.variables().len(), 4); // kernel, recurrent_kernel of each
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bidirectional<F, B, M> {
    /// The layer reading the sequence in order (Keras `forward_layer`).
    pub forward_layer: F,
    /// The layer reading it from the end (Keras `backward_layer`).
    pub backward_layer: B,
    mode: PhantomData<M>,
}

zeroable!([F: crate::memory::Zeroable, B: crate::memory::Zeroable, M] Bidirectional<F, B, M> => Bidirectional { forward_layer, backward_layer, mode });

impl<F, B, M> Bidirectional<F, B, M> {
    /// The two layers, as given: Keras's backward layer is the forward one with
    /// `go_backwards = true`.
    pub const fn new(forward_layer: F, backward_layer: B) -> Self {
        Self {
            forward_layer,
            backward_layer,
            mode: PhantomData,
        }
    }

    /// Keras `layer(x, mask=mask, initial_state=[…forward states, …backward states])`: runs
    /// both layers from their states, leaving their final states there, and merges.
    pub fn forward_with<const IN: usize, const T: usize>(
        &self,
        x: &Tensor<IN, T>,
        mask: Option<&[bool; T]>,
        forward_state: &mut F::State,
        backward_state: &mut B::State,
    ) -> M::Output
    where
        F: Rnn<IN, T>,
        B: Rnn<IN, T>,
        M: MergeMode<F, B, IN, T>,
    {
        let y = self.forward_layer.forward_with(x, mask, forward_state);
        let y_rev = self.backward_layer.forward_with(x, mask, backward_state);
        M::merge(y, y_rev)
    }
}

impl<F: Default, B: Default, M> Default for Bidirectional<F, B, M> {
    fn default() -> Self {
        Self::new(F::default(), B::default())
    }
}

impl<F, B, M, const IN: usize, const T: usize> Layer<Tensor<IN, T>> for Bidirectional<F, B, M>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
    M: MergeMode<F, B, IN, T>,
{
    type Output = M::Output;

    fn forward(&self, x: &Tensor<IN, T>) -> M::Output {
        self.forward_with(x, None, &mut F::State::default(), &mut B::State::default())
    }
}

/// The most variables one wrapped layer has.
const MAX_VARIABLES: usize = 3;

const NO_VARIABLE: Variable = Variable {
    name: "",
    shape: &[],
};

/// `a` then `b`, in an array padded after `a.len() + b.len()` values.
const fn join(a: &[Variable], b: &[Variable]) -> [Variable; 2 * MAX_VARIABLES] {
    assert!(a.len() <= MAX_VARIABLES && b.len() <= MAX_VARIABLES);
    let mut out = [NO_VARIABLE; 2 * MAX_VARIABLES];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[a.len() + j] = b[j];
        j += 1;
    }
    out
}

impl<F: RnnWeights, B: RnnWeights, M> Bidirectional<F, B, M> {
    /// Both layers' variables for each pair of their layouts (`[forward][backward]`).
    const JOINED: &'static [[[Variable; 2 * MAX_VARIABLES]; 2]; 2] = &[
        [
            join(F::LAYOUTS[0], B::LAYOUTS[0]),
            join(F::LAYOUTS[0], B::LAYOUTS[1]),
        ],
        [
            join(F::LAYOUTS[1], B::LAYOUTS[0]),
            join(F::LAYOUTS[1], B::LAYOUTS[1]),
        ],
    ];

    /// How many variables the forward layer has.
    fn forward_count(&self) -> usize {
        F::LAYOUTS[self.forward_layer.layout()].len()
    }
}

impl<F: RnnWeights, B: RnnWeights, M> Weights for Bidirectional<F, B, M> {
    fn variables(&self) -> &'static [Variable] {
        let (f, b) = (self.forward_layer.layout(), self.backward_layer.layout());
        let joined: &'static [Variable; 2 * MAX_VARIABLES] = &Self::JOINED[f][b];
        &joined[..F::LAYOUTS[f].len() + B::LAYOUTS[b].len()]
    }

    fn load_variable(&mut self, index: usize, values: &mut dyn Iterator<Item = f32>) {
        match index.checked_sub(self.forward_count()) {
            None => self.forward_layer.load_variable(index, values),
            Some(i) => self.backward_layer.load_variable(i, values),
        }
    }

    fn store_variable(&self, index: usize, out: &mut dyn FnMut(f32)) {
        match index.checked_sub(self.forward_count()) {
            None => self.forward_layer.store_variable(index, out),
            Some(i) => self.backward_layer.store_variable(i, out),
        }
    }
}

/// How [`Bidirectional`]'s training path sends the gradient of the merged output back to the two
/// layers' outputs (the backward one in its processing order, as [`MergeMode::merge`] takes it).
pub trait TrainMerge<F, B, const IN: usize, const T: usize>: MergeMode<F, B, IN, T>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    /// Given `dy = ∂loss/∂(merged output)` and the two outputs the forward pass merged, writes
    /// `∂loss/∂y` into `dy_f` and `∂loss/∂y_rev` into `dy_b`.
    fn split(
        dy: &Self::Output,
        y: &F::Output,
        y_rev: &B::Output,
        dy_f: &mut F::Output,
        dy_b: &mut B::Output,
    );
}

/// Concat: each layer gets its own half of every row.
impl<F, B, const IN: usize, const T: usize, const OUT: usize> TrainMerge<F, B, IN, T>
    for Concat<OUT>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    fn split(
        dy: &F::Rows<OUT>,
        _y: &F::Output,
        _y_rev: &B::Output,
        dy_f: &mut F::Output,
        dy_b: &mut B::Output,
    ) {
        let (uf, ub) = (F::UNITS, B::UNITS);
        let (df, db) = (dy_f.values_mut(), dy_b.values_mut());
        let n = df.len() / uf.max(1);
        for (i, row) in dy.values().chunks_exact(OUT).enumerate() {
            let j = n - 1 - i;
            df[i * uf..(i + 1) * uf].copy_from_slice(&row[..uf]);
            db[j * ub..(j + 1) * ub].copy_from_slice(&row[uf..]);
        }
    }
}

/// `dy_f[i] = g(dy[i], y_rev[n − 1 − i])`, `dy_b[n − 1 − i] = g(dy[i], y[i])` for every row `i`
/// of `units` values: the element-wise modes' gradients, with the backward rows re-reversed.
fn split_rows<V: Values>(
    dy: &V,
    y: &V,
    y_rev: &V,
    dy_f: &mut V,
    dy_b: &mut V,
    units: usize,
    g: impl Fn(f32, f32) -> f32,
) {
    let (dy, y, y_rev) = (dy.values(), y.values(), y_rev.values());
    let (df, db) = (dy_f.values_mut(), dy_b.values_mut());
    let n = dy.len() / units.max(1);
    for i in 0..n {
        let j = n - 1 - i;
        for u in 0..units {
            let d = dy[i * units + u];
            df[i * units + u] = g(d, y_rev[j * units + u]);
            db[j * units + u] = g(d, y[i * units + u]);
        }
    }
}

macro_rules! train_elementwise_mode {
    ($mode:ident, |$d:ident, $other:ident| $e:expr) => {
        impl<F, B, const IN: usize, const T: usize> TrainMerge<F, B, IN, T> for $mode
        where
            F: Rnn<IN, T>,
            B: Rnn<IN, T, Output = F::Output>,
        {
            fn split(
                dy: &F::Output,
                y: &F::Output,
                y_rev: &F::Output,
                dy_f: &mut F::Output,
                dy_b: &mut F::Output,
            ) {
                split_rows(dy, y, y_rev, dy_f, dy_b, F::UNITS, |$d, $other| $e);
            }
        }
    };
}

train_elementwise_mode!(Sum, |d, _other| d);
train_elementwise_mode!(Mul, |d, other| d * other);
train_elementwise_mode!(Ave, |d, _other| d * 0.5);

/// What [`Bidirectional`]'s training forward pass keeps for one sample: each layer's cache and
/// output (the backward layer's in its processing order), which the product of `Mul` needs.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BidirectionalCache<CF, CB, YF, YB> {
    forward: CF,
    backward: CB,
    y: YF,
    y_rev: YB,
}

// SAFETY: `#[repr(C)]` over plain fields (sizes multiples of 4 — every `Plain` type here is made
// of f32-sized words — alignments at most 4): no padding, every bit pattern valid.
unsafe impl<CF: Plain, CB: Plain, YF: Plain, YB: Plain> Plain
    for BidirectionalCache<CF, CB, YF, YB>
{
}

/// A zero value of a plain type.
fn zeroed<P: Plain>() -> P {
    // SAFETY: every bit pattern of a `Plain` type is valid, all-zero included.
    unsafe { core::mem::zeroed() }
}

/// Training runs the two layers' own training paths (backpropagation through time, dropout;
/// the backward layer reads the sequence from the end, as at inference), one sample at a time,
/// and merges; backward splits the output's gradient by the merge mode and runs both layers'
/// backward passes, adding both input gradients into `dx`. `merge_mode=None` ([`Separate`])
/// trains through [`SeparateOutputs`] (its output is a pair, not one tensor).
impl<F, B, M, const IN: usize, const T: usize> Train<Tensor<IN, T>> for Bidirectional<F, B, M>
where
    F: Rnn<IN, T> + Train<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + Train<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
    M: TrainMerge<F, B, IN, T>,
{
    type Cache = BidirectionalCache<
        <F as Train<Tensor<IN, T>>>::Cache,
        <B as Train<Tensor<IN, T>>>::Cache,
        <F as Rnn<IN, T>>::Output,
        <B as Rnn<IN, T>>::Output,
    >;

    fn forward_train(
        &self,
        x: &Tensor<IN, T>,
        y: &mut M::Output,
        cache: &mut Self::Cache,
        ctx: &mut TrainCtx,
    ) {
        self.forward_layer
            .forward_train(x, &mut cache.y, &mut cache.forward, ctx);
        self.backward_layer
            .forward_train(x, &mut cache.y_rev, &mut cache.backward, ctx);
        *y = M::merge(cache.y, cache.y_rev);
    }

    fn backward(
        &self,
        x: &Tensor<IN, T>,
        _y: &M::Output,
        cache: &mut Self::Cache,
        dy: &M::Output,
        mut dx: Option<&mut Tensor<IN, T>>,
        grads: Option<&mut Self>,
    ) {
        let (mut dy_f, mut dy_b) = (zeroed(), zeroed());
        M::split(dy, &cache.y, &cache.y_rev, &mut dy_f, &mut dy_b);
        let (gf, gb) = match grads {
            Some(g) => (Some(&mut g.forward_layer), Some(&mut g.backward_layer)),
            None => (None, None),
        };
        self.forward_layer.backward(
            x,
            &cache.y,
            &mut cache.forward,
            &dy_f,
            dx.as_deref_mut(),
            gf,
        );
        self.backward_layer
            .backward(x, &cache.y_rev, &mut cache.backward, &dy_b, dx, gb);
    }
}

/// Under the input's mask: both layers read it by time (the backward layer included), as at
/// inference.
impl<F, B, M, const IN: usize, const T: usize> MaskedTrain<Tensor<IN, T>> for Bidirectional<F, B, M>
where
    F: Rnn<IN, T> + MaskedTrain<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + MaskedTrain<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
    M: TrainMerge<F, B, IN, T>,
{
    type MaskedCache = BidirectionalCache<
        <F as MaskedTrain<Tensor<IN, T>>>::MaskedCache,
        <B as MaskedTrain<Tensor<IN, T>>>::MaskedCache,
        <F as Rnn<IN, T>>::Output,
        <B as Rnn<IN, T>>::Output,
    >;

    fn forward_train_masked(
        &self,
        xs: &[Tensor<IN, T>],
        masks: &[bool],
        ys: &mut [M::Output],
        caches: &mut [Self::MaskedCache],
        ctx: &mut TrainCtx,
    ) {
        assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
        for (s, ((x, y), c)) in xs
            .iter()
            .zip(ys.iter_mut())
            .zip(caches.iter_mut())
            .enumerate()
        {
            let mask = &masks[s * T..(s + 1) * T];
            let x = core::slice::from_ref(x);
            self.forward_layer.forward_train_masked(
                x,
                mask,
                core::slice::from_mut(&mut c.y),
                core::slice::from_mut(&mut c.forward),
                ctx,
            );
            self.backward_layer.forward_train_masked(
                x,
                mask,
                core::slice::from_mut(&mut c.y_rev),
                core::slice::from_mut(&mut c.backward),
                ctx,
            );
            *y = M::merge(c.y, c.y_rev);
        }
    }

    fn backward_masked(
        &self,
        xs: &[Tensor<IN, T>],
        masks: &[bool],
        _ys: &[M::Output],
        caches: &mut [Self::MaskedCache],
        dys: &[M::Output],
        mut dxs: Option<&mut [Tensor<IN, T>]>,
        mut grads: Option<&mut Self>,
    ) {
        assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
        for (s, x) in xs.iter().enumerate() {
            let mask = &masks[s * T..(s + 1) * T];
            let c = &mut caches[s];
            let (mut dy_f, mut dy_b) = (zeroed(), zeroed());
            M::split(&dys[s], &c.y, &c.y_rev, &mut dy_f, &mut dy_b);
            let x = core::slice::from_ref(x);
            let mut dx = dxs.as_deref_mut().map(|d| &mut d[s..=s]);
            let g = grads.as_deref_mut();
            let (gf, gb) = match g {
                Some(g) => (Some(&mut g.forward_layer), Some(&mut g.backward_layer)),
                None => (None, None),
            };
            self.forward_layer.backward_masked(
                x,
                mask,
                core::slice::from_ref(&c.y),
                core::slice::from_mut(&mut c.forward),
                core::slice::from_ref(&dy_f),
                dx.as_deref_mut(),
                gf,
            );
            self.backward_layer.backward_masked(
                x,
                mask,
                core::slice::from_ref(&c.y_rev),
                core::slice::from_mut(&mut c.backward),
                core::slice::from_ref(&dy_b),
                dx,
                gb,
            );
        }
    }
}

/// Keras's `return_state`: the forward layer's final states, then the backward layer's (`h`,
/// then `c` for LSTM, each).
impl<F, B, M, const IN: usize, const T: usize> TrainStates<Tensor<IN, T>> for Bidirectional<F, B, M>
where
    F: Rnn<IN, T> + TrainStates<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + TrainStates<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
    M: TrainMerge<F, B, IN, T>,
{
    fn state(cache: &Self::Cache, i: usize) -> &[f32] {
        match i.checked_sub(F::STATES) {
            None => F::state(&cache.forward, i),
            Some(i) => B::state(&cache.backward, i),
        }
    }

    fn state_grad(cache: &mut Self::Cache, i: usize) -> &mut [f32] {
        match i.checked_sub(F::STATES) {
            None => F::state_grad(&mut cache.forward, i),
            Some(i) => B::state_grad(&mut cache.backward, i),
        }
    }
}

/// The training view of `Bidirectional(..., merge_mode=None)` ([`Separate`]), whose output is a
/// pair: the training step sees the forward layer's output as the layer's output and the
/// backward layer's (in time order, as Keras returns it) as its first extra output
/// ([`TrainStates::state`] 0), followed by the states of `return_state`.
///
/// `#[repr(transparent)]` over the `Bidirectional`, so the model's field (and its gradients)
/// are viewed as one in place ([`SeparateOutputs::from_ref`]).
#[repr(transparent)]
#[derive(Debug)]
pub struct SeparateOutputs<L>(pub L);

impl<L> SeparateOutputs<L> {
    /// Views a `Bidirectional` with `merge_mode=None` as its training path.
    pub fn from_ref(layer: &L) -> &Self {
        // SAFETY: `#[repr(transparent)]` over `L`: same layout; the lifetime is `layer`'s.
        unsafe { &*(layer as *const L).cast::<Self>() }
    }

    /// [`SeparateOutputs::from_ref`], mutably (the layer's gradients).
    pub fn from_mut(layer: &mut L) -> &mut Self {
        // SAFETY: as in `from_ref`; the borrow is exclusive for the new reference's lifetime.
        unsafe { &mut *(layer as *mut L).cast::<Self>() }
    }
}

impl<F, B, const IN: usize, const T: usize> Layer<Tensor<IN, T>>
    for SeparateOutputs<Bidirectional<F, B, Separate>>
where
    F: Rnn<IN, T>,
    B: Rnn<IN, T>,
{
    type Output = <F as Rnn<IN, T>>::Output;

    fn forward(&self, x: &Tensor<IN, T>) -> Self::Output {
        self.0.forward(x).0
    }
}

/// What [`SeparateOutputs`] keeps per sample: each layer's cache, the backward layer's output in
/// its processing order and in time order, and the gradient of the latter (the second output's,
/// which the training step adds in before backward).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SeparateCache<CF, CB, YB> {
    forward: CF,
    backward: CB,
    y_rev: YB,
    y_b: YB,
    dy_b: YB,
}

// SAFETY: as for `BidirectionalCache`: `#[repr(C)]` over plain fields made of f32-sized words.
unsafe impl<CF: Plain, CB: Plain, YB: Plain> Plain for SeparateCache<CF, CB, YB> {}

/// Forward: both layers' training paths (the backward one reads the sequence from the end), the
/// backward output flipped back to time order. Backward: the forward layer from `∂y`, the
/// backward layer from the second output's gradient flipped to its processing order; both add
/// into `dx`.
impl<F, B, const IN: usize, const T: usize> Train<Tensor<IN, T>>
    for SeparateOutputs<Bidirectional<F, B, Separate>>
where
    F: Rnn<IN, T> + Train<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + Train<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
{
    type Cache = SeparateCache<
        <F as Train<Tensor<IN, T>>>::Cache,
        <B as Train<Tensor<IN, T>>>::Cache,
        <B as Rnn<IN, T>>::Output,
    >;

    fn forward_train(
        &self,
        x: &Tensor<IN, T>,
        y: &mut <F as Rnn<IN, T>>::Output,
        cache: &mut Self::Cache,
        ctx: &mut TrainCtx,
    ) {
        let bi = &self.0;
        bi.forward_layer
            .forward_train(x, y, &mut cache.forward, ctx);
        bi.backward_layer
            .forward_train(x, &mut cache.y_rev, &mut cache.backward, ctx);
        cache.y_b = cache.y_rev;
        reverse_rows(cache.y_b.values_mut(), B::UNITS);
        cache.dy_b = zeroed();
    }

    fn backward(
        &self,
        x: &Tensor<IN, T>,
        y: &<F as Rnn<IN, T>>::Output,
        cache: &mut Self::Cache,
        dy: &<F as Rnn<IN, T>>::Output,
        mut dx: Option<&mut Tensor<IN, T>>,
        grads: Option<&mut Self>,
    ) {
        let bi = &self.0;
        let (gf, gb) = match grads {
            Some(g) => (Some(&mut g.0.forward_layer), Some(&mut g.0.backward_layer)),
            None => (None, None),
        };
        bi.forward_layer
            .backward(x, y, &mut cache.forward, dy, dx.as_deref_mut(), gf);
        // The time-ordered output is no longer needed: it becomes the flipped gradient.
        cache.y_b = cache.dy_b;
        reverse_rows(cache.y_b.values_mut(), B::UNITS);
        bi.backward_layer
            .backward(x, &cache.y_rev, &mut cache.backward, &cache.y_b, dx, gb);
    }
}

/// Under the input's mask: both layers read it by time (the backward layer included), as at
/// inference; otherwise as the unmasked path.
impl<F, B, const IN: usize, const T: usize> MaskedTrain<Tensor<IN, T>>
    for SeparateOutputs<Bidirectional<F, B, Separate>>
where
    F: Rnn<IN, T> + MaskedTrain<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + MaskedTrain<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
{
    type MaskedCache = SeparateCache<
        <F as MaskedTrain<Tensor<IN, T>>>::MaskedCache,
        <B as MaskedTrain<Tensor<IN, T>>>::MaskedCache,
        <B as Rnn<IN, T>>::Output,
    >;

    fn forward_train_masked(
        &self,
        xs: &[Tensor<IN, T>],
        masks: &[bool],
        ys: &mut [<F as Rnn<IN, T>>::Output],
        caches: &mut [Self::MaskedCache],
        ctx: &mut TrainCtx,
    ) {
        assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
        let bi = &self.0;
        for (s, ((x, y), c)) in xs
            .iter()
            .zip(ys.iter_mut())
            .zip(caches.iter_mut())
            .enumerate()
        {
            let mask = &masks[s * T..(s + 1) * T];
            let x = core::slice::from_ref(x);
            bi.forward_layer.forward_train_masked(
                x,
                mask,
                core::slice::from_mut(y),
                core::slice::from_mut(&mut c.forward),
                ctx,
            );
            bi.backward_layer.forward_train_masked(
                x,
                mask,
                core::slice::from_mut(&mut c.y_rev),
                core::slice::from_mut(&mut c.backward),
                ctx,
            );
            c.y_b = c.y_rev;
            reverse_rows(c.y_b.values_mut(), B::UNITS);
            c.dy_b = zeroed();
        }
    }

    fn backward_masked(
        &self,
        xs: &[Tensor<IN, T>],
        masks: &[bool],
        ys: &[<F as Rnn<IN, T>>::Output],
        caches: &mut [Self::MaskedCache],
        dys: &[<F as Rnn<IN, T>>::Output],
        mut dxs: Option<&mut [Tensor<IN, T>]>,
        mut grads: Option<&mut Self>,
    ) {
        assert_eq!(masks.len(), T * xs.len(), "one mask entry per step");
        let bi = &self.0;
        for (s, x) in xs.iter().enumerate() {
            let mask = &masks[s * T..(s + 1) * T];
            let c = &mut caches[s];
            let x = core::slice::from_ref(x);
            let mut dx = dxs.as_deref_mut().map(|d| &mut d[s..=s]);
            let (gf, gb) = match grads.as_deref_mut() {
                Some(g) => (Some(&mut g.0.forward_layer), Some(&mut g.0.backward_layer)),
                None => (None, None),
            };
            bi.forward_layer.backward_masked(
                x,
                mask,
                &ys[s..=s],
                core::slice::from_mut(&mut c.forward),
                &dys[s..=s],
                dx.as_deref_mut(),
                gf,
            );
            // The time-ordered output is no longer needed: it becomes the flipped gradient.
            c.y_b = c.dy_b;
            reverse_rows(c.y_b.values_mut(), B::UNITS);
            bi.backward_layer.backward_masked(
                x,
                mask,
                core::slice::from_ref(&c.y_rev),
                core::slice::from_mut(&mut c.backward),
                core::slice::from_ref(&c.y_b),
                dx,
                gb,
            );
        }
    }
}

/// Extra output 0 is the backward layer's sequence (or last output); then the states of
/// `return_state`, the forward layer's first.
impl<F, B, const IN: usize, const T: usize> TrainStates<Tensor<IN, T>>
    for SeparateOutputs<Bidirectional<F, B, Separate>>
where
    F: Rnn<IN, T> + TrainStates<Tensor<IN, T>, Output = <F as Rnn<IN, T>>::Output>,
    B: Rnn<IN, T> + TrainStates<Tensor<IN, T>, Output = <B as Rnn<IN, T>>::Output>,
    <F as Rnn<IN, T>>::Output: Plain,
    <B as Rnn<IN, T>>::Output: Plain,
{
    fn state(cache: &Self::Cache, i: usize) -> &[f32] {
        match i.checked_sub(1) {
            None => cache.y_b.values(),
            Some(i) => match i.checked_sub(F::STATES) {
                None => F::state(&cache.forward, i),
                Some(i) => B::state(&cache.backward, i),
            },
        }
    }

    fn state_grad(cache: &mut Self::Cache, i: usize) -> &mut [f32] {
        match i.checked_sub(1) {
            None => cache.dy_b.values_mut(),
            Some(i) => match i.checked_sub(F::STATES) {
                None => F::state_grad(&mut cache.forward, i),
                Some(i) => B::state_grad(&mut cache.backward, i),
            },
        }
    }
}

/// The forward layer's trainable variables, then the backward layer's (Keras's `weights`).
impl<F: Params, B: Params, M> Params for Bidirectional<F, B, M> {
    fn trainable_count(&self) -> usize {
        self.forward_layer.trainable_count() + self.backward_layer.trainable_count()
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        self.forward_layer.trainable_mut(f);
        self.backward_layer.trainable_mut(f);
    }
}

/// Keras's initializers of the two wrapped layers, the forward one first: the forward layer
/// takes the unprefixed `overrides`, the backward layer those prefixed
/// [`BACKWARD_LAYER`](crate::train::init::BACKWARD_LAYER) (at most 16; `keras_model!` gives it
/// the forward layer's declared ones when no `backward_layer` is declared, as Keras copies the
/// layer).
impl<F, B, M> crate::train::Init for Bidirectional<F, B, M>
where
    F: crate::train::Init,
    B: crate::train::Init,
    Self: Weights,
{
    fn init_with(
        &mut self,
        rng: &mut crate::train::Rng,
        overrides: &[(&str, crate::train::init::Initializer)],
    ) {
        use crate::train::init::{Initializer, BACKWARD_LAYER};
        self.forward_layer.init_with(rng, overrides);
        let mut backward = [("", Initializer::Constant(0.0)); 16];
        let mut n = 0;
        for &(name, init) in overrides {
            if let Some(name) = name.strip_prefix(BACKWARD_LAYER) {
                if n < backward.len() {
                    backward[n] = (name, init);
                    n += 1;
                }
            }
        }
        self.backward_layer.init_with(rng, &backward[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    /// `h_t = x_t + r·h_{t−1}`, one unit.
    fn accumulator<R>(r: f32, backwards: bool) -> SimpleRnn<1, 1, R, false> {
        let mut rnn = SimpleRnn::new(Activation::Linear);
        rnn.load_variable(0, &mut [1.0].into_iter());
        rnn.load_variable(1, &mut [r].into_iter());
        rnn.with_go_backwards(backwards)
    }

    const X: [f32; 4] = [1.0, 2.0, 3.0, 4.0];

    #[test]
    fn sequences_line_up_in_time() {
        let x = Tensor::<1, 4>::from_slice(&X);
        let f = accumulator::<ReturnSequences>(1.0, false);
        let b = accumulator::<ReturnSequences>(1.0, true);
        // Forward prefix sums 1 3 6 10; backward suffix sums (re-reversed) 10 9 7 4.
        let cat: Bidirectional<_, _, Concat<2>> = Bidirectional::new(f.clone(), b.clone());
        assert_eq!(
            cat.forward(&x).as_slice(),
            &[1.0, 10.0, 3.0, 9.0, 6.0, 7.0, 10.0, 4.0]
        );
        let sum: Bidirectional<_, _, Sum> = Bidirectional::new(f.clone(), b.clone());
        assert_eq!(sum.forward(&x).as_slice(), &[11.0, 12.0, 13.0, 14.0]);
        let mul: Bidirectional<_, _, Mul> = Bidirectional::new(f.clone(), b.clone());
        assert_eq!(mul.forward(&x).as_slice(), &[10.0, 27.0, 42.0, 40.0]);
        let ave: Bidirectional<_, _, Ave> = Bidirectional::new(f.clone(), b.clone());
        assert_eq!(ave.forward(&x).as_slice(), &[5.5, 6.0, 6.5, 7.0]);
        let (yf, yb) = Bidirectional::<_, _, Separate>::new(f, b).forward(&x);
        assert_eq!(yf.as_slice(), &[1.0, 3.0, 6.0, 10.0]);
        assert_eq!(yb.as_slice(), &[10.0, 9.0, 7.0, 4.0]);
    }

    #[test]
    fn last_outputs_merge_without_flipping() {
        let x = Tensor::<1, 4>::from_slice(&X);
        // r = 0.5: forward ends on x3 + .5 x2 + …, backward on x0 + .5 x1 + ….
        let f = accumulator::<ReturnLast>(0.5, false);
        let b = accumulator::<ReturnLast>(0.5, true);
        let (yf, yb) = Bidirectional::<_, _, Separate>::new(f.clone(), b.clone()).forward(&x);
        assert_eq!(yf[0], 4.0 + 0.5 * (3.0 + 0.5 * (2.0 + 0.5 * 1.0)));
        assert_eq!(yb[0], 1.0 + 0.5 * (2.0 + 0.5 * (3.0 + 0.5 * 4.0)));
        let cat: Bidirectional<_, _, Concat<2>> = Bidirectional::new(f, b);
        assert_eq!(cat.forward(&x).as_slice(), &[yf[0], yb[0]]);
    }

    #[test]
    fn masks_and_states_reach_both_layers() {
        let x = Tensor::<1, 4>::from_slice(&X);
        let f = accumulator::<ReturnSequences>(1.0, false).with_zero_output_for_mask(true);
        let b = accumulator::<ReturnSequences>(1.0, true).with_zero_output_for_mask(true);
        let cat: Bidirectional<_, _, Concat<2>> = Bidirectional::new(f, b);
        let (mut fs, mut bs) = (Tensor::zeros(), Tensor::from_slice(&[100.0]));
        let mask = [true, false, true, true];
        let y = cat.forward_with(&x, Some(&mask), &mut fs, &mut bs);
        // Step 1 is masked: zeros in both halves; the backward state started at 100.
        assert_eq!(
            y.as_slice(),
            &[1.0, 108.0, 0.0, 0.0, 4.0, 107.0, 8.0, 104.0]
        );
        assert_eq!((fs[0], bs[0]), (8.0, 108.0));
    }

    #[test]
    fn variables_are_forward_then_backward() {
        let f: Lstm<3, 2> = Lstm::default();
        let b: Gru<3, 4, ReturnLast, false> =
            Gru::new(Activation::Tanh, Activation::Sigmoid, false);
        let mut bi: Bidirectional<_, _, Concat<6>> = Bidirectional::new(f, b);
        let expected: [(&str, &[usize]); 5] = [
            ("kernel", &[3, 8]),
            ("recurrent_kernel", &[2, 8]),
            ("bias", &[8]),
            ("kernel", &[3, 12]),
            ("recurrent_kernel", &[4, 12]),
        ];
        assert_eq!(bi.variables().len(), expected.len());
        for (v, (name, shape)) in bi.variables().iter().zip(expected) {
            assert_eq!((v.name, v.shape), (name, shape));
        }
        bi.load_variable(3, &mut core::iter::repeat(1.5));
        assert!(bi
            .backward_layer
            .kernel
            .as_flattened()
            .as_flattened()
            .iter()
            .all(|&v| v == 1.5));
        let mut stored = 0;
        bi.store_variable(3, &mut |v| {
            assert_eq!(v, 1.5);
            stored += 1;
        });
        assert_eq!(stored, 36);
        assert_eq!(bi.param_count(), 3 * 8 + 2 * 8 + 8 + 3 * 12 + 4 * 12);
    }

    /// The compile-time lists agree with what each layer reports.
    #[test]
    fn layouts_are_the_layers_variables() {
        fn check<L: RnnWeights>(layer: &L) {
            assert_eq!(L::LAYOUTS[layer.layout()], layer.variables());
        }
        check(&SimpleRnn::<3, 2>::default());
        check(&SimpleRnn::<3, 2, ReturnSequences, false>::default());
        check(&Lstm::<3, 2>::default());
        check(&Lstm::<3, 2, ReturnLast, false>::default());
        for reset_after in [true, false] {
            check(&Gru::<3, 2>::new(
                Activation::Tanh,
                Activation::Sigmoid,
                reset_after,
            ));
            check(&Gru::<3, 2, ReturnSequences, false>::new(
                Activation::Tanh,
                Activation::Sigmoid,
                reset_after,
            ));
        }
    }

    #[test]
    fn rows_reverse_in_place() {
        let mut v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        reverse_rows(&mut v, 2);
        assert_eq!(v, [5.0, 6.0, 3.0, 4.0, 1.0, 2.0]);
        reverse_rows(&mut v[..2], 2);
        assert_eq!(v[..2], [5.0, 6.0]);
    }

    /// Backward against finite differences, every merge mode with each cell, sequences or not.
    #[test]
    fn bidirectional_gradients() {
        use crate::train::check::{fill, gradients};
        fn all_modes<L>(f: L, b: L)
        where
            L: Clone
                + RnnWeights
                + Rnn<3, 4>
                + Train<Tensor<3, 4>, Output = <L as Rnn<3, 4>>::Output>,
            <L as Rnn<3, 4>>::Output: Plain + crate::train::check::AsValues,
            Concat<8>: TrainMerge<L, L, 3, 4>,
            <Concat<8> as MergeMode<L, L, 3, 4>>::Output: Plain + crate::train::check::AsValues,
        {
            let mut cat: Bidirectional<L, L, Concat<8>> = Bidirectional::new(f, b);
            fill(&mut cat, 1);
            gradients::<_, Tensor<3, 4>>(&cat, 2);
            let (f, b) = (cat.forward_layer.clone(), cat.backward_layer.clone());
            gradients::<_, Tensor<3, 4>>(&Bidirectional::<L, L, Sum>::new(f.clone(), b.clone()), 3);
            gradients::<_, Tensor<3, 4>>(&Bidirectional::<L, L, Mul>::new(f.clone(), b.clone()), 4);
            gradients::<_, Tensor<3, 4>>(&Bidirectional::<L, L, Ave>::new(f, b), 5);
        }
        fn pair<L: Clone>(l: L, back: L) -> (L, L) {
            (l, back)
        }
        let (f, b) = pair(
            SimpleRnn::<3, 4, ReturnSequences>::new(Activation::Tanh),
            SimpleRnn::new(Activation::Tanh).with_go_backwards(true),
        );
        all_modes(f, b);
        let (f, b) = pair(
            SimpleRnn::<3, 4, ReturnLast>::new(Activation::Tanh),
            SimpleRnn::new(Activation::Tanh).with_go_backwards(true),
        );
        all_modes(f, b);
        let (f, b) = pair(
            Lstm::<3, 4, ReturnSequences>::default(),
            Lstm::default().with_go_backwards(true),
        );
        all_modes(f, b);
        let (f, b) = pair(
            Lstm::<3, 4, ReturnLast>::default(),
            Lstm::default().with_go_backwards(true),
        );
        all_modes(f, b);
        for reset_after in [true, false] {
            let gru = Gru::<3, 4, ReturnSequences>::new(
                Activation::Tanh,
                Activation::Sigmoid,
                reset_after,
            );
            all_modes(gru.clone(), gru.with_go_backwards(true));
            let gru =
                Gru::<3, 4, ReturnLast>::new(Activation::Tanh, Activation::Sigmoid, reset_after);
            all_modes(gru.clone(), gru.with_go_backwards(true));
        }
    }

    /// The masked path under an all-kept mask is the plain one; the states are the forward
    /// layer's, then the backward layer's.
    #[test]
    fn bidirectional_masked_training_and_states() {
        use crate::train::check::fill;
        let f: Lstm<3, 4, ReturnSequences> = Lstm::default();
        let mut bi: Bidirectional<_, _, Concat<8>> =
            Bidirectional::new(f.clone(), f.with_go_backwards(true));
        fill(&mut bi, 7);
        let mut rng = crate::train::Rng::new(1);
        let mut x = Tensor::<3, 4>::zeros();
        x.iter_mut().for_each(|v| *v = rng.uniform() - 0.5);
        let mut dy = Tensor::<8, 4>::zeros();
        dy.iter_mut().for_each(|v| *v = rng.uniform() - 0.5);
        let mut ctx = TrainCtx::new(0);
        let (mut y, mut c) = (Tensor::<8, 4>::zeros(), zeroed());
        bi.forward_train(&x, &mut y, &mut c, &mut ctx);
        let inference = bi.forward(&x);
        assert!(y
            .iter()
            .zip(inference.iter())
            .all(|(a, b)| (a - b).abs() <= 1e-6));
        let (mut ym, mut cm) = ([Tensor::<8, 4>::zeros()], [zeroed()]);
        let mask = [true; 4];
        bi.forward_train_masked(&[x], &mask, &mut ym, &mut cm, &mut ctx);
        assert_eq!(ym[0], y);
        type Bi =
            Bidirectional<Lstm<3, 4, ReturnSequences>, Lstm<3, 4, ReturnSequences>, Concat<8>>;
        assert_eq!(
            <Bi as TrainStates<Tensor<3, 4>>>::state(&c, 1),
            &c.forward.last[1]
        );
        assert_eq!(
            <Bi as TrainStates<Tensor<3, 4>>>::state(&c, 2),
            &c.backward.last[0]
        );
        let zero = |b: &Bi| {
            let mut g = b.clone();
            g.trainable_mut(&mut |s| s.fill(0.0));
            g
        };
        let (mut g, mut gm) = (zero(&bi), zero(&bi));
        let (mut dx, mut dxm) = (Tensor::<3, 4>::zeros(), [Tensor::<3, 4>::zeros()]);
        bi.backward(&x, &y, &mut c, &dy, Some(&mut dx), Some(&mut g));
        bi.backward_masked(
            &[x],
            &mask,
            &ym,
            &mut cm,
            &[dy],
            Some(&mut dxm),
            Some(&mut gm),
        );
        assert_eq!(dx, dxm[0]);
        assert_eq!(g, gm);
        assert_ne!(dx, Tensor::zeros());
    }
}
