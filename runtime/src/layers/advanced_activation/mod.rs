//! The activation layers with arguments of their own: `ReLU`, `LeakyReLU`, `ELU`, `PReLU` (whose
//! slopes are weights) and `Softmax` (along any axes).

mod prelu;
mod softmax;

pub use prelu::PRelu;
pub use softmax::Softmax;

use libm::{expf, expm1f};

use crate::layer::{no_weights, Layer, Weights};
use crate::memory::{zeroable, InPlace};
use crate::train::{no_params, Params, Train, TrainCtx};
use crate::{zeros, Tensor};

/// Where an element-wise layer reads and writes its values.
enum Slots<'a> {
    /// From an input into an output.
    Into(&'a [f32], &'a mut [f32]),
    /// Over the values themselves.
    InPlace(&'a mut [f32]),
}

/// `y = f(x)` for every value: the loop the compiler vectorises, the same per value in place.
#[inline(always)]
fn map(slots: Slots, f: impl Fn(f32) -> f32) {
    match slots {
        Slots::Into(x, y) => {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = f(x);
            }
        }
        Slots::InPlace(values) => {
            for v in values {
                *v = f(*v);
            }
        }
    }
}

/// `Layer` (with `forward_into`) and `InPlace` for an element-wise layer with an `apply(Slots)`.
macro_rules! elementwise_layer {
    ($ty:ty) => {
        impl<const F: usize, const P: usize> Layer<Tensor<F, P>> for $ty {
            type Output = Tensor<F, P>;

            fn forward(&self, x: &Tensor<F, P>) -> Tensor<F, P> {
                let mut y = zeros::<F, P>();
                self.apply(Slots::Into(x.as_slice(), y.as_mut_slice()));
                y
            }

            fn forward_into(&self, x: &Tensor<F, P>, y: &mut Tensor<F, P>) {
                self.apply(Slots::Into(x.as_slice(), y.as_mut_slice()));
            }
        }

        impl<const F: usize, const P: usize> InPlace<Tensor<F, P>> for $ty {
            fn forward_in_place(&self, x: &mut Tensor<F, P>) {
                self.apply(Slots::InPlace(x.as_mut_slice()));
            }
        }
    };
}

/// Keras `ReLU(max_value=None, negative_slope=0.0, threshold=0.0)`: `x` from the threshold up
/// (clipped at `max_value`), `negative_slope · (x − threshold)` below it.
///
/// The value is computed as Keras computes it, step by step in f32: `x` if `x > threshold`
/// (plain `max(x, 0)` when the threshold is 0), clipped to `[0, max_value]`, minus
/// `negative_slope · max(threshold − x, 0)`. `ReLU(6.0)` is `relu6`. Keras rejects negative
/// arguments (so does `keras_model!`); here any value computes that formula.
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, any shape.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, Relu};
/// let mut x = zeros::<4, 1>();
/// x.as_mut_slice().copy_from_slice(&[-2.0, 0.5, 3.0, 8.0]);
/// // Keras: ReLU(max_value=6.0, negative_slope=0.5, threshold=1.0)
/// let y = Relu::new(Some(6.0), 0.5, 1.0).forward(&x);
/// assert_eq!(y.as_slice(), &[-1.5, -0.25, 3.0, 6.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Relu {
    /// Whether the output is clipped at `max`: Keras's `max_value` is not `None`. (Not an
    /// `Option`, whose zero bytes have no defined meaning: the layer is [`Zeroable`].)
    ///
    /// [`Zeroable`]: crate::Zeroable
    clip: bool,
    /// The largest output, when `clip`.
    max: f32,
    /// The slope below the threshold.
    pub negative_slope: f32,
    /// Where the linear part starts.
    pub threshold: f32,
}

zeroable!([] Relu => Relu { clip, max, negative_slope, threshold });

impl Relu {
    /// A layer with Keras's arguments.
    pub const fn new(max_value: Option<f32>, negative_slope: f32, threshold: f32) -> Self {
        let (clip, max) = match max_value {
            Some(max) => (true, max),
            None => (false, 0.0),
        };
        Self {
            clip,
            max,
            negative_slope,
            threshold,
        }
    }

    /// The largest output (`None`: unbounded), Keras's `max_value`.
    pub const fn max_value(&self) -> Option<f32> {
        if self.clip {
            Some(self.max)
        } else {
            None
        }
    }

