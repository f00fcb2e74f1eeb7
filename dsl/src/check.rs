//! Stage 3: shape inference through the layers, with every error spanned on the layer at fault.

use crate::ctxt::Ctxt;
use crate::layers::fmt_shape;
use crate::model::Model;

/// Keras shapes (no batch axis): `shapes[0]` is the model input, `shapes[i + 1]` the output of
/// layer `i`. `None` when a shape rule failed (the error is recorded in `cx`).
pub fn infer(model: &Model, cx: &Ctxt) -> Option<Vec<Vec<usize>>> {
    // Rules about a layer's place (Embedding first, return_state last) need no shapes.
    let count = model.layers.len();
    for (i, layer) in model.layers.iter().enumerate() {
        if let Some(Err(e)) = layer.spec.as_ref().map(|s| s.check_position(i, count)) {
            cx.error_at(e.span, e.message);
        }
    }
    let mut shapes = vec![model.input_shape.clone()?];
    for (i, layer) in model.layers.iter().enumerate() {
        let spec = layer.spec.as_ref()?;
        let input = shapes.last().expect("starts with the input");
        let context = match i {
            0 => format!("input {} is the model input", fmt_shape(input)),
            _ => format!(
                "input {} is the output of `{}`",
                fmt_shape(input),
                model.layers[i - 1].name
            ),
        };
        match spec.output_shape(input) {
            Ok(out) if out.iter().all(|&d| d > 0) => shapes.push(out),
            Ok(out) => {
                cx.error_at(
                    layer.span,
                    format!(
                        "{} would output the empty shape {} from {context}",
                        spec.class(),
                        fmt_shape(&out)
                    ),
                );
                return None;
            }
            Err(e) => {
                let hint = if e.wants_sequence {
                    sequence_hint(model, &shapes, i)
                } else {
                    None
                };
                let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
                cx.error_at(e.span, format!("{} ({context}){hint}", e.message));
                return None;
            }
        }
    }
    Some(shapes)
}

/// Why layer `i`'s input is not a sequence, if an earlier layer of the same output rank dropped
/// the time axis (an RNN without `return_sequences`, possibly followed by Dense or Dropout).
fn sequence_hint(model: &Model, shapes: &[Vec<usize>], i: usize) -> Option<String> {
    let rank = shapes[i].len();
    (0..i)
        .rev()
        .take_while(|&j| shapes[j + 1].len() == rank)
        .find_map(|j| {
            let layer = &model.layers[j];
            layer.spec.as_ref()?.sequence_hint(&layer.name)
        })
}
