//! `Masking(mask_value=0.0)`: zeroes the steps that are all `mask_value` and sends a mask on.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{is_none, opt};

struct Masking {
    mask_value: f64,
}

pub const MASKING: Entry = Entry {
    class: "Masking",
    signature: &[opt("mask_value")],
    build: |args| {
        if let Some(expr) = args.get("mask_value").filter(|e| is_none(e)) {
            args.cx.error_spanned_by(
                expr,
                "`mask_value` of Masking expects a number, found `None`",
            );
            return None;
        }
        let mask_value = args.float("mask_value", Some(0.0))?;
        Some(Box::new(Masking { mask_value }))
    },
};

impl Masking {
    fn value(&self) -> TokenStream {
        let rt = rt();
        let v = Literal::f32_suffixed(self.mask_value as f32);
        quote!(#rt::Masking::new(#v))
    }
}

impl LayerSpec for Masking {
    fn class(&self) -> &'static str {
        "Masking"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("mask_value", Cfg::Float(self.mask_value))]
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Masking)
    }

    fn init(&self, _: &[usize], _: &[usize]) -> TokenStream {
        self.value()
    }

    fn init_const(&self, _: &[usize], _: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.value())
    }

    /// Keras's `compute_mask`: a position is kept when one of its features differs from
    /// `mask_value`, whatever mask came in. It reads the layer's input.
    fn output_mask(&self, x: &TokenStream, _mask: Option<&TokenStream>) -> Option<TokenStream> {
        let masking = self.value();
        Some(quote!(&#masking.mask(#x)))
    }
}