    /// Keras's `ReLU` operation on one value (`keras.activations.relu`, step by step).
    #[inline(always)]
    fn general(self, x: f32) -> f32 {
        let (slope, threshold) = (self.negative_slope, self.threshold);
        let mut y = if threshold != 0.0 {
            if x > threshold {
                x
            } else {
                0.0
            }
        } else {
            x.max(0.0)
        };
        if let Some(max) = self.max_value() {
            y = y.max(0.0).min(max);
        }
        if slope != 0.0 {
            y -= slope * (-x + threshold).max(0.0);
        }
        y
    }

    #[inline(always)]
    fn apply(&self, slots: Slots) {
        // The common forms (relu, relu6, a clipped relu) as loops of min/max that vectorise.
        match (
            self.max_value(),
            self.negative_slope == 0.0,
            self.threshold == 0.0,
        ) {
            // `relu` rather than `x.max(0.0)`, whose sign of a zero is unspecified (-0 in an
            // unoptimised build, +0 optimised): the bits of the fused epilogue ([`Epilogue`]).
            //
            // [`Epilogue`]: crate::Epilogue
            (None, true, true) => map(slots, crate::epilogue::relu),
            (Some(max), true, true) => map(slots, |x| crate::epilogue::relu(x).min(max)),
            _ => {
                let this = *self;
                map(slots, |x| this.general(x))
            }
        }
    }
}

elementwise_layer!(Relu);

impl Relu {
    /// JAX's derivative of Keras's expression at `x`, kinks included: the leaky form
    /// (`negative_slope` alone) has slope 1 at 0; `relu` 0 at 0; `relu6` (`max_value = 6`
    /// without threshold) 0 at both corners; the `x > threshold` selection 0 at the threshold;
    /// the clip to `[0, max_value]` passes half the gradient at exactly its bounds; the
    /// negative part `negative_slope · relu(threshold − x)` adds the slope strictly below the
    /// threshold.
    #[inline(always)]
    fn derivative(self, x: f32) -> f32 {
        let (slope, threshold) = (self.negative_slope, self.threshold);
        if slope != 0.0 && self.max_value().is_none() && threshold == 0.0 {
            return if x >= 0.0 { 1.0 } else { slope };
        }
        let (mut d, value, clip) = if threshold != 0.0 {
            let above = x > threshold;
            (
                f32::from(u8::from(above)),
                if above { x } else { 0.0 },
                self.max_value(),
            )
        } else if self.max_value() == Some(6.0) {
            (f32::from(u8::from(x > 0.0 && x < 6.0)), 0.0, None)
        } else {
            (f32::from(u8::from(x > 0.0)), x.max(0.0), self.max_value())
        };
        if let Some(max) = clip {
            // jnp.clip(v, 0, max) = min(max(v, 0), max): a tie passes half.
            for (v, bound, outside) in [(value, 0.0, value < 0.0), (value, max, value > max)] {
                if outside {
                    d = 0.0;
                } else if v == bound {
                    d *= 0.5;
                }
            }
        }
        if slope != 0.0 && x < threshold {
            d += slope;
        }
        d
    }
}

/// `dx += dy · f(x)` for every value: the backward pass of an element-wise layer.
#[inline(always)]
fn backward_map<const F: usize, const P: usize>(
    x: &Tensor<F, P>,
    dy: &Tensor<F, P>,
    dx: Option<&mut Tensor<F, P>>,
    f: impl Fn(f32) -> f32,
) {
    let Some(dx) = dx else { return };
    for ((d, &x), &g) in dx
        .as_mut_slice()
        .iter_mut()
        .zip(x.as_slice())
        .zip(dy.as_slice())
    {
        *d += g * f(x);
    }
}

/// The training path of an element-wise activation layer: the forward pass is inference's,
/// the backward pass multiplies by the derivative at the input (no cache).
macro_rules! elementwise_train {
    ($ty:ty, |$this:ident, $x:ident| $derivative:expr) => {
        impl<const F: usize, const P: usize> Train<Tensor<F, P>> for $ty {
            type Cache = ();

            fn forward_train(
                &self,
                x: &Tensor<F, P>,
                y: &mut Tensor<F, P>,
                _: &mut (),
                _: &mut TrainCtx,
            ) {
                *y = self.forward(x);
            }

            fn backward(
                &self,
                x: &Tensor<F, P>,
                _y: &Tensor<F, P>,
                _: &mut (),
                dy: &Tensor<F, P>,
                dx: Option<&mut Tensor<F, P>>,
                _grads: Option<&mut Self>,
            ) {
                let $this = *self;
                backward_map(x, dy, dx, |$x| $derivative);
            }
        }

        no_params!(Params for $ty);
    };
}

elementwise_train!(Relu, |this, x| this.derivative(x));

