//! `Dropout(rate, noise_shape=None, seed=None)`: identity at inference, inverted dropout in
//! training; and Keras's `noise_shape`, which AlphaDropout takes too.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;

use super::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{int_value, is_none, opt, req, tuple_items, Args};

/// Keras's `noise_shape` as written: one entry per axis, the batch axis first; `None` takes
/// the input's size, an integer must be 1 (one draw shared along the axis) or the input's size.
pub struct NoiseShape {
    entries: Vec<(Option<usize>, Span)>,
    span: Span,
}

impl NoiseShape {
    /// `noise_shape` of `args` (`None` when absent or `None`); errors are reported.
    pub fn read(args: &Args) -> Option<Option<NoiseShape>> {
        let class = &args.call.class;
        let Some(expr) = args.get("noise_shape").filter(|e| !is_none(e)) else {
            return Some(None);
        };
        let Some(items) = tuple_items(expr) else {
            args.cx.error_spanned_by(
                expr,
                format!("`noise_shape` of {class} expects a tuple such as `(None, 1, 8)`"),
            );
            return None;
        };
        let mut entries = Vec::new();
        for item in items {
            if is_none(item) {
                entries.push((None, item.span()));
                continue;
            }
            match int_value(item).and_then(|v| usize::try_from(v).ok()) {
                Some(v) if v > 0 => entries.push((Some(v), item.span())),
                _ => {
                    args.cx.error_spanned_by(
                        item,
                        format!(
                            "an entry of `noise_shape` of {class} is `None` or a positive integer, found `{}`",
                            item.to_token_stream()
                        ),
                    );
                    return None;
                }
            }
        }
        Some(Some(NoiseShape {
            entries,
            span: expr.span(),
        }))
    }

    /// Checks the entries against the input (Keras broadcasts the noise to it).
    pub fn check(&self, class: &str, input: &[usize]) -> Result<(), ShapeError> {
        let len = self.entries.len();
        if len != input.len() + 1 {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "{class} noise_shape has {len} entries but its input has rank {} plus the batch axis",
                    input.len()
                ),
            ));
        }
        for (k, &(entry, span)) in self.entries.iter().enumerate() {
            match (k, entry) {
                (_, None | Some(1)) => {}
                (0, Some(n)) => {
                    return Err(ShapeError::new(
                        span,
                        format!(
                            "{class} noise_shape gives the batch axis {n}: static-keras does not fix the batch size, so write `None` (a draw per sample) or 1 (one draw for the batch)"
                        ),
                    ))
                }
                (k, Some(n)) if n != input[k - 1] => {
                    return Err(ShapeError::new(
                        span,
                        format!(
                            "{class} noise_shape gives axis {k} size {n}, which does not broadcast to its input {}: use `None`, 1 or {}",
                            fmt_shape(input),
                            input[k - 1]
                        ),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The runtime `NoiseShape` for the input.
    pub fn tokens(&self, input: &[usize]) -> TokenStream {
        let rt = rt();
        let dims = input.iter().map(|&d| lit(d));
        let entries = self.entries.iter().map(|(e, _)| match e {
            Some(n) => {
                let n = lit(*n);
                quote!(::core::option::Option::Some(#n))
            }
            None => quote!(::core::option::Option::None),
        });
        quote!(#rt::NoiseShape::new(&[#(#dims),*], &[#(#entries),*]))
    }
}

struct Dropout {
    rate: f64,
    noise_shape: Option<NoiseShape>,
}

pub const DROPOUT: Entry = Entry {
    class: "Dropout",
    signature: &[req("rate"), opt("noise_shape"), opt("seed")],
    build: |args| {
        let rate = args.float("rate", None)?;
        if !(0.0..1.0).contains(&rate) {
            args.cx.error_at(
                args.span_of("rate"),
                format!("Dropout rate must be in [0, 1), found {rate:?}"),
            );
            return None;
        }
        if !args.is_none("seed") {
            args.int("seed", None)?;
        }
        let noise_shape = NoiseShape::read(args)?;
        Some(Box::new(Dropout { rate, noise_shape }))
    },
};

impl LayerSpec for Dropout {
    fn class(&self) -> &'static str {
        "Dropout"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if let Some(noise) = &self.noise_shape {
            noise.check(self.class(), input)?;
        }
        Ok(input.to_vec())
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Dropout)
    }

    fn init(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let rate = self.rate as f32;
        match &self.noise_shape {
            None => quote!(#rt::Dropout::new(#rate)),
            Some(noise) => {
                let noise = noise.tokens(input);
                quote!(#rt::Dropout::new(#rate).with_noise_shape(#noise))
            }
        }
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("rate", Cfg::Float(self.rate))]
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    /// The identity at inference.
    fn forward(&self, _f: super::Forward) -> super::Pass {
        super::Pass::Identity
    }
}
