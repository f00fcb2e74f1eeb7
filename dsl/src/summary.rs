//! `summary()`: the table Keras's `model.summary()` prints, computed at compile time.

/// One row: `name (Class)`, output shape, parameter count.
pub struct Row {
    pub name: String,
    pub class: &'static str,
    pub output: Vec<usize>,
    /// Further outputs (a recurrent layer's states with `return_state`).
    pub extra: Vec<Vec<usize>>,
    pub params: usize,
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

// Inner widths of Keras 3's three columns for a Sequential model at its default line length
// (88, what `model.summary()` prints on a terminal of 92 columns or more).
const WIDTHS: [usize; 3] = [36, 27, 15];

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

fn rule(left: char, fill: char, mid: char, right: char) -> String {
    let mut s = String::new();
    s.push(left);
    for (i, w) in WIDTHS.iter().enumerate() {
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

pub fn render(model: &str, rows: &[Row]) -> String {
    let mut out = vec![format!("Model: \"{model}\"")];
    out.push(rule('┏', '━', '┳', '┓'));
    out.push(format!(
        "┃ {} ┃ {} ┃ {} ┃",
        pad("Layer (type)", WIDTHS[0], false),
        pad("Output Shape", WIDTHS[1], false),
        pad("Param #", WIDTHS[2], true)
    ));
    out.push(rule('┡', '━', '╇', '┩'));
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(rule('├', '─', '┼', '┤'));
        }
        let names = wrap(&format!("{} ({})", row.name, row.class), WIDTHS[0]);
        let shapes = wrap(&shapes(row), WIDTHS[1]);
        for j in 0..names.len().max(shapes.len()) {
            let params = if j == 0 {
                thousands(row.params)
            } else {
                String::new()
            };
            out.push(format!(
                "│ {} │ {} │ {} │",
                pad(names.get(j).map_or("", String::as_str), WIDTHS[0], false),
                pad(shapes.get(j).map_or("", String::as_str), WIDTHS[1], false),
                pad(&params, WIDTHS[2], true)
            ));
        }
    }
    out.push(rule('└', '─', '┴', '┘'));
    let total: usize = rows.iter().map(|r| r.params).sum();
    out.push(format!(
        " Total params: {} ({})",
        thousands(total),
        memory(total * 4)
    ));
    out.push(format!(
        " Trainable params: {} ({})",
        thousands(total),
        memory(total * 4)
    ));
    out.push(" Non-trainable params: 0 (0.00 B)".to_string());
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
