//! `summary()`: the table Keras's `model.summary()` prints, computed at compile time.

/// One row: `name (Class)`, output shape, parameter count.
pub struct Row {
    pub name: String,
    pub class: &'static str,
    pub output: Vec<usize>,
    /// Further outputs (a recurrent layer's states with `return_state`).
    pub extra: Vec<Vec<usize>>,
    pub params: usize,
    /// How many of `params` are non-trainable (moving statistics, frozen layers).
    pub non_trainable: usize,
    /// The "Connected to" column of a functional model's summary (`c1[0][0], re_lu[0][0]`, or
    /// `-` for an input); `None` in a Sequential-like summary.
    pub connected: Option<String>,
}

/// `(None, 4)`, or `[(None, 4), (None, 4)]` for several outputs, as Keras prints them.
fn shapes(row: &Row) -> String {
    let one = |shape: &[usize]| {
        format!(
            "(None, {})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if row.extra.is_empty() {
        return one(&row.output);
    }
    let all: Vec<String> = std::iter::once(&row.output)
        .chain(&row.extra)
        .map(|s| one(s))
        .collect();
    format!("[{}]", all.join(", "))
}

// Inner widths of Keras 3's columns at its default line lengths, what `model.summary()` prints
// on a wide terminal: 88 for a Sequential-like model (three columns), 108 with "Connected to".
const WIDTHS: &[usize] = &[36, 27, 15];
const WIDTHS_FUNCTIONAL: &[usize] = &[29, 25, 15, 26];

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras's `readable_memory_size`.
fn memory(bytes: usize) -> String {
    let mut size = bytes as f64;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

/// Word-wraps `text` into lines of at most `width` characters, cutting an over-long word with
/// an ellipsis, as the `rich` table Keras prints does.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let word = if word.chars().count() > width {
            word.chars().take(width - 1).collect::<String>() + "…"
        } else {
            word.to_string()
        };
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
}

fn rule(widths: &[usize], left: char, fill: char, mid: char, right: char) -> String {
    let mut s = String::new();
    s.push(left);
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            s.push(mid);
        }
        s.extend(std::iter::repeat_n(fill, w + 2));
    }
    s.push(right);
    s
}

fn pad(text: &str, width: usize, right_align: bool) -> String {
    let fill = width.saturating_sub(text.chars().count());
    if right_align {
        format!("{}{text}", " ".repeat(fill))
    } else {
        format!("{text}{}", " ".repeat(fill))
    }
}

/// One table line from its cells, the third (parameter counts) right-aligned.
fn line(widths: &[usize], edge: char, cells: &[&str]) -> String {
    let cells: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (c, &w))| pad(c, w, i == 2))
        .collect();
    format!("{edge} {} {edge}", cells.join(&format!(" {edge} ")))
}

pub fn render(model: &str, rows: &[Row]) -> String {
    let functional = rows.iter().any(|r| r.connected.is_some());
    let widths = if functional {
        WIDTHS_FUNCTIONAL
    } else {
        WIDTHS
    };
    let mut header = vec!["Layer (type)", "Output Shape", "Param #"];
    if functional {
        header.push("Connected to");
    }
    let mut out = vec![format!("Model: \"{model}\"")];
    out.push(rule(widths, '┏', '━', '┳', '┓'));
    out.push(line(widths, '┃', &header));
    out.push(rule(widths, '┡', '━', '╇', '┩'));
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(rule(widths, '├', '─', '┼', '┤'));
        }
        let mut columns = vec![
            wrap(&format!("{} ({})", row.name, row.class), widths[0]),
            wrap(&shapes(row), widths[1]),
            vec![thousands(row.params)],
        ];
        if functional {
            columns.push(wrap(row.connected.as_deref().unwrap_or("-"), widths[3]));
        }
        let height = columns.iter().map(Vec::len).max().unwrap_or(1);
        for j in 0..height {
            let cells: Vec<&str> = columns
                .iter()
                .map(|c| c.get(j).map_or("", String::as_str))
                .collect();
            out.push(line(widths, '│', &cells));
        }
    }
    out.push(rule(widths, '└', '─', '┴', '┘'));
    let total: usize = rows.iter().map(|r| r.params).sum();
    let frozen: usize = rows.iter().map(|r| r.non_trainable).sum();
    out.push(format!(
        " Total params: {} ({})",
        thousands(total),
        memory(total * 4)
    ));
    out.push(format!(
        " Trainable params: {} ({})",
        thousands(total - frozen),
        memory((total - frozen) * 4)
    ));
    out.push(format!(
        " Non-trainable params: {} ({})",
        thousands(frozen),
        memory(frozen * 4)
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_keras_prints_them() {
        assert_eq!(thousands(4102170), "4,102,170");
        assert_eq!(thousands(90), "90");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(memory(0), "0.00 B");
        assert_eq!(memory(4102170 * 4), "15.65 MB");
        assert_eq!(memory(2410 * 4), "9.41 KB");
    }

    #[test]
    fn several_outputs_wrap_like_keras() {
        let row = Row {
            name: "lstm_1".into(),
            class: "LSTM",
            output: vec![3],
            extra: vec![vec![3], vec![3]],
            params: 84,
            non_trainable: 0,
            connected: None,
        };
        let text = render("m", &[row]);
        // As Keras 3.15 prints an LSTM with return_state=True.
        assert!(text.contains(
            "│ lstm_1 (LSTM)                        │ [(None, 3), (None, 3),      │              84 │\n\
             │                                      │ (None, 3)]                  │                 │"
        ), "{text}");
    }

    #[test]
    fn long_names_wrap_like_rich() {
        assert_eq!(
            wrap("a_really_long_layer_name_for_testing_width (Dense)", 36),
            vec!["a_really_long_layer_name_for_testin…", "(Dense)"]
        );
        assert_eq!(wrap("dense_1 (Dense)", 31), vec!["dense_1 (Dense)"]);
    }
}
