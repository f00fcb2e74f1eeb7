//! `BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, …)`.

use std::cell::Cell;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{block, epsilon, f32_lit, flag, read_axes, resolve_axes, AxisForm};
use crate::args::{bool_value, ignored, opt};
use crate::layers::{lit, rt, Cfg, Entry, LayerSpec, Memory, ShapeError};

struct BatchNorm {
    axis: i64,
    epsilon: f64,
    /// Training only: the moving statistics' update.
    momentum: f64,
    /// Keras's `trainable = False`: inference mode inside training too.
    frozen: bool,
    center: bool,
    scale: bool,
    axis_span: Span,
    /// The input's rank with the batch axis, known once the shape rule ran (for `config`).
    rank: Cell<usize>,
}

pub const BATCH_NORMALIZATION: Entry = Entry {
    class: "BatchNormalization",
    signature: &[
        opt("axis"),
        // Training only (the moving statistics' update); no effect on inference.
        opt("momentum"),
        opt("epsilon"),
        opt("center"),
        opt("scale"),
        ignored("beta_initializer"),
        ignored("gamma_initializer"),
        ignored("moving_mean_initializer"),
        ignored("moving_variance_initializer"),
        ignored("beta_regularizer"),
        ignored("gamma_regularizer"),
        ignored("beta_constraint"),
        ignored("gamma_constraint"),
        opt("renorm"),
        ignored("renorm_clipping"),
        ignored("renorm_momentum"),
        ignored("synchronized"),
    ],
    build: |args| {
        let axis = read_axes(args, -1, AxisForm::One);
        let momentum = args.float("momentum", Some(0.99));
        let epsilon = epsilon(args);
        let (center, scale) = (flag(args, "center", true), flag(args, "scale", true));
        if flag(args, "renorm", false) {
            args.cx.error_at(
                args.span_of("renorm"),
                "BatchNormalization(renorm=True) is not supported: batch renormalization adds three variables (moving_stddev, renorm_mean, renorm_stddev) that static-keras does not load",
            );
            return None;
        }
        let (axes, axis_span) = axis?;
        // `trainable` itself is checked with the other common arguments (`model.rs`).
        let trainable = args.get("trainable").and_then(bool_value).unwrap_or(true);
        Some(Box::new(BatchNorm {
            axis: axes[0],
            epsilon: epsilon?,
            momentum: momentum?,
            frozen: !trainable,
            center,
            scale,
            axis_span,
            rank: Cell::new(0),
        }))
    },
};

impl BatchNorm {
    /// `.with_momentum(m).frozen(true)`: what training needs beyond inference's arguments
    /// (nothing when they are Keras's defaults).
    fn training_args(&self) -> TokenStream {
        let momentum = self.momentum;
        let mut out = TokenStream::new();
        if momentum != 0.99 {
            out.extend(quote!(.with_momentum(#momentum)));
        }
        if self.frozen {
            out.extend(quote!(.frozen(true)));
        }
        out
    }

    /// `(C, INNER)` for this input.
    fn layout(&self, input: &[usize]) -> Result<(usize, usize), ShapeError> {
        let class = self.class();
        let positions = resolve_axes(class, &[self.axis], input, self.axis_span)?;
        block(class, &positions, input, self.axis_span)
    }
}

impl LayerSpec for BatchNorm {
    fn class(&self) -> &'static str {
        "BatchNormalization"
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
        let (c, _) = self.layout(input).unwrap_or_default();
        (2 + self.center as usize + self.scale as usize) * c
    }

    /// The moving statistics are non-trainable.
    fn non_trainable_params(&self, input: &[usize]) -> usize {
        2 * self.layout(input).map_or(0, |(c, _)| c)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("axis", Cfg::Axes(vec![self.axis], self.rank.get())),
            ("epsilon", Cfg::Float(self.epsilon)),
            ("center", Cfg::Bool(self.center)),
            ("scale", Cfg::Bool(self.scale)),
            ("renorm", Cfg::Bool(false)),
        ]
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (c, inner) = self.layout(input).unwrap_or((1, 1));
        let (c, inner, center, scale) = (lit(c), lit(inner), self.center, self.scale);
        quote!(#rt::BatchNorm<#c, #inner, #center, #scale>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let eps = f32_lit(self.epsilon);
        let training = self.training_args();
        quote!(<#ty>::new(#eps)#training)
    }

    fn init_zeroed(&self, _: &[usize], _: &[usize], place: TokenStream) -> Option<TokenStream> {
        let eps = f32_lit(self.epsilon);
        let (momentum, frozen) = (self.momentum, self.frozen);
        Some(quote! {
            #place.set_epsilon(#eps);
            #place.set_training(#momentum, #frozen);
        })
    }

    /// `y = x·a + b` per channel, each value over itself.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let eps = f32_lit(self.epsilon);
        let training = self.training_args();
        Some(quote!(<#ty>::from_le_bytes_const(#weights, #eps)#training))
    }

    fn forward(&self, _f: crate::layers::Forward) -> crate::layers::Pass {
        crate::layers::Pass::Layer(crate::layers::Run::BatchedInto)
    }
}
