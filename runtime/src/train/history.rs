//! What `fit` reports: the logs of one epoch ([`Logs`], no_std) and the whole run ([`History`],
//! Keras's `history.history`, with `std`).

use core::fmt;

/// The most values one epoch's logs hold: the loss and up to four metrics, their validation
/// figures, the learning rate, and room for what custom callbacks add.
pub const MAX_LOGS: usize = 16;

/// The named values of one epoch (Keras's `logs` dict): `loss`, each metric, their `val_`
/// figures, and `learning_rate` when a learning-rate callback runs, in the order Keras's JAX
/// backend logs them (the training figures sorted by name, then the validation figures sorted
/// by name, then what callbacks add).
///
/// A fixed-capacity list of `(&'static str, f32)`, so it lives on the stack of a microcontroller.
///
/// ```
/// use static_keras_runtime::train::Logs;
/// let mut logs = Logs::new();
/// logs.set("loss", 0.25)?;
/// logs.set("accuracy", 0.75)?;
/// assert_eq!(logs.get("loss"), Some(0.25));
/// assert_eq!(logs["accuracy"], 0.75);
/// assert_eq!(logs.keys().collect::<Vec<_>>(), ["loss", "accuracy"]);
/// # Ok::<(), static_keras_runtime::train::LogsFull>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Logs {
    entries: [(&'static str, f32); MAX_LOGS],
    len: usize,
}

/// [`Logs::set`] on logs that hold [`MAX_LOGS`] values already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogsFull {
    /// The name that did not fit.
    pub name: &'static str,
}

impl fmt::Display for LogsFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the logs hold at most {MAX_LOGS} values; `{}` does not fit",
            self.name
        )
    }
}

impl core::error::Error for LogsFull {}

impl Default for Logs {
    fn default() -> Self {
        Self::new()
    }
}

impl Logs {
    /// No values.
    pub const fn new() -> Self {
        Self {
            entries: [("", 0.0); MAX_LOGS],
            len: 0,
        }
    }

    /// Sets `name` to `value`: replaces its value if present (in place), else appends it.
    ///
    /// # Errors
    /// [`LogsFull`] when a new name does not fit.
    pub fn set(&mut self, name: &'static str, value: f32) -> Result<(), LogsFull> {
        if let Some(e) = self.entries[..self.len].iter_mut().find(|e| e.0 == name) {
            e.1 = value;
            return Ok(());
        }
        if self.len == MAX_LOGS {
            return Err(LogsFull { name });
        }
        self.entries[self.len] = (name, value);
        self.len += 1;
        Ok(())
    }

    /// The value of `name`, if logged.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.iter().find(|e| e.0 == name).map(|e| e.1)
    }

    /// The names and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f32)> + '_ {
        self.entries[..self.len].iter().copied()
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.iter().map(|e| e.0)
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sorts the entries from `from` on by name (the order Keras's JAX backend returns a
    /// step's logs in).
    pub(crate) fn sort_from(&mut self, from: usize) {
        self.entries[from..self.len].sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
}

impl core::ops::Index<&str> for Logs {
    type Output = f32;

    /// The value of `name`.
    ///
    /// # Panics
    /// When `name` is not logged (Python's `KeyError`); [`Logs::get`] returns an `Option`.
    fn index(&self, name: &str) -> &f32 {
        match self.entries[..self.len].iter().find(|e| e.0 == name) {
            Some(e) => &e.1,
            None => panic!("`{name}` is not in the logs ({self:?})"),
        }
    }
}

impl fmt::Debug for Logs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(feature = "std")]
pub use owned::History;

#[cfg(feature = "std")]
mod owned {
    use super::Logs;
    use std::vec::Vec;

