//! `Embedding(input_dim, output_dim, mask_zero=False, input_length=None)`: token ids in.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{ignored, opt, req};

struct Embedding {
    input_dim: usize,
    output_dim: usize,
    mask_zero: bool,
    input_length: Option<(usize, Span)>,
    span: Span,
}

pub const EMBEDDING: Entry = Entry {
    class: "Embedding",
    signature: &[
        req("input_dim"),
        req("output_dim"),
        ignored("embeddings_initializer"),
        ignored("embeddings_regularizer"),
        ignored("embeddings_constraint"),
        opt("mask_zero"),
        // Keras 2's spelling of the sequence length (Keras 3 ignores it): the input shape.
        opt("input_length"),
        ignored("lora_rank"),
        ignored("lora_alpha"),
    ],
    build: |args| {
        let input_dim = args.positive("input_dim", None);
        let output_dim = args.positive("output_dim", None);
        let input_length = if args.is_none("input_length") {
            None
        } else {
            Some((
                args.positive("input_length", None)?,
                args.span_of("input_length"),
            ))
        };
        Some(Box::new(Embedding {
            input_dim: input_dim?,
            output_dim: output_dim?,
            mask_zero: args.bool("mask_zero", false),
            input_length,
            span: args.call.span(),
        }))
    },
};

impl LayerSpec for Embedding {
    fn class(&self) -> &'static str {
        "Embedding"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.iter().copied().chain([self.output_dim]).collect())
    }

    fn params(&self, _input: &[usize]) -> usize {
        self.input_dim * self.output_dim
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("input_dim", Cfg::Int(self.input_dim as i64)),
            ("output_dim", Cfg::Int(self.output_dim as i64)),
            ("mask_zero", Cfg::Bool(self.mask_zero)),
        ]
    }

    fn field_type(&self, _input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (vocab, dim) = (lit(self.input_dim), lit(self.output_dim));
        quote!(#rt::Embedding<#vocab, #dim>)
    }

    /// Zero embeddings are all the layer holds.
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

    fn output_mask(&self, x: &TokenStream, _mask: Option<&TokenStream>) -> Option<TokenStream> {
        let rt = rt();
        self.mask_zero.then(|| quote!(&#rt::TokenIds::mask(#x)))
    }

    fn token_input(&self) -> Option<usize> {
        Some(self.input_dim)
    }

    fn implied_input_shape(&self) -> Option<(Vec<usize>, Span)> {
        self.input_length.map(|(n, span)| (vec![n], span))
    }

    fn check_position(&self, index: usize, _count: usize) -> Result<(), ShapeError> {
        if index == 0 {
            return Ok(());
        }
        Err(ShapeError::new(
            self.span,
            "Embedding must be the model's first layer: it reads token ids (the model's `u32` input), \
             and here it would read the float output of the layer before it",
        ))
    }
}
