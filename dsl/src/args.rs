//! Binding a layer call's arguments to a Keras signature, and reading typed values out of them.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, Lit, UnOp};

use crate::ctxt::Ctxt;
use crate::parse::LayerCall;
use crate::suggest::did_you_mean;

/// How a parameter of a Keras signature is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Must be given.
    Required,
    /// Has a Keras default.
    Optional,
    /// Accepted so Keras code pastes in, with no effect at inference (initializers,
    /// regularizers, constraints). Its value is not read.
    Ignored,
}

/// One parameter of a Keras signature.
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
}

/// Shorthands for signature tables.
pub const fn req(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Required,
    }
}
pub const fn opt(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Optional,
    }
}
pub const fn ignored(name: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Ignored,
    }
}

/// Keyword arguments every layer accepts (Keras's base `Layer`), never positionally.
const COMMON: &[Param] = &[
    opt("name"),
    opt("input_shape"),
    opt("input_dim"),
    opt("dtype"),
    ignored("trainable"),
    ignored("autocast"),
    ignored("activity_regularizer"),
];

/// A layer call's arguments bound to names.
pub struct Args<'a> {
    pub call: &'a LayerCall,
    pub cx: &'a Ctxt,
    values: Vec<(&'static str, &'a Expr)>,
}

impl<'a> Args<'a> {
    /// Binds positional arguments in signature order and keyword arguments by name, reporting
    /// unknown, duplicate, surplus and missing arguments.
    pub fn bind(call: &'a LayerCall, signature: &[Param], cx: &'a Ctxt) -> Args<'a> {
        let class = call.class.to_string();
        let mut values: Vec<(&'static str, &'a Expr)> = Vec::new();
        // Keras's positional order holds until the first ignored parameter (an initializer):
        // binding later ones by position would shift them.
        let mut positional = signature.iter().take_while(|p| p.kind != Kind::Ignored);
        let mut saw_keyword = false;
        for arg in &call.args {
            let param = match &arg.key {
                None => {
                    if saw_keyword {
                        cx.error_spanned_by(
                            &arg.expr,
                            "positional argument after a keyword argument",
                        );
                        continue;
                    }
                    match positional.next() {
                        Some(p) => p,
                        None => {
                            cx.error_spanned_by(
                                &arg.expr,
                                format!(
                                    "{class} takes at most {} positional argument{}",
                                    signature
                                        .iter()
                                        .take_while(|p| p.kind != Kind::Ignored)
                                        .count(),
                                    if signature.len() == 1 { "" } else { "s" }
                                ),
                            );
                            continue;
                        }
                    }
                }
                Some(key) => {
                    saw_keyword = true;
                    let key_str = key.to_string();
                    match signature.iter().chain(COMMON).find(|p| p.name == key_str) {
                        Some(p) => p,
                        None => {
                            let names = signature.iter().chain(COMMON).map(|p| p.name);
                            cx.error_spanned_by(
                                key,
                                format!(
                                    "unknown argument `{key_str}` for {class}{}",
                                    did_you_mean(&key_str, names)
                                ),
                            );
                            continue;
                        }
                    }
                }
            };
            if values.iter().any(|(n, _)| *n == param.name) {
                cx.error_spanned_by(
                    &arg.expr,
                    format!("duplicate argument `{}` for {class}", param.name),
                );
                continue;
            }
            values.push((param.name, &arg.value));
        }
        for p in signature.iter().filter(|p| p.kind == Kind::Required) {
            if !values.iter().any(|(n, _)| *n == p.name) {
                cx.error_spanned_by(
                    &call.expr,
                    format!("{class} is missing its required argument `{}`", p.name),
                );
            }
        }
        Args { call, cx, values }
    }

    /// The expression given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&'a Expr> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, e)| *e)
    }

    /// Span of the argument `name`, or of the whole call when it was not given.
    pub fn span_of(&self, name: &str) -> Span {
        self.get(name)
            .map_or_else(|| self.call.span(), Spanned::span)
    }

    fn wrong_type(&self, name: &str, expr: &Expr, expected: &str) {
        self.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of {} expects {expected}, found `{}`",
                self.call.class,
                expr.to_token_stream()
            ),
        );
    }

    /// A Python `None` (or absent) argument reads as `None` here.
    pub fn is_none(&self, name: &str) -> bool {
        self.get(name).is_none_or(is_none)
    }

    /// An integer argument, with `default` when absent.
    pub fn int(&self, name: &str, default: Option<i64>) -> Option<i64> {
        let Some(expr) = self.get(name) else {
            return default;
        };
        match int_value(expr) {
            Some(v) => Some(v),
            None => {
                self.wrong_type(name, expr, "an integer");
                None
            }
        }
    }

    /// A strictly positive integer.
    pub fn positive(&self, name: &str, default: Option<usize>) -> Option<usize> {
        let value = self.int(name, default.map(|d| d as i64))?;
        if value <= 0 {
            let expected = "a positive integer";
            self.cx.error_at(
                self.span_of(name),
                format!(
                    "`{name}` of {} must be {expected}, found {value}",
                    self.call.class
                ),
            );
            return None;
        }
        Some(value as usize)
    }

    /// A float (an integer literal is accepted, as in Python).
    pub fn float(&self, name: &str, default: Option<f64>) -> Option<f64> {
        let Some(expr) = self.get(name) else {
            return default;
        };
        match float_value(expr) {
            Some(v) => Some(v),
            None => {
                self.wrong_type(name, expr, "a number");
                None
            }
        }
    }

    /// A boolean: `True`/`False` or `true`/`false`.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        let Some(expr) = self.get(name) else {
            return default;
        };
        match bool_value(expr) {
            Some(v) => v,
            None => {
                self.wrong_type(name, expr, "`True` or `False`");
                default
            }
        }
    }

    /// A string literal (`None` when absent or `None`).
    pub fn string(&self, name: &str) -> Option<(String, Span)> {
        let expr = self.get(name)?;
        if is_none(expr) {
            return None;
        }
        match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some((s.value(), s.span())),
            _ => {
                self.wrong_type(name, expr, "a string in double quotes");
                None
            }
        }
    }

    /// An int or a tuple of `rank` positive ints, expanded as Keras does (`3` → `(3, 3)`).
    pub fn int_tuple(&self, name: &str, rank: usize, default: Option<usize>) -> Option<Vec<usize>> {
        let Some(expr) = self.get(name).filter(|e| !is_none(e)) else {
            return default.map(|d| vec![d; rank]);
        };
        let expected = if rank == 1 {
            "a positive integer or a 1-tuple".to_string()
        } else {
            format!("a positive integer or a tuple of {rank} positive integers")
        };
        let values = match int_value(expr) {
            Some(v) => vec![v; rank],
            None => match tuple_items(expr) {
                Some(items) if items.len() == rank => {
                    let ints: Option<Vec<i64>> = items.iter().map(|e| int_value(e)).collect();
                    match ints {
                        Some(ints) => ints,
                        None => {
                            self.wrong_type(name, expr, &expected);
                            return None;
                        }
                    }
                }
                _ => {
                    self.wrong_type(name, expr, &expected);
                    return None;
                }
            },
        };
        if values.iter().any(|&v| v <= 0) {
            self.cx.error_spanned_by(
                expr,
                format!(
                    "`{name}` of {} must be positive, found {values:?}",
                    self.call.class
                ),
            );
            return None;
        }
        Some(values.into_iter().map(|v| v as usize).collect())
    }

    /// A tuple (or list) of integers, any length (`Reshape` targets, shapes). An int alone is a
    /// 1-tuple.
    pub fn int_list(&self, name: &str) -> Option<Vec<i64>> {
        let expr = self.get(name)?;
        if let Some(v) = int_value(expr) {
            return Some(vec![v]);
        }
        let items = tuple_items(expr).and_then(|items| {
            items
                .iter()
                .map(|e| int_value(e))
                .collect::<Option<Vec<i64>>>()
        });
        if items.is_none() {
            self.wrong_type(name, expr, "a tuple of integers");
        }
        items
    }
}

