//! What every optimizer shares (Keras's `BaseOptimizer`): the learning rate, clipping, weight
//! decay, the step counter, and the float helpers that keep the arithmetic Keras's.

use super::{OptimizerError, OptimizerState, SavedVariables, Schedule, Var};

/// `base^exp` as XLA computes it: within an ulp of the exact power. libm's `powf` is off by an
/// ulp already at 0.9³, so the power is taken in double precision and rounded once, which gives
/// the correctly rounded result (XLA's `pow` differs from it only beyond the first few hundred
/// steps, by an ulp).
pub(crate) fn pow(base: f32, exp: f32) -> f32 {
    libm::pow(base as f64, exp as f64) as f32
}

/// `cos(x)`, correctly rounded like [`pow`].
pub(crate) fn cos(x: f32) -> f32 {
    libm::cos(x as f64) as f32
}

/// `sqrt(x)`, correctly rounded (IEEE). With `std` it is LLVM's `sqrt`, which the optimizers'
/// element-wise loops vectorize (`sqrtps`); `libm`'s is the same correctly rounded value, one
/// scalar at a time.
#[inline]
pub(crate) fn sqrt(x: f32) -> f32 {
    #[cfg(feature = "std")]
    {
        x.sqrt()
    }
    #[cfg(not(feature = "std"))]
    {
        libm::sqrtf(x)
    }
}

/// XLA's `maximum`: NaN if either side is NaN.
pub(crate) fn maximum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// XLA's `minimum`: NaN if either side is NaN.
pub(crate) fn minimum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}

/// XLA's `sign`: −1, 0 or 1 (0 and NaN map to themselves).
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// `1 − x` for a Python float `x`: Keras computes it in double precision, then rounds to f32.
pub(crate) fn one_minus(x: f64) -> f32 {
    (1.0 - x) as f32
}

/// The Σx² Keras takes for a norm. XLA adds a short vector's elements in order; a long one in
/// another order, which differs in the last bits.
fn sum_of_squares(x: &[f32]) -> f32 {
    x.iter().fold(0.0, |acc, &v| acc + v * v)
}

/// The `BaseOptimizer` arguments of one optimizer, borrowed from its public fields.
pub(crate) struct Base<'a> {
    pub class: &'static str,
    pub learning_rate: f32,
    pub schedule: &'a Option<Schedule>,
    pub weight_decay: Option<f64>,
    pub clipnorm: Option<f64>,
    pub clipvalue: Option<f64>,
    pub global_clipnorm: Option<f64>,
}

