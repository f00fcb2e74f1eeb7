//! `GroupNormalization(groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, …)`.

use std::cell::Cell;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{block, epsilon, f32_lit, flag, read_axes, resolve_axes, AxisForm};
use crate::args::{ignored, opt};
use crate::layers::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};

struct GroupNorm {
    /// As declared; -1 is one group per channel (instance normalization).
    groups: i64,
    axis: i64,
    epsilon: f64,
    center: bool,
    scale: bool,
    groups_span: Span,
    groups_given: bool,
    axis_span: Span,
    rank: Cell<usize>,
    /// The number of groups once the channels are known (Keras saves -1 resolved).
    resolved: Cell<usize>,
}

pub const GROUP_NORMALIZATION: Entry = Entry {
    class: "GroupNormalization",
    signature: &[
        opt("groups"),
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
    ],
    build: |args| {
        let groups = args.int("groups", Some(32));
        let axis = read_axes(args, -1, AxisForm::One);
        let epsilon = epsilon(args);
        let groups = groups?;
        if groups <= 0 && groups != -1 {
            args.cx.error_at(
                args.span_of("groups"),
                format!("`groups` of GroupNormalization must be a positive integer, or -1 for one group per channel (instance normalization), found {groups}"),
            );
            return None;
        }
        let (axes, axis_span) = axis?;
        Some(Box::new(GroupNorm {
            groups,
            axis: axes[0],
            epsilon: epsilon?,
            center: flag(args, "center", true),
            scale: flag(args, "scale", true),
            groups_span: args.span_of("groups"),
            groups_given: args.get("groups").is_some(),
            axis_span,
            rank: Cell::new(0),
            resolved: Cell::new(0),
        }))
    },
};

impl GroupNorm {
    /// `(C, G, INNER)` for this input.
    fn layout(&self, input: &[usize]) -> Result<(usize, usize, usize), ShapeError> {
        let class = self.class();
        let positions = resolve_axes(class, &[self.axis], input, self.axis_span)?;
        let (c, inner) = block(class, &positions, input, self.axis_span)?;
        let groups = if self.groups == -1 {
            c
        } else {
            self.groups as usize
        };
        if groups > c || !c.is_multiple_of(groups) {
            let given = if !self.groups_given {
                " (Keras's default)"
            } else {
                ""
            };
            return Err(ShapeError::new(
                self.groups_span,
                format!(
                    "GroupNormalization groups={groups}{given} does not divide the {c} channels of its input {} (axis {}): the channels must split into groups of equal size",
                    fmt_shape(input),
                    self.axis
                ),
            ));
        }
        Ok((c, groups, inner))
    }
}

impl LayerSpec for GroupNorm {
    fn class(&self) -> &'static str {
        "GroupNormalization"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let (_, groups, _) = self.layout(input)?;
        self.rank.set(input.len() + 1);
        self.resolved.set(groups);
        Ok(input.to_vec())
    }

    fn params(&self, input: &[usize]) -> usize {
        let (c, _, _) = self.layout(input).unwrap_or_default();
        (self.center as usize + self.scale as usize) * c
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("groups", Cfg::Int(self.resolved.get() as i64)),
            ("axis", Cfg::Axes(vec![self.axis], self.rank.get())),
            ("epsilon", Cfg::Float(self.epsilon)),
            ("center", Cfg::Bool(self.center)),
            ("scale", Cfg::Bool(self.scale)),
        ]
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (c, g, inner) = self.layout(input).unwrap_or((1, 1, 1));
        let (c, g, inner) = (lit(c), lit(g), lit(inner));
        let (center, scale) = (self.center, self.scale);
        quote!(#rt::GroupNorm<#c, #g, #inner, #center, #scale>)
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