no_weights!(Weights for Relu);

/// Keras `LeakyReLU(negative_slope=0.3)`: `x` for `x ≥ 0`, `negative_slope · x` below.
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, any shape.
///
/// ```
/// use static_keras_runtime::{zeros, Layer, LeakyRelu};
/// let mut x = zeros::<3, 1>();
/// x.as_mut_slice().copy_from_slice(&[-2.0, 0.0, 3.0]);
/// let y = LeakyRelu::new(0.25).forward(&x);
/// assert_eq!(y.as_slice(), &[-0.5, 0.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyRelu {
    /// The slope below zero.
    pub negative_slope: f32,
}

impl LeakyRelu {
    /// A layer with the given slope below zero.
    pub const fn new(negative_slope: f32) -> Self {
        Self { negative_slope }
    }
}

impl Default for LeakyRelu {
    /// Keras's default slope, 0.3.
    fn default() -> Self {
        Self::new(0.3)
    }
}

impl LeakyRelu {
    #[inline(always)]
    fn apply(&self, slots: Slots) {
        let slope = self.negative_slope;
        map(slots, |x| if x >= 0.0 { x } else { slope * x })
    }
}

elementwise_layer!(LeakyRelu);

// jax.nn.leaky_relu: `where(x >= 0, x, slope·x)`, slope 1 at 0.
elementwise_train!(LeakyRelu, |this, x| if x >= 0.0 {
    1.0
} else {
    this.negative_slope
});
zeroable!([] LeakyRelu => LeakyRelu { negative_slope });

no_weights!(Weights for LeakyRelu);

/// Keras `ELU(alpha=1.0)`: `x` for `x > 0`, `alpha · (eˣ − 1)` otherwise.
///
/// # Shapes
/// - input and output: `Tensor<F, P>`, any shape.
///
/// ```
/// use static_keras_runtime::{zeros, Elu, Layer};
/// let mut x = zeros::<2, 1>();
/// x.as_mut_slice().copy_from_slice(&[2.0, 0.0]);
/// let y = Elu::new(0.5).forward(&x);
/// assert_eq!(y.as_slice(), &[2.0, 0.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// The scale of the negative part.
    pub alpha: f32,
}

impl Elu {
    /// A layer with the given `alpha`.
    pub const fn new(alpha: f32) -> Self {
        Self { alpha }
    }
}

impl Default for Elu {
    /// Keras's default `alpha`, 1.0.
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl Elu {
    #[inline(always)]
    fn apply(&self, slots: Slots) {
        let alpha = self.alpha;
        map(slots, |x| if x > 0.0 { x } else { alpha * expm1f(x) })
    }
}

elementwise_layer!(Elu);

// jax.nn.elu: `where(x > 0, x, alpha·expm1(x))`, slope alpha at 0.
elementwise_train!(Elu, |this, x| if x > 0.0 {
    1.0
} else {
    this.alpha * expf(x)
});
zeroable!([] Elu => Elu { alpha });

no_weights!(Weights for Elu);

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor<const F: usize>(values: [f32; F]) -> Tensor<F, 1> {
        let mut t = zeros::<F, 1>();
        t.as_mut_slice().copy_from_slice(&values);
        t
    }

    const X: [f32; 9] = [-10.0, -5.0, -1.0, 0.0, 0.5, 1.0, 5.0, 6.0, 10.0];

    #[test]
    fn relu_follows_the_keras_docstring() {
        // keras.activations.relu's own examples on [-10, -5, 0, 5, 10].
        let x = tensor([-10.0, -5.0, 0.0, 5.0, 10.0]);
        let relu = |m, s, t| Relu::new(m, s, t).forward(&x);
        assert_eq!(relu(None, 0.0, 0.0).as_slice(), &[0.0, 0.0, 0.0, 5.0, 10.0]);
        assert_eq!(
            relu(None, 0.5, 0.0).as_slice(),
            &[-5.0, -2.5, 0.0, 5.0, 10.0]
        );
        assert_eq!(
            relu(Some(5.0), 0.0, 0.0).as_slice(),
            &[0.0, 0.0, 0.0, 5.0, 5.0]
        );
        assert_eq!(relu(None, 0.0, 5.0).as_slice(), &[0.0, 0.0, 0.0, 0.0, 10.0]);
    }