    /// What `fit` returns: every epoch's logs, by name, as Keras's `history.history` (a value
    /// appears in a list only for the epochs that logged it, e.g. `val_loss` with
    /// `validation_freq > 1`), and the epochs that ran (`history.epoch`).
    ///
    /// ```
    /// use static_keras_runtime::train::{History, Logs};
    /// let mut history = History::default();
    /// for (epoch, loss) in [(0, 0.5), (1, 0.25)] {
    ///     let mut logs = Logs::new();
    ///     logs.set("loss", loss)?;
    ///     history.record(epoch, &logs);
    /// }
    /// assert_eq!(history["loss"], [0.5, 0.25]);
    /// assert_eq!(history.epoch(), [0, 1]);
    /// assert_eq!(history.get("val_loss"), None);
    /// # Ok::<(), static_keras_runtime::train::LogsFull>(())
    /// ```
    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct History {
        epoch: Vec<usize>,
        history: Vec<(&'static str, Vec<f32>)>,
    }

    impl History {
        /// Adds one epoch's logs (Keras's `History.on_epoch_end`).
        pub fn record(&mut self, epoch: usize, logs: &Logs) {
            self.epoch.push(epoch);
            for (name, value) in logs.iter() {
                match self.history.iter_mut().find(|h| h.0 == name) {
                    Some(h) => h.1.push(value),
                    None => self.history.push((name, std::vec![value])),
                }
            }
        }

        /// The values logged as `name`, one per epoch that logged it.
        pub fn get(&self, name: &str) -> Option<&[f32]> {
            self.history
                .iter()
                .find(|h| h.0 == name)
                .map(|h| h.1.as_slice())
        }

        /// The names, in the order they first appeared (Keras's `history.history.keys()`).
        pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
            self.history.iter().map(|h| h.0)
        }

        /// The names and their values per epoch.
        pub fn iter(&self) -> impl Iterator<Item = (&'static str, &[f32])> + '_ {
            self.history.iter().map(|h| (h.0, h.1.as_slice()))
        }

        /// The indices of the epochs that ran (Keras's `history.epoch`).
        pub fn epoch(&self) -> &[usize] {
            &self.epoch
        }

        /// The last value logged as `name`.
        pub fn last(&self, name: &str) -> Option<f32> {
            self.get(name).and_then(|v| v.last().copied())
        }
    }

    impl core::ops::Index<&str> for History {
        type Output = [f32];

        /// The values logged as `name`.
        ///
        /// # Panics
        /// When nothing was logged as `name` (Python's `KeyError`); [`History::get`] returns an
        /// `Option`.
        fn index(&self, name: &str) -> &[f32] {
            match self.get(name) {
                Some(v) => v,
                None => {
                    let keys: Vec<&str> = self.keys().collect();
                    panic!("`{name}` is not in the history (it has {keys:?})")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_replace_sort_and_fill_up() {
        let mut logs = Logs::new();
        logs.set("loss", 1.0).unwrap();
        logs.set("acc", 0.5).unwrap();
        logs.set("loss", 2.0).unwrap();
        assert_eq!(logs.len(), 2);
        logs.sort_from(0);
        assert_eq!(logs.keys().collect::<std::vec::Vec<_>>(), ["acc", "loss"]);
        assert_eq!(logs["loss"], 2.0);
        const NAMES: [&str; MAX_LOGS] = ["n"; MAX_LOGS];
        let mut full = Logs::new();
        for (i, n) in NAMES.iter().enumerate() {
            full.entries[i] = (n, 0.0);
        }
        full.len = MAX_LOGS;
        assert_eq!(full.set("x", 1.0), Err(LogsFull { name: "x" }));
        assert_eq!(std::format!("{logs:?}"), "{\"acc\": 0.5, \"loss\": 2.0}");
    }

    #[test]
    fn history_keeps_per_key_lists() {
        let mut h = History::default();
        let mut a = Logs::new();
        a.set("loss", 1.0).unwrap();
        h.record(0, &a);
        a.set("val_loss", 3.0).unwrap();
        h.record(1, &a);
        assert_eq!(h["loss"], [1.0, 1.0]);
        assert_eq!(h["val_loss"], [3.0]);
        assert_eq!(h.last("val_loss"), Some(3.0));
        assert_eq!(h.keys().collect::<std::vec::Vec<_>>(), ["loss", "val_loss"]);
    }
}
