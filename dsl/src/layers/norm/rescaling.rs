//! `Rescaling(scale, offset=0.0)` with scalar values.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{BinOp, Expr, UnOp};

use super::f32_lit;
use crate::args::{float_value, opt, req, Args};
use crate::layers::{rt, Cfg, Entry, LayerSpec, Memory, ShapeError};

struct Rescaling {
    scale: f64,
    offset: f64,
}

/// A number, or arithmetic on numbers as Python evaluates it in f64 (`1.0 / 255`,
/// `1 / 127.5`, `-(2 * 0.5)`).
fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Binary(b) => {
            let (l, r) = (number(&b.left)?, number(&b.right)?);
            match b.op {
                BinOp::Add(_) => Some(l + r),
                BinOp::Sub(_) => Some(l - r),
                BinOp::Mul(_) => Some(l * r),
                BinOp::Div(_) if r != 0.0 => Some(l / r),
                _ => None,
            }
        }
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => number(&u.expr).map(|v| -v),
        Expr::Paren(p) => number(&p.expr),
        Expr::Group(g) => number(&g.expr),
        _ => float_value(expr),
    }
}

/// A finite scalar argument; Keras also takes per-channel lists, which static-keras does not.
fn scalar(args: &Args, name: &str, default: Option<f64>) -> Option<f64> {
    let Some(expr) = args.get(name) else {
        return default;
    };
    match number(expr).filter(|v| v.is_finite()) {
        Some(v) => Some(v),
        None => {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`{name}` of Rescaling expects a number (static-keras supports scalar scale and offset), found `{}`",
                    expr.to_token_stream()
                ),
            );
            None
        }
    }
}

pub const RESCALING: Entry = Entry {
    class: "Rescaling",
    signature: &[req("scale"), opt("offset")],
    build: |args| {
        let scale = scalar(args, "scale", None);
        let offset = scalar(args, "offset", Some(0.0));
        Some(Box::new(Rescaling {
            scale: scale?,
            offset: offset?,
        }))
    },
};

impl LayerSpec for Rescaling {
    fn class(&self) -> &'static str {
        "Rescaling"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("scale", Cfg::Float(self.scale)),
            ("offset", Cfg::Float(self.offset)),
        ]
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn field_type(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Rescaling)
    }

    fn init(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (scale, offset) = (f32_lit(self.scale), f32_lit(self.offset));
        quote!(#rt::Rescaling::new(#scale, #offset))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    /// Each value maps over itself.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }

    fn forward(&self, _f: crate::layers::Forward) -> crate::layers::Pass {
        crate::layers::Pass::Layer(crate::layers::Run::BatchedInto)
    }
}
