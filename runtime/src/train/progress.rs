//! The progress line `fit` prints (`std`), as Keras's `ProgbarLogger` prints it:
//!
//! ```text
//! Epoch 3/10
//! 12/12 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9100 - loss: 0.2300 - val_loss: 0.3100
//! ```
//!
//! Written to stderr (a program's stdout stays its own; Rust's tools put progress there): each
//! line is built in a buffer on the stack and printed with one `eprint!`, so a step stays
//! allocation-free even while the bar moves, and test harnesses capture it. On a terminal, `verbose = 1` redraws the bar in place at most every 50 ms
//! (Keras's interval) with the running figures, colored as Keras colors it; otherwise only the
//! epoch's final line is printed. Plain `write!` is enough for one line per epoch; a crate such
//! as indicatif would add a dependency for what Keras's format already fixes.

use std::fmt::Write;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::Logs;

const WIDTH: usize = 20;
const INTERVAL: Duration = Duration::from_millis(50);

pub(crate) struct Progress {
    verbose: u8,
    epochs: usize,
    steps: usize,
    terminal: bool,
    start: Instant,
    after_first: Option<Instant>,
    last_update: Option<Instant>,
    width: usize,
}

impl Progress {
    pub(crate) fn new(verbose: u8, epochs: usize, steps: usize) -> Self {
        Self {
            verbose,
            epochs,
            steps,
            terminal: verbose == 1 && std::io::stderr().is_terminal(),
            start: Instant::now(),
            after_first: None,
            last_update: None,
            width: 0,
        }
    }

    pub(crate) fn epoch_begin(&mut self, epoch: usize) {
        if self.verbose == 0 {
            return;
        }
        if self.epochs > 1 {
            std::eprintln!("Epoch {}/{}", epoch + 1, self.epochs);
        }
        self.start = Instant::now();
        self.after_first = None;
        self.last_update = None;
        self.width = 0;
    }

    /// After step `current` (from 1), with the running figures.
    pub(crate) fn step(&mut self, current: usize, logs: &Logs) {
        if self.verbose == 0 {
            return;
        }
        let now = Instant::now();
        if current == 1 {
            self.after_first = Some(now);
        }
        if !self.terminal || current == self.steps {
            return;
        }
        if self.last_update.is_some_and(|t| now - t < INTERVAL) {
            return;
        }
        self.last_update = Some(now);
        self.bar(current, now, logs, false);
    }

    pub(crate) fn epoch_end(&mut self, logs: &Logs) {
        match self.verbose {
            0 => {}
            1 => self.bar(self.steps, Instant::now(), logs, true),
            _ => {
                let now = Instant::now();
                let mut line = Line::default();
                let digits = digits(self.steps);
                let _ = write!(
                    line,
                    "{:>digits$}/{} - {:.0}s -",
                    self.steps,
                    self.steps,
                    (now - self.start).as_secs_f64()
                );
                let _ = write_time(&mut line, self.per_step(self.steps, now));
                for (name, value) in logs.iter() {
                    let _ = write!(line, " - {name}: ");
                    let _ = write_value(&mut line, value as f64, value as f64 > 1e-3);
                }
                std::eprintln!("{}", line.as_str());
            }
        }
    }

    /// Keras's `_estimate_step_duration`: the first step (compilation, warm-up) left out.
    fn per_step(&self, current: usize, now: Instant) -> f64 {
        if current == 0 {
            return 0.0;
        }
        match self.after_first {
            Some(t) if current > 1 => (now - t).as_secs_f64() / (current - 1) as f64,
            _ => (now - self.start).as_secs_f64() / current as f64,
        }
    }