    #[test]
    fn relu_combines_every_argument() {
        let y = Relu::new(Some(6.0), 0.5, 1.0).forward(&tensor(X));
        // below the threshold 1: 0.5·(x − 1); above: min(x, 6).
        assert_eq!(
            y.as_slice(),
            &[-5.5, -3.0, -1.0, -0.5, -0.25, 0.0, 5.0, 6.0, 6.0]
        );
        // relu6 through the fast path, and a clip below the threshold value.
        let y = Relu::new(Some(6.0), 0.0, 0.0).forward(&tensor(X));
        assert_eq!(y.as_slice(), &[0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 5.0, 6.0, 6.0]);
        let y = Relu::new(Some(0.5), 0.0, 2.0).forward(&tensor(X));
        assert_eq!(y.as_slice(), &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5]);
    }

    #[test]
    fn leaky_relu_and_elu() {
        let y = LeakyRelu::default().forward(&tensor([-10.0, 0.0, 2.0]));
        assert_eq!(y.as_slice(), &[-3.0, 0.0, 2.0]);
        let y = Elu::default().forward(&tensor([-1.0, 0.0, 2.0]));
        assert_eq!(y.as_slice(), &[expm1f(-1.0), 0.0, 2.0]);
        assert!((y.as_slice()[0] + 0.632_120_56).abs() < 1e-7);
        let y = Elu::new(0.5).forward(&tensor([-1.0]));
        assert_eq!(y.as_slice(), &[0.5 * expm1f(-1.0)]);
    }
    #[test]
    fn derivatives_are_jax_s_at_the_kinks() {
        // jax.grad of Keras 3.15's layers at these points (printed by hand from JAX 0.10).
        let x = [-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 5.0, 6.0, 7.0];
        let slopes = |relu: Relu| x.map(|x| relu.derivative(x));
        assert_eq!(
            slopes(Relu::default()),
            [0., 0., 0., 1., 1., 1., 1., 1., 1.]
        );
        assert_eq!(
            slopes(Relu::new(Some(6.0), 0.0, 0.0)),
            [0., 0., 0., 1., 1., 1., 1., 0., 0.]
        );
        assert_eq!(
            slopes(Relu::new(Some(5.0), 0.0, 0.0)),
            [0., 0., 0., 1., 1., 1., 0.5, 0., 0.]
        );
        assert_eq!(
            slopes(Relu::new(None, 0.5, 0.0)),
            [0.5, 0.5, 1., 1., 1., 1., 1., 1., 1.]
        );
        assert_eq!(
            slopes(Relu::new(None, 0.0, 1.0)),
            [0., 0., 0., 0., 0., 1., 1., 1., 1.]
        );
        assert_eq!(
            slopes(Relu::new(Some(5.0), 0.5, 1.0)),
            [0.5, 0.5, 0.5, 0.5, 0., 1., 0.5, 0., 0.]
        );
        assert_eq!(
            slopes(Relu::new(Some(6.0), 0.5, 0.0)),
            [0.5, 0.5, 0., 1., 1., 1., 1., 0., 0.]
        );
        assert_eq!(slopes(Relu::new(Some(1.0), 0.0, 1.0)), [0.0; 9]);
        assert_eq!(
            slopes(Relu::new(None, 0.25, 2.0)),
            [0.25, 0.25, 0.25, 0.25, 0.25, 0., 1., 1., 1.]
        );
        assert_eq!(slopes(Relu::new(Some(0.0), 0.0, 0.0)), [0.0; 9]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        use crate::train::check::gradients;
        // The checker draws its 12 inputs uniformly in [-1, 1) from the seed: take a seed whose
        // inputs keep clear of the kinks (the differences step is 1e-2).
        let clear_of = |kinks: &[f32]| {
            (0u64..)
                .find(|&seed| {
                    let mut rng = crate::train::Rng::new(seed);
                    (0..12).all(|_| {
                        let x = rng.uniform() * 2.0 - 1.0;
                        kinks.iter().all(|k| (x - k).abs() > 0.02)
                    })
                })
                .unwrap_or_default()
        };
        for (relu, kinks) in [
            (Relu::default(), &[0.0][..]),
            (Relu::new(Some(0.5), 0.0, 0.0), &[0.0, 0.5]),
            (Relu::new(None, 0.3, 0.0), &[0.0]),
            (Relu::new(Some(0.6), 0.2, 0.25), &[0.25, 0.6]),
            (Relu::new(None, 0.0, 0.4), &[0.4]),
        ] {
            gradients::<_, Tensor<4, 3>>(&relu, clear_of(kinks));
        }
        gradients::<_, Tensor<4, 3>>(&LeakyRelu::new(0.1), clear_of(&[0.0]));
        gradients::<_, Tensor<4, 3>>(&Elu::new(0.7), clear_of(&[0.0]));
    }
}
