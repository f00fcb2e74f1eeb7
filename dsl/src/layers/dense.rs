//! `Dense(units, activation=None, use_bias=True, …)`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::activation::{parse_activation, Act};
use super::{dims, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{ignored, opt, req};
use static_keras_runtime::Activation;

struct Dense {
    units: usize,
    activation: Act,
    use_bias: bool,
    span: Span,
}

pub const DENSE: Entry = Entry {
    class: "Dense",
    signature: &[
        req("units"),
        opt("activation"),
        opt("use_bias"),
        ignored("kernel_initializer"),
        ignored("bias_initializer"),
        ignored("kernel_regularizer"),
        ignored("bias_regularizer"),
        ignored("kernel_constraint"),
        ignored("bias_constraint"),
        ignored("lora_rank"),
        ignored("lora_alpha"),
    ],
    build: |args| {
        let units = args.positive("units", None);
        let activation = match args.get("activation") {
            Some(_) => parse_activation(args, "activation"),
            None => Some(Act::Fn(Activation::Linear)),
        };
        let use_bias = args.bool("use_bias", true);
        Some(Box::new(Dense {
            units: units?,
            // A bad activation is already reported; going on as linear lets the shape checks of
            // the later layers still run and report their own errors in the same build.
            activation: activation.unwrap_or(Act::Fn(Activation::Linear)),
            use_bias,
            span: args.span_of("activation"),
        }))
    },
};

impl LayerSpec for Dense {
    fn class(&self) -> &'static str {
        "Dense"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    /// A `glu` activation trains as the linear layer then glu.
    fn train_adapter(
        &self,
        ty: &TokenStream,
        input: &[usize],
        output: &[usize],
    ) -> Option<TokenStream> {
        let mut before = input.to_vec();
        *before.last_mut().expect("rank >= 1") = self.units;
        self.activation.train_adapter(ty, &before, output)
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let mut out = input.to_vec();
        *out.last_mut().expect("shapes have rank >= 1") = self.units;
        self.activation
            .output_shape(&out, self.span, &format!("Dense({})", self.units))
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("units", Cfg::Int(self.units as i64)),
            ("activation", Cfg::Str(self.activation.keras_name().into())),
            ("use_bias", Cfg::Bool(self.use_bias)),
        ]
    }

    fn params(&self, input: &[usize]) -> usize {
        let fin = dims(input).0;
        fin * self.units + if self.use_bias { self.units } else { 0 }
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let fin = lit(dims(input).0);
        let units = lit(self.units);
        let bias = self.use_bias;
        quote!(#rt::Dense<#fin, #units, #bias>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let act = self.activation.tokens();
        quote!(<#ty>::new(#act))
    }

    fn init_zeroed(&self, _: &[usize], _: &[usize], place: TokenStream) -> Option<TokenStream> {
        let act = self.activation.tokens();
        Some(quote!(#place.activation = #act;))
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let act = self.activation.tokens();
        Some(quote!(<#ty>::from_le_bytes_const(#weights, #act)))
    }

    /// One matrix product for the whole batch; the glu step is a second layer.
    fn forward(&self, _f: super::Forward) -> super::Pass {
        self.activation.pass(super::Run::Batched)
    }
}
