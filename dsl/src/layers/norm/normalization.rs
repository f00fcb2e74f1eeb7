//! `Normalization(axis=-1, mean=None, variance=None, invert=False)`.

use std::cell::Cell;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;

use super::{block, dims_type, f32_lit, flag, read_axes, resolve_axes, AxisForm};
use crate::args::{float_value, is_none, opt, tuple_items, Args};
use crate::layers::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};

/// Statistics given to the constructor: a scalar or one value per index of the last kept axis.
struct Stats {
    mean: Vec<f64>,
    variance: Vec<f64>,
    /// Whether they were written as scalars.
    scalar: bool,
    span: Span,
}

/// The mean and variance, one value per kept index.
type Broadcast = (Vec<f64>, Vec<f64>);

struct Normalization {
    axes: Vec<i64>,
    stats: Option<Stats>,
    invert: bool,
    axis_span: Span,
    rank: Cell<usize>,
}

/// A scalar or a flat tuple of numbers: `(values, is_scalar)`.
fn numbers(args: &Args, name: &str) -> Option<(Vec<f64>, bool)> {
    let expr = args.get(name)?;
    if let Some(v) = float_value(expr) {
        return Some((vec![v], true));
    }
    let values = tuple_items(expr).and_then(|items| {
        items
            .iter()
            .map(|e| float_value(e))
            .collect::<Option<Vec<_>>>()
    });
    if values.is_none() {
        args.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of Normalization expects a number or a tuple of numbers (one per index of the last kept axis), found `{}`",
                expr.to_token_stream()
            ),
        );
    }
    values.map(|v| (v, false))
}

pub const NORMALIZATION: Entry = Entry {
    class: "Normalization",
    signature: &[opt("axis"), opt("mean"), opt("variance"), opt("invert")],
    build: |args| {
        let axes = read_axes(args, -1, AxisForm::ManyOrNone);
        let given = |n| args.get(n).is_some_and(|e| !is_none(e));
        let stats = match (given("mean"), given("variance")) {
            (false, false) => None,
            (true, true) => {
                let (mean, variance) = (numbers(args, "mean"), numbers(args, "variance"));
                let ((mean, scalar), (variance, var_scalar)) = (mean?, variance?);
                if mean.len() != variance.len() || scalar != var_scalar {
                    args.cx.error_at(
                        args.span_of("variance"),
                        format!(
                            "Normalization `mean` and `variance` must have the same shape, found {} and {} values",
                            if scalar { "a scalar".to_string() } else { mean.len().to_string() },
                            if var_scalar { "a scalar".to_string() } else { variance.len().to_string() }
                        ),
                    );
                    return None;
                }
                Some(Stats {
                    mean,
                    variance,
                    scalar,
                    span: args
                        .get("mean")
                        .map_or_else(|| args.call.span(), |e| e.span()),
                })
            }
            (mean, _) => {
                let (set, unset) = if mean {
                    ("mean", "variance")
                } else {
                    ("variance", "mean")
                };
                args.cx.error_at(
                    args.span_of(set),
                    format!("Normalization `{set}` is given without `{unset}`: set both, or neither to load them as variables (adapted statistics)"),
                );
                return None;
            }
        };
        let (axes, axis_span) = axes?;
        Some(Box::new(Normalization {
            axes,
            stats,
            invert: flag(args, "invert", false),
            axis_span,
            rank: Cell::new(0),
        }))
    },
};

impl Normalization {
    /// The kept axes as positions of `input`, and `(K, INNER)`.
    fn layout(&self, input: &[usize]) -> Result<(Vec<usize>, usize, usize), ShapeError> {
        let class = self.class();
        let positions = resolve_axes(class, &self.axes, input, self.axis_span)?;
        let (k, inner) = block(class, &positions, input, self.axis_span)?;
        Ok((positions, k, inner))
    }

    /// The constructor's statistics broadcast to the `K` kept values, as Keras broadcasts them
    /// (a vector lines up with the last kept axis).
    fn broadcast(&self, input: &[usize]) -> Result<Option<Broadcast>, ShapeError> {
        let Some(stats) = &self.stats else {
            return Ok(None);
        };
        let (positions, k, _) = self.layout(input)?;
        let last = positions.last().map_or(1, |&p| input[p]);
        let n = stats.mean.len();
        if !stats.scalar && (positions.is_empty() || (n != last && n != 1)) {
            let kept: Vec<usize> = positions.iter().map(|&p| input[p]).collect();
            return Err(ShapeError::new(
                stats.span,
                format!(
                    "Normalization `mean` and `variance` have {n} values, which do not broadcast to the kept axes {} of its input {} (give a scalar, or one value per index of the last kept axis)",
                    fmt_shape(&kept),
                    fmt_shape(input)
                ),
            ));
        }
        let expand = |v: &[f64]| {
            (0..k)
                .map(|i| v[if v.len() == 1 { 0 } else { i % last }])
                .collect()
        };
        Ok(Some((expand(&stats.mean), expand(&stats.variance))))
    }

    fn field_type_for(&self, input: &[usize]) -> TokenStream {
        let rt = rt();
        let (positions, k, inner) = self.layout(input).unwrap_or_default();
        let kept: Vec<usize> = positions.iter().map(|&p| input[p]).collect();
        let shape = dims_type(&kept);
        let (k, inner) = (lit(k.max(1)), lit(inner.max(1)));
        let (weights, invert) = (self.stats.is_none(), self.invert);
        quote!(#rt::Normalization<#shape, #k, #inner, #weights, #invert>)
    }
}

impl LayerSpec for Normalization {
    fn class(&self) -> &'static str {
        "Normalization"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        self.layout(input)?;
        self.broadcast(input)?;
        self.rank.set(input.len() + 1);
        Ok(input.to_vec())
    }

    fn params(&self, input: &[usize]) -> usize {
        match &self.stats {
            Some(_) => 0,
            None => 2 * self.layout(input).map_or(0, |(_, k, _)| k) + 1,
        }
    }

    /// Keras's `mean`, `variance` and `count` are non-trainable (`adapt` sets them).
    fn non_trainable_params(&self, input: &[usize]) -> usize {
        self.params(input)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let (mean, variance) = match &self.stats {
            None => (Cfg::None, Cfg::None),
            Some(s) => (Cfg::Floats(s.mean.clone()), Cfg::Floats(s.variance.clone())),
        };
        vec![
            ("axis", Cfg::Axes(self.axes.clone(), self.rank.get())),
            ("invert", Cfg::Bool(self.invert)),
            ("mean", mean),
            ("variance", variance),
        ]
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        self.field_type_for(input)
    }

    fn init(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let ty = self.field_type_for(input);
        match self.broadcast(input).ok().flatten() {
            None => quote!(<#ty>::new()),
            Some((mean, variance)) => {
                let mean = mean.into_iter().map(f32_lit);
                let variance = variance.into_iter().map(f32_lit);
                quote!(<#ty>::from_stats([#(#mean),*], [#(#variance),*]))
            }
        }
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        if self.stats.is_some() {
            return Some(self.init(input, output));
        }
        let ty = self.field_type_for(input);
        Some(quote!(<#ty>::from_le_bytes_const(#weights)))
    }

    fn forward(&self, _f: crate::layers::Forward) -> crate::layers::Pass {
        crate::layers::Pass::Layer(crate::layers::Run::BatchedInto)
    }
}
