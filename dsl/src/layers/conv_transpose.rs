//! `Conv1DTranspose`, `Conv2DTranspose(filters, kernel_size, strides=1, padding="valid",
//! output_padding=None, data_format=None, dilation_rate=1, activation=None, use_bias=True, …)`
//! and `Conv3DTranspose`, whose `data_format` comes before `output_padding`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use static_keras_runtime::shape::{transposed_output_len, Padding};
use static_keras_runtime::Activation;
use syn::spanned::Spanned;

use super::activation::{parse_activation, Act};
use super::conv::{check_data_format, fmt_tuple, read_padding, reject_none, tuple_expectation};
use super::depthwise::{check_groups_one, check_rank};
use super::{lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{ignored, int_value, is_none, opt, req, tuple_items, Args, Param};

/// The signature, with Conv3DTranspose's order of `data_format` and `output_padding`.
macro_rules! signature {
    ($first:literal, $second:literal) => {
        &[
            req("filters"),
            req("kernel_size"),
            opt("strides"),
            opt("padding"),
            opt($first),
            opt($second),
            opt("dilation_rate"),
            opt("activation"),
            opt("use_bias"),
            ignored("kernel_initializer"),
            ignored("bias_initializer"),
            ignored("kernel_regularizer"),
            ignored("bias_regularizer"),
            ignored("kernel_constraint"),
            ignored("bias_constraint"),
            // Keyword only: tf.keras 2 configs may carry `groups: 1`.
            opt("groups"),
        ]
    };
}

const SIGNATURE: &[Param] = signature!("output_padding", "data_format");
const SIGNATURE_3D: &[Param] = signature!("data_format", "output_padding");

pub const CONV1D_TRANSPOSE: Entry = Entry {
    class: "Conv1DTranspose",
    signature: SIGNATURE,
    build: |args| build(args, 1),
};
pub const CONV2D_TRANSPOSE: Entry = Entry {
    class: "Conv2DTranspose",
    signature: SIGNATURE,
    build: |args| build(args, 2),
};
pub const CONV3D_TRANSPOSE: Entry = Entry {
    class: "Conv3DTranspose",
    signature: SIGNATURE_3D,
    build: |args| build(args, 3),
};

struct ConvTranspose {
    rank: usize,
    filters: usize,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilation: Vec<usize>,
    padding: Padding,
    output_padding: Option<Vec<usize>>,
    activation: Act,
    use_bias: bool,
    span: Span,
    output_padding_span: Span,
    activation_span: Span,
}

/// Reads `output_padding`: `None` (absent), or an int or a tuple of `rank` ints, each at least 0
/// and below the stride of its axis. `Err(())` after reporting a bad value.
fn read_output_padding(
    args: &Args,
    rank: usize,
    strides: Option<&[usize]>,
) -> Result<Option<Vec<usize>>, ()> {
    let Some(expr) = args.get("output_padding").filter(|e| !is_none(e)) else {
        return Ok(None);
    };
    let class = &args.call.class;
    let values: Option<Vec<i64>> = match int_value(expr) {
        Some(v) => Some(vec![v; rank]),
        None => tuple_items(expr)
            .filter(|items| items.len() == rank)
            .and_then(|items| items.iter().map(|e| int_value(e)).collect()),
    };
    let expected = if rank == 1 {
        "a non-negative integer, a 1-tuple or None".to_string()
    } else {
        format!("a non-negative integer, a tuple of {rank} non-negative integers or None")
    };
    let Some(values) = values.filter(|v| v.iter().all(|&p| p >= 0)) else {
        args.cx.error_at(
            expr.span(),
            format!(
                "`output_padding` of {class} expects {expected}, found `{}`",
                expr.to_token_stream()
            ),
        );
        return Err(());
    };
    let values: Vec<usize> = values.into_iter().map(|v| v as usize).collect();
    if let Some(strides) = strides {
        if let Some(axis) = (0..rank).find(|&i| values[i] >= strides[i]) {
            args.cx.error_at(
                expr.span(),
                format!(
                    "output_padding {} of {class} must be less than strides {} on every axis, as Keras requires; axis {axis} has {} ≥ {}",
                    fmt_tuple(&values),
                    fmt_tuple(strides),
                    values[axis],
                    strides[axis]
                ),
            );
            return Err(());
        }
    }
    Ok(Some(values))
}

fn build(args: &Args, rank: usize) -> Option<Box<dyn LayerSpec>> {
    let class = args.call.class.to_string();
    let tuple = tuple_expectation(rank);
    let filters = args.positive("filters", None);
    let given = ["kernel_size", "strides", "dilation_rate"].map(|n| reject_none(args, n, &tuple));
    let kernel = args.int_tuple("kernel_size", rank, None);
    let strides = args.int_tuple("strides", rank, Some(1));
    let dilation = args.int_tuple("dilation_rate", rank, Some(1));
    let output_padding = read_output_padding(args, rank, strides.as_deref());
    let padding = read_padding(args, false);
    let data_format = check_data_format(args);
    let groups = check_groups_one(args, "every filter reads every input channel");
    let activation = match args.get("activation") {
        Some(_) => parse_activation(args, "activation"),
        None => Some(Act::Fn(Activation::Linear)),
    };
    let use_bias = args.bool("use_bias", true);
    if let (Some(s), Some(d)) = (&strides, &dilation) {
        if s.iter().any(|&s| s > 1) && d.iter().any(|&d| d > 1) {
            args.cx.error_at(
                args.span_of("dilation_rate"),
                format!(
                    "{class} cannot combine strides {} with dilation_rate {}: Keras allows strides > 1 or dilation_rate > 1, not both",
                    fmt_tuple(s),
                    fmt_tuple(d)
                ),
            );
            return None;
        }
    }
    data_format?;
    groups?;
    if given.contains(&false) {
        return None;
    }
    Some(Box::new(ConvTranspose {
        rank,
        filters: filters?,
        kernel: kernel?,
        strides: strides?,
        dilation: dilation?,
        padding: padding?,
        output_padding: output_padding.ok()?,
        activation: activation.unwrap_or(Act::Fn(Activation::Linear)),
        use_bias,
        span: args.call.span(),
        output_padding_span: args.span_of("output_padding"),
        activation_span: args.span_of("activation"),
    }))
}

impl ConvTranspose {
    fn output_padding(&self, axis: usize) -> Option<usize> {
        self.output_padding.as_ref().map(|p| p[axis])
    }

    fn spatial_out(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        check_rank(class, self.rank, input, self.span, |r| {
            (r <= 3).then(|| format!("Conv{r}DTranspose"))
        })?;
        (0..self.rank)
            .map(|i| {
                let (n, k, s, d) = (input[i], self.kernel[i], self.strides[i], self.dilation[i]);
                let p = self.output_padding(i);
                transposed_output_len(n, k, s, d, self.padding, p).ok_or_else(|| {
                    // Every argument is valid (checked when read): the output is empty.
                    ShapeError::new(
                        self.output_padding_span,
                        format!(
                            "{class} would output nothing along axis {i}: input length {n}, kernel {k}, strides {s}, dilation_rate {d}, padding \"{}\" and output_padding {} give (n − 1)·s + (kernel mod 2) + output_padding = 0",
                            self.padding.keras_name(),
                            p.map_or("None".to_string(), |p| p.to_string()),
                        ),
                    )
                })
            })
            .collect()
    }

    /// The layer's own output (before a `glu` activation halves the channels).
    fn raw_output(&self, input: &[usize]) -> Vec<usize> {
        // Codegen only runs on checked shapes, where spatial_out succeeded.
        let mut out = self.spatial_out(input).unwrap_or_default();
        out.push(self.filters);
        out
    }
}

impl LayerSpec for ConvTranspose {
    fn class(&self) -> &'static str {
        ["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"][self.rank - 1]
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
        self.activation
            .train_adapter(ty, &self.raw_output(input), output)
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let mut out = self.spatial_out(input)?;
        out.push(self.filters);
        self.activation.output_shape(
            &out,
            self.activation_span,
            &format!("{}({})", self.class(), self.filters),
        )
    }

    fn params(&self, input: &[usize]) -> usize {
        let kernel = self.kernel.iter().product::<usize>() * input[self.rank] * self.filters;
        kernel + if self.use_bias { self.filters } else { 0 }
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let ints = |v: &[usize]| Cfg::Ints(v.iter().map(|&d| d as i64).collect());
        vec![
            ("filters", Cfg::Int(self.filters as i64)),
            ("kernel_size", ints(&self.kernel)),
            ("strides", ints(&self.strides)),
            ("padding", Cfg::Str(self.padding.keras_name().into())),
            (
                "output_padding",
                self.output_padding.as_deref().map_or(Cfg::None, ints),
            ),
            ("data_format", Cfg::Str("channels_last".into())),
            ("dilation_rate", ints(&self.dilation)),
            ("activation", Cfg::Str(self.activation.keras_name().into())),
            ("use_bias", Cfg::Bool(self.use_bias)),
            // Absent from Keras 3 configs; tf.keras 2's say 1.
            ("groups", Cfg::Int(1)),
        ]
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let cin = input[self.rank];
        let out = self.raw_output(input);
        let pad = format_ident!(
            "{}",
            match self.padding {
                Padding::Same => "Same",
                _ => "Valid",
            }
        );
        let axes = (0..self.rank).map(|i| {
            let (n, k) = (lit(input[i]), lit(self.kernel[i]));
            let (s, d) = (lit(self.strides[i]), lit(self.dilation[i]));
            let op = match self.output_padding(i) {
                None => quote!(#rt::shape::NoOutputPadding),
                Some(p) => {
                    let p = lit(p);
                    quote!(#rt::shape::OutputPadding<#p>)
                }
            };
            quote!(#rt::shape::TransposeAxis<#n, #k, #s, #d, #rt::shape::#pad, #op>)
        });
        let kc = lit(self.kernel.iter().product::<usize>() * cin);
        let pout = lit(out[..self.rank].iter().product());
        let (cin, filters, bias) = (lit(cin), lit(self.filters), self.use_bias);
        let alias = format_ident!("Conv{}dTranspose", self.rank);
        quote!(#rt::#alias<#cin, #filters, #(#axes,)* #kc, #pout, #bias>)
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

    /// The runtime layer's own pass, written in place; a `glu` activation follows it.
    fn forward(&self, _f: super::Forward) -> super::Pass {
        self.activation.pass(super::Run::BatchedInto)
    }
}