/// Whether `expr` is Python's `None`.
pub fn is_none(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(p) if p.path.is_ident("None"))
}

/// `3`, `-1`, `(3)`.
pub fn int_value(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => int_value(&u.expr).map(|v| -v),
        Expr::Paren(p) => int_value(&p.expr),
        Expr::Group(g) => int_value(&g.expr),
        _ => None,
    }
}

/// `0.5`, `1`, `-2.0`, `1e-3`.
pub fn float_value(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse().ok(),
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<i64>().ok().map(|v| v as f64),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => float_value(&u.expr).map(|v| -v),
        Expr::Paren(p) => float_value(&p.expr),
        Expr::Group(g) => float_value(&g.expr),
        _ => None,
    }
}

/// `True`, `False`, `true`, `false`.
pub fn bool_value(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Bool(b), ..
        }) => Some(b.value),
        Expr::Path(p) if p.path.is_ident("True") => Some(true),
        Expr::Path(p) if p.path.is_ident("False") => Some(false),
        _ => None,
    }
}

/// The items of `(a, b)`, `[a, b]` or `(a,)`.
pub fn tuple_items(expr: &Expr) -> Option<Vec<&Expr>> {
    match expr {
        Expr::Tuple(t) => Some(t.elems.iter().collect()),
        Expr::Array(a) => Some(a.elems.iter().collect()),
        Expr::Group(g) => tuple_items(&g.expr),
        _ => None,
    }
}
