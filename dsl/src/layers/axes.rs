//! `RepeatVector(n)` and `Permute(dims)`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

use super::{dims, fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{int_value, req, tuple_items};

struct RepeatVector {
    n: usize,
    span: Span,
}

pub const REPEAT_VECTOR: Entry = Entry {
    class: "RepeatVector",
    signature: &[req("n")],
    build: |args| {
        let n = args.positive("n", None)?;
        Some(Box::new(RepeatVector {
            n,
            span: args.call.span(),
        }))
    },
};

impl LayerSpec for RepeatVector {
    fn class(&self) -> &'static str {
        "RepeatVector"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        match input {
            [features] => Ok(vec![self.n, *features]),
            _ => Err(ShapeError::new(
                self.span,
                format!(
                    "RepeatVector({}) repeats a vector (features,), but its input {} has rank {}; \
                     Flatten it first, or use a recurrent layer without return_sequences",
                    self.n,
                    fmt_shape(input),
                    input.len()
                ),
            )),
        }
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("n", Cfg::Int(self.n as i64))]
    }

    fn field_type(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let (f, n) = (lit(dims(input).0), lit(self.n));
        quote!(#rt::RepeatVector<#f, #n>)
    }

    fn init_const(&self, input: &[usize], _: &[usize], _: TokenStream) -> Option<TokenStream> {
        let rt = rt();
        let (f, n) = (lit(dims(input).0), lit(self.n));
        Some(quote!(#rt::RepeatVector::<#f, #n>))
    }
}

struct Permute {
    /// Keras's 1-based permutation of the input axes.
    dims: Vec<usize>,
    span: Span,
}

pub const PERMUTE: Entry = Entry {
    class: "Permute",
    signature: &[req("dims")],
    build: |args| {
        let expr = args.get("dims")?;
        let values: Option<Vec<i64>> =
            tuple_items(expr).and_then(|items| items.into_iter().map(int_value).collect());
        let Some(values) = values else {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`dims` of Permute expects a tuple of axes such as `(2, 1)`, found `{}`",
                    quote!(#expr)
                ),
            );
            return None;
        };
        let mut sorted = values.clone();
        sorted.sort_unstable();
        if values.is_empty() || sorted != (1..=values.len() as i64).collect::<Vec<_>>() {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`dims` of Permute must be a permutation of 1..={} (the input axes after the batch axis 0), found {values:?}",
                    values.len().max(1)
                ),
            );
            return None;
        }
        Some(Box::new(Permute {
            dims: values.into_iter().map(|d| d as usize).collect(),
            span: expr.span(),
        }))
    },
};

impl LayerSpec for Permute {
    fn class(&self) -> &'static str {
        "Permute"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if input.len() != self.dims.len() {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "Permute({}) reorders {} axes, but its input {} has {}",
                    fmt_shape(&self.dims),
                    self.dims.len(),
                    fmt_shape(input),
                    input.len()
                ),
            ));
        }
        let max = static_keras_runtime::MAX_RANK;
        if input.len() > max {
            return Err(ShapeError::new(
                self.span,
                format!("Permute supports inputs of up to {max} axes (batch excluded)"),
            ));
        }
        Ok(self.dims.iter().map(|&d| input[d - 1]).collect())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![(
            "dims",
            Cfg::Ints(self.dims.iter().map(|&d| d as i64).collect()),
        )]
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let ((fi, pi), (fo, po)) = (dims(input), dims(output));
        let (fi, pi, fo, po) = (lit(fi), lit(pi), lit(fo), lit(po));
        quote!(#rt::Permute<#fi, #pi, #fo, #po>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let shape = input.iter().map(|&d| lit(d));
        let perm = self.dims.iter().map(|&d| lit(d));
        quote!(<#ty>::new(&[#(#shape),*], &[#(#perm),*]))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }
}
