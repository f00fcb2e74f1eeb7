//! Tensor expressions of the functional form: names, `y[i]`, and layer applications
//! (`Dense(3)(x)`, `d(x)`, `Add()([a, b])`, `add([a, b])`).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use super::functional::{Binding, Functional, MERGE_FUNCTIONS};
use super::{new_layer, Call, Value};
use crate::args::int_value;
use crate::layers;
use crate::parse::{self, LayerCall};
use crate::suggest::did_you_mean;

impl<'m> Functional<'m> {
    /// `Some` when `expr` constructs a layer without applying it: `Dense(3)`, `layers.Dense(3)`.
    pub(super) fn constructor<'e>(&self, expr: &'e Expr) -> Option<&'e syn::ExprCall> {
        let Expr::Call(call) = expr else { return None };
        let name = parse::callee_name(&call.func)?;
        let is_path = matches!(&*call.func, Expr::Path(_) | Expr::Field(_));
        let bound = matches!(&*call.func, Expr::Path(p) if p.path.get_ident().is_some() && self.scope.contains_key(&name.to_string()));
        let merge_fn = MERGE_FUNCTIONS.iter().any(|(f, _)| name == f);
        (is_path && !bound && !merge_fn).then_some(call)
    }

    pub(super) fn create(&mut self, call: &LayerCall) -> Option<usize> {
        let (layer, _args) = new_layer(call, &mut self.names, self.cx)?;
        self.model.layers.push(layer);
        self.layer_uses.push(0);
        Some(self.model.layers.len() - 1)
    }

    /// The values of a tensor expression: a name, `name[i]`, or a layer application.
    pub(super) fn tensor(&mut self, expr: &Expr) -> Option<Vec<Value>> {
        let cx = self.cx;
        match expr {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                self.lookup(ident)
            }
            Expr::Index(index) => {
                let values = self.tensor(&index.expr)?;
                let Some(i) = int_value(&index.index) else {
                    cx.error_spanned_by(&index.index, "expected an integer index");
                    return None;
                };
                match usize::try_from(i).ok().and_then(|i| values.get(i)) {
                    Some(v) => Some(vec![*v]),
                    None => {
                        cx.error_spanned_by(
                            &index.index,
                            format!(
                                "index {i} out of range: the call returns {} tensors",
                                values.len()
                            ),
                        );
                        None
                    }
                }
            }
            Expr::Paren(p) => self.tensor(&p.expr),
            Expr::Group(g) => self.tensor(&g.expr),
            Expr::Call(call) => self.application(call, expr),
            Expr::Array(_) | Expr::Tuple(_) => {
                cx.error_spanned_by(
                    expr,
                    "a list of tensors is only the argument of a merge layer, as in `Add()([a, b])`",
                );
                None
            }
            _ => {
                cx.error_spanned_by(
                    expr,
                    "expected a tensor: a name, or a layer applied to one, such as `Dense(10)(x)`",
                );
                None
            }
        }
    }

    pub(super) fn lookup(&mut self, ident: &Ident) -> Option<Vec<Value>> {
        let cx = self.cx;
        let key = ident.to_string();
        match self.scope.get(&key) {
            Some((Binding::Tensors(values), _)) => {
                let values = values.clone();
                for v in &values {
                    *self.reads.entry(*v).or_insert(0) += 1;
                }
                (!values.is_empty()).then_some(values)
            }
            Some((Binding::Layer(_), _)) => {
                cx.error_spanned_by(
                    ident,
                    format!("`{key}` is a layer, not a tensor: apply it to a tensor, `{key}(x)`"),
                );
                None
            }
            None => {
                let later = self
                    .assigned_at
                    .get(&key)
                    .is_some_and(|at| at.iter().any(|&i| i >= self.current));
                if later {
                    cx.error_spanned_by(
                        ident,
                        format!("`{key}` is used before it is assigned: each name must be assigned above its first use (a model cannot read its own later outputs)"),
                    );
                } else {
                    let names: Vec<String> = self.scope.keys().cloned().collect();
                    cx.error_spanned_by(
                        ident,
                        format!(
                            "undefined name `{key}`{}",
                            did_you_mean(&key, names.iter().map(String::as_str))
                        ),
                    );
                }
                None
            }
        }
    }

    /// `Dense(3)(x)`, `d(x)`, `Add()([a, b])`, `add([a, b])`.
    fn application(&mut self, call: &syn::ExprCall, expr: &Expr) -> Option<Vec<Value>> {
        let cx = self.cx;
        let callee = parse::callee_name(&call.func).cloned();
        let merge_class = match &*call.func {
            Expr::Path(p)
                if !self.scope.contains_key(&callee.as_ref()?.to_string())
                    || p.path.get_ident().is_none() =>
            {
                MERGE_FUNCTIONS
                    .iter()
                    .find(|(f, _)| callee.as_ref().is_some_and(|c| c == f))
                    .map(|(_, class)| *class)
            }
            _ => None,
        };
        // The layer applied, created first as Python evaluates the callee before the arguments
        // (which fixes the automatic names); a merge function creates its layer afterwards.
        let mut args = match parse::call_args(call) {
            Ok(a) => a,
            Err(e) => {
                cx.push(e);
                return None;
            }
        };
        let layer = match (&*call.func, merge_class) {
            (_, Some(_)) => None,
            (Expr::Call(_), None) => {
                let layer_call = match parse::layer_call(&call.func) {
                    Ok(c) => c,
                    Err(e) => {
                        cx.push(e);
                        return None;
                    }
                };
                Some(self.create(&layer_call)?)
            }
            (Expr::Path(p), None) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                match self.scope.get(&ident.to_string()) {
                    Some((Binding::Layer(l), _)) => Some(*l),
                    Some((Binding::Tensors(_), _)) => {
                        cx.error_spanned_by(
                            ident,
                            format!("`{ident}` is a tensor, not a layer: apply a layer to it, `Dense(10)({ident})`"),
                        );
                        return None;
                    }
                    None if layers::lookup(&ident.to_string()).is_some() => {
                        cx.error_spanned_by(
                            expr,
                            format!("`{ident}(…)` creates a layer; apply it to a tensor with a second call: `{ident}(…)(x)`"),
                        );
                        return None;
                    }
                    None => {
                        self.lookup(ident);
                        return None;
                    }
                }
            }
            _ => {
                cx.error_spanned_by(
                    &call.func,
                    "expected a layer: `Dense(10)(x)`, or a name bound to one, `d(x)`",
                );
                return None;
            }
        };
        // `training = …` is accepted as Keras code passes it (inference ignores it).
        args.retain(|a| a.key.as_ref().is_none_or(|k| k != "training"));
        let (inputs, list, rest) = match merge_class {
            Some(_) => {
                let Some((first, rest)) = args.split_first() else {
                    cx.error_spanned_by(
                        expr,
                        "a merge function takes the list of tensors to merge: `add([a, b])`",
                    );
                    return None;
                };
                if first.key.as_ref().is_some_and(|k| k != "inputs") {
                    cx.error_spanned_by(
                        &first.expr,
                        "the first argument is the list of tensors to merge",
                    );
                    return None;
                }
                (&first.value, true, rest.iter().collect::<Vec<_>>())
            }
            None => match args.as_slice() {
                [one] if one.key.as_ref().is_none_or(|k| k == "inputs") => {
                    (&one.value, matches!(one.value, Expr::Array(_)), Vec::new())
                }
                [] => {
                    cx.error_spanned_by(expr, "apply the layer to a tensor: `(x)`");
                    return None;
                }
                [_, second, ..] => {
                    cx.error_spanned_by(
                        &second.expr,
                        "a layer takes one tensor, or one list of tensors for a merge layer: `Add()([a, b])`",
                    );
                    return None;
                }
                [other] => {
                    cx.error_spanned_by(
                        &other.expr,
                        "unknown call argument: a layer is applied to one tensor (`training = …` is accepted and ignored)",
                    );
                    return None;
                }
            },
        };
        let values = match inputs {
            Expr::Array(items) => {
                let mut values = Vec::new();
                let mut ok = true;
                for item in &items.elems {
                    match self.tensor(item) {
                        Some(v) if v.len() == 1 => values.push(v[0]),
                        Some(v) => {
                            cx.error_spanned_by(
                                item,
                                format!("this names {} tensors; pick one with `[i]`", v.len()),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                values
            }
            other => {
                let v = self.tensor(other)?;
                if v.len() != 1 {
                    cx.error_spanned_by(
                        other,
                        format!("this names {} tensors; pick one with `[i]`", v.len()),
                    );
                    return None;
                }
                v
            }
        };
        let layer = match (layer, merge_class) {
            (Some(l), _) => l,
            (None, Some(class)) => {
                // `add([a, b], name = "…")` is `Add(name = "…")([a, b])`.
                let kwargs: Vec<String> = rest
                    .iter()
                    .map(|a| quote::ToTokens::to_token_stream(&a.expr).to_string())
                    .collect();
                let text = format!("{class}({})", kwargs.join(", "));
                let Ok(mut ctor) = syn::parse_str::<Expr>(&text) else {
                    cx.error_spanned_by(expr, "cannot read the merge function's arguments");
                    return None;
                };
                respan_expr(&mut ctor, call.func.span());
                let layer_call = match parse::layer_call(&ctor) {
                    Ok(c) => c,
                    Err(e) => {
                        cx.push(e);
                        return None;
                    }
                };
                self.create(&layer_call)?
            }
            (None, None) => return None,
        };
        self.layer_uses[layer] += 1;
        let outputs = 1 + self.model.layers[layer]
            .spec
            .as_ref()
            .map_or(0, |s| s.extra_outputs().len());
        self.model.calls.push(Call {
            layer,
            inputs: values,
            list,
            outputs,
            span: expr.span(),
        });
        let call = self.model.calls.len() - 1;
        Some(
            (0..outputs)
                .map(|output| Value::Call { call, output })
                .collect(),
        )
    }
}

/// `Model(…)`, `keras.Model(…)`, `models.Model(…)`, `Functional(…)`, or `model = Model(…)`.
pub(super) fn model_call(expr: &Expr) -> Option<String> {
    let Expr::Call(call) = model_value(expr) else {
        return None;
    };
    let name = parse::callee_name(&call.func)?.to_string();
    matches!(name.as_str(), "Model" | "Functional").then_some(name)
}

pub(super) fn model_value(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => model_value(&g.expr),
        other => other,
    }
}

/// Gives every token of `expr` `span`, so errors about a synthesized call land on the user's.
pub(super) fn respan_expr(expr: &mut Expr, span: Span) {
    let tokens = quote::ToTokens::to_token_stream(expr);
    let respanned: proc_macro2::TokenStream = tokens
        .into_iter()
        .map(|mut tt| {
            respan_tree(&mut tt, span);
            tt
        })
        .collect();
    if let Ok(e) = syn::parse2(respanned) {
        *expr = e;
    }
}

fn respan_tree(tt: &mut proc_macro2::TokenTree, span: Span) {
    match tt {
        proc_macro2::TokenTree::Group(g) => {
            let inner: proc_macro2::TokenStream = g
                .stream()
                .into_iter()
                .map(|mut t| {
                    respan_tree(&mut t, span);
                    t
                })
                .collect();
            let mut group = proc_macro2::Group::new(g.delimiter(), inner);
            group.set_span(span);
            *g = group;
        }
        other => other.set_span(span),
    }
}
