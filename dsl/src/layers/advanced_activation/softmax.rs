//! `Softmax(axis=-1)`: any axis, or a tuple of axes.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::args::{int_value, opt, tuple_items};
use crate::layers::{
    dims, fmt_shape, lit, rt, Cfg, Entry, Forward, LayerSpec, Pass, Run, ShapeError,
};

struct Softmax {
    /// Keras axes as written (batch = 0, negative from the end).
    axes: Vec<i64>,
    /// Given as a tuple or list (the config then holds a list).
    listed: bool,
    axis_span: Span,
    span: Span,
}

pub const SOFTMAX: Entry = Entry {
    class: "Softmax",
    signature: &[opt("axis")],
    build: |args| {
        let span = args.call.span();
        let Some(expr) = args.get("axis") else {
            return Some(Box::new(Softmax {
                axes: vec![-1],
                listed: false,
                axis_span: span,
                span,
            }));
        };
        let (axes, listed) = match int_value(expr) {
            Some(v) => (Some(vec![v]), false),
            None => (
                tuple_items(expr).and_then(|items| items.into_iter().map(int_value).collect()),
                true,
            ),
        };
        match axes {
            Some(axes) if !axes.is_empty() => Some(Box::new(Softmax {
                axes,
                listed,
                axis_span: expr.span(),
                span,
            })),
            _ => {
                args.cx.error_spanned_by(
                    expr,
                    format!(
                        "`axis` of Softmax expects an axis or a non-empty tuple of axes, found `{}`",
                        quote!(#expr)
                    ),
                );
                None
            }
        }
    },
};

impl Softmax {
    /// The axes as indices into the input shape (0-based, batch excluded).
    fn resolved(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let rank = input.len() as i64;
        let mut out = Vec::new();
        for &axis in &self.axes {
            let resolved = if axis < 0 { axis + rank + 1 } else { axis };
            let error = |why: String| {
                Err(ShapeError::new(
                    self.axis_span,
                    format!("Softmax axis {axis} {why}"),
                ))
            };
            if resolved == 0 {
                return error(
                    "is the batch axis; static-keras computes each sample on its own".into(),
                );
            }
            if !(1..=rank).contains(&resolved) {
                return error(format!(
                    "is out of range: an input of rank {rank} has axes 1 to {rank} (or -1 to -{rank}) after the batch axis 0"
                ));
            }
            let index = (resolved - 1) as usize;
            if out.contains(&index) {
                return error(format!("names axis {resolved} a second time"));
            }
            out.push(index);
        }
        Ok(out)
    }
}

impl LayerSpec for Softmax {
    fn class(&self) -> &'static str {
        "Softmax"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let axes = self.resolved(input)?;
        let max = static_keras_runtime::MAX_RANK;
        if input.len() > max && axes != [input.len() - 1] {
            return Err(ShapeError::new(
                self.axis_span,
                format!(
                    "Softmax along axes other than the last supports inputs of up to {max} axes, but its input {} has {}",
                    fmt_shape(input),
                    input.len()
                ),
            ));
        }
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let axis = if self.listed {
            Cfg::Ints(self.axes.clone())
        } else {
            Cfg::Int(self.axes[0])
        };
        vec![("axis", axis)]
    }

    fn field_type(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let (f, p) = dims(input);
        let (f, p) = (lit(f), lit(p));
        quote!(#rt::Softmax<#f, #p>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let axes = self.resolved(input).unwrap_or_default();
        if axes == [input.len() - 1] {
            return quote!(<#ty>::last_axis());
        }
        let shape = input.iter().map(|&d| lit(d));
        // Keras axes (batch = 0), so that a tuple of one stays the plain softmax.
        let axes = axes
            .iter()
            .map(|&a| Literal::isize_unsuffixed(a as isize + 1));
        quote!(<#ty>::new(&[#(#shape),*], &[#(#axes),*]))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    /// Keras's Softmax applies an incoming mask by broadcasting it against the input, which for
    /// the `(batch, steps)` mask of Masking or Embedding fails, or mixes the mask into the
    /// wrong axes depending on the batch size: a compile error here.
    fn forward(&self, f: Forward) -> Pass {
        if f.mask.is_some() {
            let message = "Softmax cannot take the mask that reaches it (from Masking or Embedding(mask_zero = True) \
                           through the layers before it): Keras broadcasts that (batch, steps) mask against the input's \
                           last axes, which raises or mixes it into the wrong axes; use `Activation(\"softmax\")` (which \
                           ignores masks), or place Softmax after a layer that drops the mask (e.g. Flatten, or a \
                           recurrent layer without return_sequences)";
            return Pass::Expr(quote_spanned!(self.span=> ::core::compile_error!(#message)));
        }
        Pass::Layer(Run::PerSample)
    }

    passes_mask!();
}
