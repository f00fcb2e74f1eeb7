//! The order in which Keras saves an optimizer's variables (`optimizer/vars/<i>` in a
//! `.weights.h5` or `.keras` file).

/// One of an optimizer's saved variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedVariable {
    /// `iteration`: a scalar integer (int32 as JAX writes it), [`OptimizerState::iterations`].
    ///
    /// [`OptimizerState::iterations`]: super::OptimizerState::iterations
    Iteration,
    /// `learning_rate`: a scalar f32, [`OptimizerState::learning_rate`]. Absent with a schedule.
    ///
    /// [`OptimizerState::learning_rate`]: super::OptimizerState::learning_rate
    LearningRate,
    /// Slot `slot` of trainable variable `variable`, with that variable's shape. Keras names it
    /// `<variable path with "/" → "_">_<name>`, e.g. `dense_kernel_momentum`.
    Slot {
        /// Position of the trainable variable in `model.trainable_variables`.
        variable: usize,
        /// The slot's index in [`Var::slots`](super::Var::slots).
        slot: usize,
        /// Keras's name of the slot (`"momentum"`, `"velocity"`, …).
        name: &'static str,
    },
    /// Nadam's `u_product`: a scalar f32, [`OptimizerState::u_product`]. Keras names it
    /// `variable`.
    ///
    /// [`OptimizerState::u_product`]: super::OptimizerState::u_product
    UProduct,
}

/// The saved variables in Keras's order: `iteration`, `learning_rate` (unless a schedule is set),
/// the slots, then Nadam's `u_product`. Slots come in groups: within a group Keras interleaves
/// the slots variable by variable (Adam: `w0_momentum, w0_velocity, w1_momentum, …`), and the
/// groups follow each other (Adam's `velocity_hat`s come after all the momentums and velocities;
/// each of RMSprop's slots is a group of its own).
///
/// ```
/// use static_keras_runtime::train::optimizers::{Adam, Optimizer, SavedVariable};
///
/// let adam = Adam { amsgrad: true, ..Default::default() };
/// let order: Vec<_> = adam.saved_variables(2).collect();
/// assert_eq!(order.len(), 2 + 3 * 2);
/// assert_eq!(order[2], SavedVariable::Slot { variable: 0, slot: 0, name: "momentum" });
/// assert_eq!(order[3], SavedVariable::Slot { variable: 0, slot: 1, name: "velocity" });
/// assert_eq!(order[6], SavedVariable::Slot { variable: 0, slot: 2, name: "velocity_hat" });
/// ```
#[derive(Debug, Clone)]
pub struct SavedVariables {
    learning_rate: bool,
    names: &'static [&'static str],
    groups: &'static [&'static [usize]],
    variables: usize,
    next: usize,
    len: usize,
}

impl SavedVariables {
    pub(crate) fn new(
        learning_rate: bool,
        names: &'static [&'static str],
        groups: &'static [&'static [usize]],
        variables: usize,
        u_product: bool,
    ) -> Self {
        let slots: usize = groups.iter().map(|g| g.len()).sum();
        Self {
            learning_rate,
            names,
            groups,
            variables,
            next: 0,
            len: 1 + usize::from(learning_rate) + slots * variables + usize::from(u_product),
        }
    }

    fn at(&self, mut i: usize) -> SavedVariable {
        if i == 0 {
            return SavedVariable::Iteration;
        }
        i -= 1;
        if self.learning_rate {
            if i == 0 {
                return SavedVariable::LearningRate;
            }
            i -= 1;
        }
        for group in self.groups {
            let size = group.len() * self.variables;
            if i < size {
                let slot = group[i % group.len()];
                return SavedVariable::Slot {
                    variable: i / group.len(),
                    slot,
                    name: self.names[slot],
                };
            }
            i -= size;
        }
        SavedVariable::UProduct
    }
}

impl Iterator for SavedVariables {
    type Item = SavedVariable;

    fn next(&mut self) -> Option<SavedVariable> {
        if self.next == self.len {
            return None;
        }
        self.next += 1;
        Some(self.at(self.next - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for SavedVariables {}

#[cfg(test)]
mod tests {
    use super::SavedVariable::{self, *};
    use super::*;

    const NAMES: &[&str] = &["velocity", "momentum", "average_gradient"];

    fn slot(variable: usize, slot: usize) -> SavedVariable {
        Slot {
            variable,
            slot,
            name: NAMES[slot],
        }
    }

    #[test]
    fn groups_follow_each_other_and_interleave_inside() {
        let order: std::vec::Vec<_> =
            SavedVariables::new(true, NAMES, &[&[0, 1], &[2]], 2, false).collect();
        assert_eq!(
            order,
            [
                Iteration,
                LearningRate,
                slot(0, 0),
                slot(0, 1),
                slot(1, 0),
                slot(1, 1),
                slot(0, 2),
                slot(1, 2)
            ]
        );
    }

    #[test]
    fn schedule_drops_the_learning_rate_and_nadam_ends_with_u_product() {
        let order: std::vec::Vec<_> = SavedVariables::new(false, NAMES, &[&[0]], 1, true).collect();
        assert_eq!(order, [Iteration, slot(0, 0), UProduct]);
        assert_eq!(SavedVariables::new(false, NAMES, &[], 3, false).len(), 1);
    }
}
