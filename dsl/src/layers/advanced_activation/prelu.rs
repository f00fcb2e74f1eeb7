//! `PReLU(alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
//! shared_axes=None)`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

use crate::args::{ignored, int_value, is_none, opt, tuple_items};
use crate::layers::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};

// --- PReLU ---------------------------------------------------------------------------------

/// The largest input rank (batch excluded) of the runtime `PRelu`.
const PRELU_MAX_RANK: usize = 4;

struct PRelu {
    /// Keras axes (1 = the first after the batch) and the argument's span.
    shared_axes: Option<(Vec<usize>, Span)>,
    span: Span,
}

pub const PRELU: Entry = Entry {
    class: "PReLU",
    signature: &[
        ignored("alpha_initializer"),
        ignored("alpha_regularizer"),
        ignored("alpha_constraint"),
        opt("shared_axes"),
    ],
    build: |args| {
        let shared_axes = match args.get("shared_axes").filter(|e| !is_none(e)) {
            None => None,
            Some(expr) => {
                let values: Option<Vec<i64>> = match int_value(expr) {
                    Some(v) => Some(vec![v]),
                    None => tuple_items(expr)
                        .and_then(|items| items.into_iter().map(int_value).collect()),
                };
                let Some(values) = values else {
                    args.cx.error_spanned_by(
                        expr,
                        format!(
                            "`shared_axes` of PReLU expects an axis or a list of axes such as `[1, 2]`, found `{}`",
                            quote!(#expr)
                        ),
                    );
                    return None;
                };
                if let Some(bad) = values.iter().find(|&&a| a < 1) {
                    args.cx.error_spanned_by(
                        expr,
                        format!(
                            "`shared_axes` of PReLU are input axes counted from 1 (axis 0 is the batch; \
                             negative axes are not supported), found {bad}"
                        ),
                    );
                    return None;
                }
                Some((
                    values.into_iter().map(|a| a as usize).collect(),
                    expr.span(),
                ))
            }
        };
        Some(Box::new(PRelu {
            shared_axes,
            span: args.call.span(),
        }))
    },
};

impl PRelu {
    fn shared(&self) -> &[usize] {
        self.shared_axes.as_ref().map_or(&[], |(axes, _)| axes)
    }

    /// Keras's `alpha` shape: the input's with the shared axes set to 1.
    fn alpha_shape(&self, input: &[usize]) -> Vec<usize> {
        let mut shape = input.to_vec();
        for &axis in self.shared() {
            shape[axis - 1] = 1;
        }
        shape
    }
}

impl LayerSpec for PRelu {
    fn class(&self) -> &'static str {
        "PReLU"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if input.len() > PRELU_MAX_RANK {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "PReLU supports inputs of up to {PRELU_MAX_RANK} axes (batch excluded), but its input {} has {}",
                    fmt_shape(input),
                    input.len()
                ),
            ));
        }
        if let Some((axes, span)) = &self.shared_axes {
            if let Some(bad) = axes.iter().find(|&&a| a > input.len()) {
                return Err(ShapeError::new(
                    *span,
                    format!(
                        "PReLU shares axis {bad}, but its input {} has axes 1 to {} (0 is the batch)",
                        fmt_shape(input),
                        input.len()
                    ),
                ));
            }
        }
        Ok(input.to_vec())
    }

    fn params(&self, input: &[usize]) -> usize {
        self.alpha_shape(input).iter().product()
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let axes = match &self.shared_axes {
            Some((axes, _)) => Cfg::Ints(axes.iter().map(|&a| a as i64).collect()),
            None => Cfg::None,
        };
        vec![("shared_axes", axes)]
    }

    fn field_type(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let rank = input.len();
        let mut slots = vec![1; PRELU_MAX_RANK - rank];
        slots.extend_from_slice(input);
        let slots = slots.into_iter().map(lit);
        let shared = self.shared().iter().fold(0u8, |bits, &a| bits | (1 << a));
        let shared = Literal::u8_unsuffixed(shared);
        let (rank, params) = (lit(rank), lit(self.params(input)));
        quote!(#rt::PRelu<#rank, #(#slots,)* #shared, #params>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        quote!(<#ty>::new())
    }

    /// Zero slopes are all the layer holds.
    fn init_zeroed(&self, _: &[usize], _: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(TokenStream::new())
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(<#ty>::from_le_bytes_const(#weights)))
    }

    passes_mask!();
}