    /// The bar line of `verbose = 1`, built on the stack and printed with one `eprint!`.
    fn bar(&mut self, current: usize, now: Instant, logs: &Logs, last: bool) {
        let mut line = Line::default();
        let (bold, green, white, reset) = if self.terminal {
            ("\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        if self.terminal {
            let _ = line.raw("\r");
        }
        let digits = digits(self.steps);
        let filled = WIDTH * current / self.steps.max(1);
        let _ = line.raw(bold);
        let _ = write!(line, "{current:>digits$}/{} ", self.steps);
        let _ = line.raw(reset);
        let _ = line.raw(green);
        for _ in 0..filled {
            let _ = line.write_str("━");
        }
        let _ = line.raw(reset);
        let _ = line.raw(white);
        for _ in filled..WIDTH {
            let _ = line.write_str("━");
        }
        let _ = line.raw(reset);
        let _ = line.raw(bold);
        let per_step = self.per_step(current, now);
        if last {
            let _ = write!(line, " {:.0}s", (now - self.start).as_secs_f64());
        } else {
            let _ = write_eta(&mut line, per_step * (self.steps - current) as f64);
        }
        let _ = line.raw(reset);
        let _ = write_time(&mut line, per_step);
        for (name, value) in logs.iter() {
            let _ = write!(line, " - {name}: ");
            let _ = write_value(&mut line, value as f64, libm::fabs(value as f64) > 1e-3);
        }
        // Blank what a longer previous line left.
        let visible = line.visible;
        for _ in visible..self.width {
            let _ = line.write_str(" ");
        }
        self.width = visible;
        if last {
            std::eprintln!("{}", line.as_str());
        } else {
            std::eprint!("{}", line.as_str());
        }
    }
}

fn digits(n: usize) -> usize {
    n.max(1).ilog10() as usize + 1
}

/// ` 2ms/step`, Keras's `_format_time`.
fn write_time(out: &mut impl Write, per_step: f64) -> std::fmt::Result {
    if per_step >= 1.0 || per_step == 0.0 {
        write!(out, " {per_step:.0}s/step")
    } else if per_step >= 1e-3 {
        write!(out, " {:.0}ms/step", per_step * 1e3)
    } else {
        write!(out, " {:.0}us/step", per_step * 1e6)
    }
}

/// The estimated time left: `1:02:03`, `2:03` or `3s`.
fn write_eta(out: &mut impl Write, eta: f64) -> std::fmt::Result {
    let s = eta as u64;
    if eta > 3600.0 {
        write!(out, " {}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else if eta > 60.0 {
        write!(out, " {}:{:02}", s / 60, s % 60)
    } else {
        write!(out, " {s}s")
    }
}

/// A logged value as Keras prints it: `0.2300`, or `1.2346e-04` when small (`fixed` false).
fn write_value(out: &mut impl Write, value: f64, fixed: bool) -> std::fmt::Result {
    if fixed {
        return write!(out, "{value:.4}");
    }
    // Python's `%.4e`: a signed exponent of at least two digits.
    let mut buf = Line::default();
    write!(buf, "{value:.4e}")?;
    let text = buf.as_str();
    match text.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            write!(out, "{mantissa}e{sign}{digits:0>2}")
        }
        None => write!(out, "{text}"),
    }
}

/// A line of text on the stack (what does not fit is dropped), counting its visible
/// characters (what [`Line::raw`] adds, the terminal's escape codes, does not count).
struct Line {
    bytes: [u8; 1024],
    len: usize,
    visible: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self {
            bytes: [0; 1024],
            len: 0,
            visible: 0,
        }
    }
}

impl Line {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    fn push(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// Text that takes no room on the screen.
    fn raw(&mut self, s: &str) -> std::fmt::Result {
        self.push(s)
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s)?;
        self.visible += s.chars().count();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: f64, fixed: bool) -> std::string::String {
        let mut out = std::string::String::new();
        write_value(&mut out, v, fixed).unwrap();
        out
    }

    #[test]
    fn values_print_as_python_does() {
        assert_eq!(value(0.23, true), "0.2300");
        assert_eq!(value(0.0, false), "0.0000e+00");
        assert_eq!(value(1.23456e-4, false), "1.2346e-04");
        assert_eq!(value(-2.5e-12, false), "-2.5000e-12");
        assert_eq!(value(3.0e120, false), "3.0000e+120");
        let mut out = Line::default();
        write_time(&mut out, 0.0021).unwrap();
        write_time(&mut out, 0.0000213).unwrap();
        write_time(&mut out, 1.4).unwrap();
        write_eta(&mut out, 3725.0).unwrap();
        assert_eq!(out.as_str(), " 2ms/step 21us/step 1s/step 1:02:05");
        assert_eq!(out.visible, out.len);
        let _ = out.raw("\x1b[0m");
        assert_eq!(out.visible + 4, out.len);
        assert_eq!((digits(9), digits(10), digits(12), digits(0)), (1, 2, 2, 1));
    }
}
