//! The closing `Model(inputs = …, outputs = …)` line and the checks that need the whole graph
//! (unused inputs, layers and values; the inputs' order).

use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::functional::{Binding, Functional};
use super::graph_calls::model_value;
use super::{Input, Value};
use crate::parse::{self};

impl<'m> Functional<'m> {
    /// `Model(inputs = …, outputs = …)`.
    pub(super) fn model_line(&mut self, expr: &Expr) {
        let cx = self.cx;
        if let Some(span) = self.saw_model {
            let _ = span;
            cx.error_spanned_by(expr, "the model is declared twice");
            return;
        }
        self.saw_model = Some(expr.span());
        let Expr::Call(call) = model_value(expr) else {
            return;
        };
        let args = match parse::call_args(call) {
            Ok(a) => a,
            Err(e) => {
                cx.push(e);
                return;
            }
        };
        let mut inputs = None;
        let mut outputs = None;
        for (i, arg) in args.iter().enumerate() {
            match (arg.key.as_ref().map(Ident::to_string).as_deref(), i) {
                (Some("inputs"), _) | (None, 0) => inputs = Some(&arg.value),
                (Some("outputs"), _) | (None, 1) => outputs = Some(&arg.value),
                (Some("name" | "trainable"), _) => {}
                _ => {
                    cx.error_spanned_by(&arg.expr, "`Model` takes `inputs`, `outputs` (and `name`)")
                }
            }
        }
        let (Some(inputs), Some(outputs)) = (inputs, outputs) else {
            cx.error_spanned_by(
                expr,
                "the model line names its inputs and outputs: `Model(inputs = x, outputs = y)`",
            );
            return;
        };
        let items = |e: &'_ Expr| -> Vec<Expr> {
            match e {
                Expr::Array(a) => a.elems.iter().cloned().collect(),
                Expr::Tuple(t) => t.elems.iter().cloned().collect(),
                other => vec![other.clone()],
            }
        };
        for item in items(inputs) {
            let Some(values) = self.tensor(&item) else {
                continue;
            };
            match values.as_slice() {
                [Value::Input(i)] => {
                    if self.listed.contains(i) {
                        cx.error_spanned_by(&item, "this input is listed twice");
                    }
                    self.listed.push(*i);
                }
                _ => cx.error_spanned_by(
                    &item,
                    "a model input must be an `Input(…)`; this is a layer's output",
                ),
            }
        }
        for item in items(outputs) {
            let Some(values) = self.tensor(&item) else {
                continue;
            };
            self.model.outputs.extend(values);
        }
    }

    /// The checks that need the whole graph: the model line, unused inputs, layers and values.
    pub(super) fn finish(self) {
        let cx = self.cx;
        let Some(_) = self.saw_model else {
            cx.error_spanned_by(
                &self.model.ident,
                "the functional form ends with the model line: `Model(inputs = …, outputs = …);`",
            );
            return;
        };
        // Unused inputs, layers and values are often the echo of an earlier error (a call that
        // failed reads nothing): report them only on an otherwise clean declaration.
        let echo = cx.has_errors();
        // Inputs in the order the model line lists them.
        for (i, input) in self.model.inputs.iter().enumerate() {
            if !self.listed.contains(&i) {
                cx.error_at(
                    input.span,
                    format!(
                        "input `{}` is not among the model's inputs: list it in `Model(inputs = [...])`",
                        input.binding.as_deref().unwrap_or(&input.name)
                    ),
                );
            }
        }
        let used: Vec<bool> = (0..self.model.inputs.len())
            .map(|i| {
                self.model
                    .calls
                    .iter()
                    .any(|c| c.inputs.contains(&Value::Input(i)))
                    || self.model.outputs.contains(&Value::Input(i))
            })
            .collect();
        for (i, input) in self.model.inputs.iter().enumerate() {
            if !used[i] && !echo {
                cx.error_at(
                    input.span,
                    format!(
                        "input `{}` is never used: no layer reads it",
                        input.binding.as_deref().unwrap_or(&input.name)
                    ),
                );
            }
        }
        for (l, uses) in self.layer_uses.iter().enumerate() {
            if *uses == 0 && !echo {
                cx.error_at(
                    self.model.layers[l].span,
                    format!(
                        "layer `{}` is never applied to a tensor: call it, `{}(x)`",
                        self.model.layers[l].name, self.model.layers[l].name
                    ),
                );
            }
        }
        // A computed tensor nobody reads and that is not an output: Keras would silently leave
        // its layers out of the model.
        let mut reported = Vec::new();
        let mut all_bound = self.bound.clone();
        for (name, (binding, span)) in &self.scope {
            if let Binding::Tensors(values) = binding {
                all_bound.push((name.clone(), values.clone(), *span));
            }
        }
        for (name, values, span) in all_bound {
            if name.starts_with('_') {
                continue;
            }
            for v in values {
                let read =
                    self.reads.get(&v).copied().unwrap_or(0) > 0 || self.model.outputs.contains(&v);
                if !read && !echo && matches!(v, Value::Call { .. }) && !reported.contains(&v) {
                    reported.push(v);
                    cx.error_at(
                        span,
                        format!(
                            "`{name}` ({}) is never used: pass it on, list it in the model's outputs, or remove it (a name starting with `_` may stay unused)",
                            self.model.describe(v)
                        ),
                    );
                }
            }
        }
        let model = self.model;
        // Reorder the inputs as the model line lists them.
        if self.listed.len() == model.inputs.len() {
            let map: Vec<usize> = (0..model.inputs.len())
                .map(|old| self.listed.iter().position(|&n| n == old).expect("listed"))
                .collect();
            let mut inputs: Vec<Option<Input>> = model.inputs.drain(..).map(Some).collect();
            model.inputs = self
                .listed
                .iter()
                .map(|&old| inputs[old].take().expect("each once"))
                .collect();
            let remap = |v: &mut Value| {
                if let Value::Input(i) = v {
                    *i = map[*i];
                }
            };
            for c in &mut model.calls {
                c.inputs.iter_mut().for_each(remap);
            }
            model.outputs.iter_mut().for_each(remap);
        }
    }
}