impl Base<'_> {
    /// Keras's constructor checks common to every optimizer.
    pub fn validate(&self) -> Result<(), OptimizerError> {
        let clips = [self.clipnorm, self.clipvalue, self.global_clipnorm];
        if clips.iter().filter(|c| c.is_some()).count() > 1 {
            return Err(OptimizerError::ClipConflict {
                optimizer: self.class,
                clipnorm: self.clipnorm,
                clipvalue: self.clipvalue,
                global_clipnorm: self.global_clipnorm,
            });
        }
        match self.schedule {
            Some(schedule) => schedule.validate(),
            None => Ok(()),
        }
    }

    pub fn new_state(&self) -> OptimizerState {
        OptimizerState {
            iterations: 0,
            learning_rate: self.learning_rate,
            u_product: 1.0,
        }
    }

    /// Keras's `optimizer.learning_rate`: the schedule at `iterations`, or the variable.
    pub fn learning_rate(&self, state: &OptimizerState) -> f32 {
        match self.schedule {
            Some(schedule) => schedule.learning_rate(state.iterations),
            None => state.learning_rate,
        }
    }

    pub fn saved_variables(
        &self,
        variables: usize,
        names: &'static [&'static str],
        groups: &'static [&'static [usize]],
        u_product: bool,
    ) -> SavedVariables {
        SavedVariables::new(self.schedule.is_none(), names, groups, variables, u_product)
    }

    /// One `apply_gradients` of an optimizer whose arguments are valid: checks the buffers'
    /// lengths first, then clips, decays, runs `update` (the optimizer's rule over every
    /// variable, given the state before the increment and the learning rate) and counts the step.
    pub fn step(
        &self,
        slots_per_param: usize,
        state: &mut OptimizerState,
        vars: &mut [Var<'_>],
        update: impl FnOnce(&mut OptimizerState, f32, &mut [Var<'_>]),
    ) -> Result<(), OptimizerError> {
        self.check_lengths(slots_per_param, vars)?;
        let lr = self.learning_rate(state);
        self.clip(vars);
        if let Some(wd) = self.weight_decay {
            let wd = wd as f32;
            for var in vars.iter_mut() {
                for w in var.value.iter_mut() {
                    *w = *w - *w * wd * lr;
                }
            }
        }
        update(state, lr, vars);
        state.iterations += 1;
        Ok(())
    }

    fn check_lengths(
        &self,
        slots_per_param: usize,
        vars: &[Var<'_>],
    ) -> Result<(), OptimizerError> {
        for (i, var) in vars.iter().enumerate() {
            let len = var.value.len();
            let length = |buffer, expected, actual| OptimizerError::Length {
                optimizer: self.class,
                variable: i,
                buffer,
                expected,
                actual,
            };
            if var.grad.len() != len {
                return Err(length("gradient", len, var.grad.len()));
            }
            if var.slots.len() != slots_per_param * len {
                return Err(length("slots", slots_per_param * len, var.slots.len()));
            }
        }
        Ok(())
    }

    /// Keras's `_clip_gradients`: only a positive value clips.
    fn clip(&self, vars: &mut [Var<'_>]) {
        if let Some(c) = self.clipnorm.filter(|&c| c > 0.0) {
            let c32 = c as f32;
            for var in vars.iter_mut() {
                let l2sum = sum_of_squares(var.grad);
                let l2norm = if l2sum > 0.0 { sqrt(l2sum) } else { l2sum };
                // `g·c / max(norm, c)`, where XLA divides by the broadcast scalar as a product
                // with its reciprocal.
                let reciprocal = 1.0 / maximum(l2norm, c32);
                for g in var.grad.iter_mut() {
                    *g = *g * c32 * reciprocal;
                }
            }
        } else if let Some(c) = self.global_clipnorm.filter(|&c| c > 0.0) {
            let total = vars
                .iter()
                .fold(0.0f32, |acc, var| acc + sum_of_squares(var.grad));
            let norm = sqrt(total);
            // `clip_norm * minimum(1.0 / norm, 1.0 / clip_norm)`: the second `1.0 / clip_norm` is
            // Python's, in double precision. Keras then adds `norm - norm`, which is 0 for a
            // finite norm and turns an inf/NaN norm into NaN gradients.
            let scale = if norm.is_finite() {
                c as f32 * minimum(1.0 / norm, (1.0 / c) as f32)
            } else {
                f32::NAN
            };
            for var in vars.iter_mut() {
                for g in var.grad.iter_mut() {
                    *g *= scale;
                }
            }
        } else if let Some(c) = self.clipvalue.filter(|&c| c > 0.0) {
            let c32 = c as f32;
            for var in vars.iter_mut() {
                for g in var.grad.iter_mut() {
                    *g = minimum(maximum(*g, -c32), c32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(clipnorm: Option<f64>, clipvalue: Option<f64>, global: Option<f64>) -> Base<'static> {
        Base {
            class: "SGD",
            learning_rate: 0.1,
            schedule: &None,
            weight_decay: None,
            clipnorm,
            clipvalue,
            global_clipnorm: global,
        }
    }

    fn clipped(b: &Base<'_>, a: &mut [f32], c: &mut [f32]) {
        let (mut wa, mut wc) = ([0.0f32; 2], [0.0f32; 1]);
        b.clip(&mut [
            Var::new(&mut wa[..a.len()], a, &mut []),
            Var::new(&mut wc[..c.len()], c, &mut []),
        ]);
    }

    #[test]
    fn clipnorm_scales_each_variable_to_the_norm() {
        let (mut a, mut c) = ([3.0f32, 4.0], [0.5f32]);
        clipped(&base(Some(1.0), None, None), &mut a, &mut c);
        assert_eq!(a, [0.6, 0.8]);
        assert_eq!(c, [0.5]); // under the norm: unchanged
    }

    #[test]
    fn global_clipnorm_scales_all_together() {
        let (mut a, mut c) = ([3.0f32, 0.0], [4.0f32]);
        clipped(&base(None, None, Some(2.5)), &mut a, &mut c);
        assert_eq!(a, [1.5, 0.0]);
        assert_eq!(c, [2.0]);
        let (mut a, mut c) = ([f32::INFINITY, 0.0], [1.0f32]);
        clipped(&base(None, None, Some(2.5)), &mut a, &mut c);
        assert!(a[1].is_nan() && c[0].is_nan());
    }

    #[test]
    fn clipvalue_clamps_elements_and_zero_does_not_clip() {
        let (mut a, mut c) = ([3.0f32, -4.0], [0.25f32]);
        clipped(&base(None, Some(0.5), None), &mut a, &mut c);
        assert_eq!(a, [0.5, -0.5]);
        assert_eq!(c, [0.25]);
        let (mut a, mut c) = ([3.0f32, -4.0], [0.25f32]);
        clipped(&base(None, Some(0.0), None), &mut a, &mut c);
        assert_eq!(a, [3.0, -4.0]);
    }

    #[test]
    fn two_clips_are_an_error() {
        let err = base(Some(1.0), Some(0.5), None).validate().unwrap_err();
        assert!(matches!(err, OptimizerError::ClipConflict { .. }));
    }

    #[test]
    fn helpers_follow_xla() {
        assert!(maximum(f32::NAN, 1.0).is_nan() && minimum(1.0, f32::NAN).is_nan());
        assert_eq!(sign(0.0), 0.0);
        assert_eq!(sign(-3.0), -1.0);
        assert_eq!(one_minus(0.9), 0.1f32);
        assert_ne!(1.0 - 0.9f32, 0.1f32); // why `one_minus` takes the f64
                                          // XLA's f32(0.9)³; libm's `powf` gives the next float up.
        assert_eq!(pow(0.9, 3.0).to_bits(), 0x3f3a_9fbd);
    }
}
