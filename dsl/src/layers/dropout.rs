//! `Dropout(rate, noise_shape=None, seed=None)`: identity at inference, checked arguments.

use proc_macro2::TokenStream;
use quote::quote;

use super::{rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{opt, req, tuple_items};

struct Dropout {
    rate: f64,
    noise_shape: Option<(usize, proc_macro2::Span)>,
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
        let noise_shape = match args
            .get("noise_shape")
            .filter(|_| !args.is_none("noise_shape"))
        {
            None => None,
            Some(expr) => match tuple_items(expr) {
                Some(items) => Some((items.len(), syn::spanned::Spanned::span(expr))),
                None => {
                    args.cx.error_spanned_by(
                        expr,
                        "`noise_shape` of Dropout expects a tuple such as `(None, 1, 8)`",
                    );
                    return None;
                }
            },
        };
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
        // noise_shape includes the batch axis, as in Keras.
        if let Some((len, span)) = self.noise_shape {
            if len != input.len() + 1 {
                return Err(ShapeError::new(
                    span,
                    format!(
                        "Dropout noise_shape has {len} entries but its input has rank {} plus the batch axis",
                        input.len()
                    ),
                ));
            }
        }
        Ok(input.to_vec())
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Dropout)
    }

    fn init(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let rate = self.rate as f32;
        quote!(#rt::Dropout::new(#rate))
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

    fn identity(&self) -> bool {
        true
    }
}
