//! `LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True, …, rms_scaling=False)`.

use std::cell::Cell;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{block, dims_type, epsilon, f32_lit, flag, read_axes, resolve_axes, AxisForm};
use crate::args::{ignored, opt};
use crate::layers::{lit, rt, Cfg, Entry, LayerSpec, ShapeError};

struct LayerNorm {
    axes: Vec<i64>,
    epsilon: f64,
    center: bool,
    scale: bool,
    rms: bool,
    axis_span: Span,
    rank: Cell<usize>,
}

pub const LAYER_NORMALIZATION: Entry = Entry {
    class: "LayerNormalization",
    signature: &[
        opt("axis"),
        opt("epsilon"),
        opt("center"),
        opt("scale"),
        ignored("beta_initializer"),
        ignored("gamma_initializer"),
        ignored("beta_regularizer"),
        ignored("gamma_regularizer"),
        ignored("beta_constraint"),
        ignored("gamma_constraint"),
        // Keyword-only in Keras (deprecated in 3.15, still written to configs).
        opt("rms_scaling"),
    ],
    build: |args| {
        let axes = read_axes(args, -1, AxisForm::Many);
        let epsilon = epsilon(args);
        let (axes, axis_span) = axes?;
        Some(Box::new(LayerNorm {
            axes,
            epsilon: epsilon?,
            center: flag(args, "center", true),
            scale: flag(args, "scale", true),
            rms: flag(args, "rms_scaling", false),
            axis_span,
            rank: Cell::new(0),
        }))
    },
};

impl LayerNorm {
    fn has_gamma(&self) -> bool {
        self.scale || self.rms
    }

    fn has_beta(&self) -> bool {
        self.center && !self.rms
    }

    /// `(N, INNER)` for this input.
    fn layout(&self, input: &[usize]) -> Result<(usize, usize), ShapeError> {
        let class = self.class();
        let positions = resolve_axes(class, &self.axes, input, self.axis_span)?;
        block(class, &positions, input, self.axis_span)
    }

    /// Keras's shape of γ and β: the input's sizes along the axes sorted as written (negative
    /// ones first), which Keras then reads in row-major order over the axes' positions.
    fn variable_shape(&self, input: &[usize]) -> Vec<usize> {
        let rank = input.len() as i64 + 1;
        let mut axes = self.axes.clone();
        axes.sort_unstable();
        axes.iter()
            .map(|&a| input[(if a < 0 { a + rank } else { a }) as usize - 1])
            .collect()
    }
}

impl LayerSpec for LayerNorm {
    fn class(&self) -> &'static str {
        "LayerNormalization"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        self.layout(input)?;
        self.rank.set(input.len() + 1);
        Ok(input.to_vec())
    }

    fn params(&self, input: &[usize]) -> usize {
        let (n, _) = self.layout(input).unwrap_or_default();
        (self.has_gamma() as usize + self.has_beta() as usize) * n
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("axis", Cfg::Axes(self.axes.clone(), self.rank.get())),
            ("epsilon", Cfg::Float(self.epsilon)),
            ("center", Cfg::Bool(self.center)),
            ("scale", Cfg::Bool(self.scale)),
            ("rms_scaling", Cfg::Bool(self.rms)),
        ]
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (n, inner) = self.layout(input).unwrap_or((1, 1));
        let shape = dims_type(&self.variable_shape(input));
        let (n, inner) = (lit(n), lit(inner));
        let (center, scale, rms) = (self.center, self.scale, self.rms);
        quote!(#rt::LayerNorm<#shape, #n, #inner, #center, #scale, #rms>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let eps = f32_lit(self.epsilon);
        quote!(<#ty>::new(#eps))
    }

    fn init_zeroed(&self, _: &[usize], _: &[usize], place: TokenStream) -> Option<TokenStream> {
        let eps = f32_lit(self.epsilon);
        Some(quote!(#place.set_epsilon(#eps);))
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let eps = f32_lit(self.epsilon);
        Some(quote!(<#ty>::from_le_bytes_const(#weights, #eps)))
    }

    fn forward(&self, _f: crate::layers::Forward) -> crate::layers::Pass {
        crate::layers::Pass::Layer(crate::layers::Run::BatchedInto)
    }
}
