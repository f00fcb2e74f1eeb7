//! Stage 3: shape inference over the graph, with every error spanned on the call at fault and
//! naming where each input came from.

use crate::ctxt::Ctxt;
use crate::layers::{fmt_shape, Operand};
use crate::model::{Model, Value};

/// Keras shapes (no batch axis) of every value of a checked model.
pub struct Shapes {
    pub inputs: Vec<Vec<usize>>,
    /// Per call, the shape of each of its outputs.
    pub calls: Vec<Vec<Vec<usize>>>,
}

impl Shapes {
    pub fn of(&self, value: Value) -> &[usize] {
        match value {
            Value::Input(i) => &self.inputs[i],
            Value::Call { call, output } => &self.calls[call][output],
        }
    }

    /// The shape of a call's first input (what a layer's weights are sized by).
    pub fn input_of(&self, model: &Model, call: usize) -> &[usize] {
        self.of(model.calls[call].inputs[0])
    }

    /// The shape of a call's main output.
    pub fn output_of(&self, call: usize) -> &[usize] {
        &self.calls[call][0]
    }
}

/// Infers every shape; `None` when a rule failed (each failure is recorded in `cx`, and
/// independent branches are still checked so that one build reports them all).
pub fn infer(model: &Model, cx: &Ctxt) -> Option<Shapes> {
    let inputs: Vec<Option<Vec<usize>>> = model.inputs.iter().map(|i| i.shape.clone()).collect();
    let mut calls: Vec<Option<Vec<Vec<usize>>>> = Vec::with_capacity(model.calls.len());
    let shape_of = |calls: &[Option<Vec<Vec<usize>>>], v: Value| -> Option<Vec<usize>> {
        match v {
            Value::Input(i) => inputs[i].clone(),
            Value::Call { call, output } => calls[call].as_ref().map(|o| o[output].clone()),
        }
    };
    // The field a layer's first call sized, which its later calls must fit.
    let mut field_types: Vec<Option<(String, Vec<usize>)>> = vec![None; model.layers.len()];
    for (index, call) in model.calls.iter().enumerate() {
        let layer = &model.layers[call.layer];
        let Some(spec) = layer.spec.as_ref() else {
            calls.push(None);
            continue;
        };
        // Rules about what a layer may read: token ids only into Embedding, straight from an
        // input; a Sequential `return_state` layer only last.
        let reads_input = matches!(call.inputs.as_slice(), [Value::Input(_)]);
        let (position, count) = if model.functional {
            let p = usize::from(!reads_input);
            (p, p + 1)
        } else {
            (index, model.calls.len())
        };
        if let Err(e) = spec.check_position(position, count) {
            cx.error_at(e.span, e.message);
        }
        for v in &call.inputs {
            if let Value::Input(i) = v {
                if model.inputs[*i].ids && spec.token_input().is_none() {
                    cx.error_at(
                        call.span,
                        format!(
                            "{} reads {}, which holds token ids (`dtype = \"int32\"`); only an Embedding reads token ids",
                            spec.class(),
                            model.describe(*v)
                        ),
                    );
                } else if !model.inputs[*i].ids && spec.token_input().is_some() && model.functional
                {
                    cx.error_at(
                        call.span,
                        format!(
                            "Embedding reads token ids: declare {} with `dtype = \"int32\"`",
                            model.describe(*v)
                        ),
                    );
                }
            }
        }
        let shapes: Option<Vec<Vec<usize>>> =
            call.inputs.iter().map(|&v| shape_of(&calls, v)).collect();
        let Some(shapes) = shapes else {
            calls.push(None);
            continue;
        };
        let operand = |k: usize| Operand {
            shape: shapes[k].clone(),
            origin: model.describe(call.inputs[k]),
        };
        let result = if spec.merge() {
            if !call.list {
                cx.error_at(
                    call.span,
                    format!(
                        "{} merges a list of tensors: `{}()([a, b])`",
                        spec.class(),
                        spec.class()
                    ),
                );
                calls.push(None);
                continue;
            }
            let operands: Vec<Operand> = (0..shapes.len()).map(operand).collect();
            spec.merge_shape(&operands, call.span).map(|out| (out, 0))
        } else {
            if call.list || shapes.len() != 1 {
                cx.error_at(
                    call.span,
                    format!(
                        "{} takes one tensor, not a list (only merge layers such as `Add` take a list)",
                        spec.class()
                    ),
                );
                calls.push(None);
                continue;
            }
            spec.output_shape(&shapes[0]).map(|out| (out, 0))
        };
        let context = if spec.merge() {
            String::new()
        } else {
            format!(
                " (input {} is {})",
                fmt_shape(&shapes[0]),
                model.describe(call.inputs[0])
            )
        };
        match result {
            Ok((out, _)) if out.iter().all(|&d| d > 0) => {
                let ty = spec.field_type(&shapes[0], &out).to_string();
                match &field_types[call.layer] {
                    Some((first, first_input)) if *first != ty => {
                        cx.error_at(
                            call.span,
                            format!(
                                "shared layer `{}` is applied to {} here but to {} at its first call; its weights fit one input shape",
                                layer.name,
                                fmt_shape(&shapes[0]),
                                fmt_shape(first_input)
                            ),
                        );
                    }
                    Some(_) => {}
                    None => field_types[call.layer] = Some((ty, shapes[0].clone())),
                }
                let mut outputs = vec![out];
                outputs.extend(spec.extra_output_shapes(&shapes[0]));
                calls.push(Some(outputs));
            }
            Ok((out, _)) => {
                cx.error_at(
                    layer.span,
                    format!(
                        "{} would output the empty shape {}{context}",
                        spec.class(),
                        fmt_shape(&out)
                    ),
                );
                calls.push(None);
            }
            Err(e) => {
                let hint = if e.wants_sequence {
                    sequence_hint(model, &calls, call.inputs[0])
                } else {
                    None
                };
                let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
                cx.error_at(e.span, format!("{}{context}{hint}", e.message));
                calls.push(None);
            }
        }
    }
    let inputs: Option<Vec<Vec<usize>>> = inputs.into_iter().collect();
    let calls: Option<Vec<Vec<Vec<usize>>>> = calls.into_iter().collect();
    Some(Shapes {
        inputs: inputs?,
        calls: calls?,
    })
}

/// Why a value is not a sequence, if a layer it came through (keeping the rank) dropped the
/// time axis: an RNN without `return_sequences`, possibly followed by Dense or Dropout.
fn sequence_hint(
    model: &Model,
    calls: &[Option<Vec<Vec<usize>>>],
    mut value: Value,
) -> Option<String> {
    let rank = |v: Value| match v {
        Value::Input(i) => model.inputs[i].shape.as_ref().map(Vec::len),
        Value::Call { call, output } => calls[call].as_ref().map(|o| o[output].len()),
    };
    let want = rank(value)?;
    while let Value::Call { call, .. } = value {
        let c = &model.calls[call];
        let layer = &model.layers[c.layer];
        if let Some(hint) = layer.spec.as_ref()?.sequence_hint(&layer.name) {
            return Some(hint);
        }
        value = *c.inputs.first()?;
        if rank(value)? != want {
            return None;
        }
    }
    None
}
