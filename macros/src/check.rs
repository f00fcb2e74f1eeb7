//! Stage 3: shape inference through the layers, with every error spanned on the layer at fault.

use crate::ctxt::Ctxt;
use crate::layers::fmt_shape;
use crate::model::Model;

/// Keras shapes (no batch axis): `shapes[0]` is the model input, `shapes[i + 1]` the output of
/// layer `i`. `None` when a shape rule failed (the error is recorded in `cx`).
pub fn infer(model: &Model, cx: &Ctxt) -> Option<Vec<Vec<usize>>> {
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
                cx.error_at(e.span, format!("{} ({context})", e.message));
                return None;
            }
        }
    }
    Some(shapes)
}
