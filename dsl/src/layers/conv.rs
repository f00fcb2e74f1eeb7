//! `Conv1D`, `Conv2D`, `Conv3D(filters, kernel_size, strides=1, padding="valid",
//! data_format=None, dilation_rate=1, groups=1, activation=None, use_bias=True, …)`, and the
//! window arithmetic the pooling layers share with them.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use static_keras_runtime::shape::{effective_window, output_len, Padding};

use super::activation::{parse_activation, Act};
use super::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{ignored, is_none, opt, req, Args, Param};
use static_keras_runtime::Activation;

const SIGNATURE: &[Param] = &[
    req("filters"),
    req("kernel_size"),
    opt("strides"),
    opt("padding"),
    opt("data_format"),
    opt("dilation_rate"),
    opt("groups"),
    opt("activation"),
    opt("use_bias"),
    ignored("kernel_initializer"),
    ignored("bias_initializer"),
    ignored("kernel_regularizer"),
    ignored("bias_regularizer"),
    ignored("kernel_constraint"),
    ignored("bias_constraint"),
];

pub const CONV1D: Entry = Entry {
    class: "Conv1D",
    signature: SIGNATURE,
    build: |args| build(args, 1),
};
pub const CONV2D: Entry = Entry {
    class: "Conv2D",
    signature: SIGNATURE,
    build: |args| build(args, 2),
};
pub const CONV3D: Entry = Entry {
    class: "Conv3D",
    signature: SIGNATURE,
    build: |args| build(args, 3),
};

/// What the spatial axes of a rank-`rank` layer's input are called, with the channels.
pub fn axes_names(rank: usize) -> &'static str {
    [
        "(steps, channels)",
        "(rows, cols, channels)",
        "(depth, rows, cols, channels)",
    ][rank - 1]
}

/// `5x5`, `3x3x3`, or `5` for one axis.
pub fn fmt_dims(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// `(2, 2)` as Keras prints a tuple argument.
pub fn fmt_tuple(dims: &[usize]) -> String {
    fmt_shape(dims)
}

/// What a window argument of a rank-`rank` layer takes, for messages.
pub fn tuple_expectation(rank: usize) -> String {
    if rank == 1 {
        "a positive integer or a 1-tuple".to_string()
    } else {
        format!("a positive integer or a tuple of {rank} positive integers")
    }
}

/// Reports an explicit `None` for an argument Keras needs a value for (the typed getters read
/// `None` as "absent" and would fall back to the default, or to nothing, silently). True when
/// the argument is not `None`.
pub fn reject_none(args: &Args, name: &str, expected: &str) -> bool {
    match args.get(name) {
        Some(expr) if is_none(expr) => {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`{name}` of {} expects {expected}, found `None`",
                    args.call.class
                ),
            );
            false
        }
        _ => true,
    }
}

/// Reads `padding`: "valid", "same" (any case, as Keras lower-cases it), or "causal" where
/// allowed (Conv1D only).
pub fn read_padding(args: &Args, allow_causal: bool) -> Option<Padding> {
    let class = args.call.class.to_string();
    let allowed = if allow_causal {
        "\"valid\", \"same\" or \"causal\""
    } else {
        "\"valid\" or \"same\""
    };
    if args.get("padding").is_none() {
        return Some(Padding::Valid);
    }
    if !reject_none(args, "padding", allowed) {
        return None;
    }
    // A value of the wrong type is reported by `string`.
    let (value, span) = args.string("padding")?;
    if let Some(p) = Padding::from_keras(&value, allow_causal) {
        return Some(p);
    }
    let message = if Padding::from_keras(&value, true) == Some(Padding::Causal) {
        format!("padding \"causal\" is only for Conv1D (Keras rejects it for {class} too); use \"valid\" or \"same\"")
    } else {
        format!("padding of {class} must be {allowed}, found \"{value}\"")
    };
    args.cx.error_at(span, message);
    None
}

/// Reads `data_format`: channels_last only (every static-keras tensor is channels_last).
pub fn check_data_format(args: &Args) -> Option<()> {
    match args.string("data_format") {
        None if args.get("data_format").is_some() && !args.is_none("data_format") => None,
        None => Some(()),
        Some((f, _)) if f == "channels_last" => Some(()),
        Some((f, span)) if f == "channels_first" => {
            args.cx.error_at(
                span,
                format!(
                    "data_format=\"channels_first\" is not supported by {}: static-keras keeps every tensor channels_last; \
                     transpose the input to channels_last and drop data_format (the weights are the same)",
                    args.call.class
                ),
            );
            None
        }
        Some((f, span)) => {
            args.cx.error_at(
                span,
                format!(
                    "data_format must be \"channels_last\" or \"channels_first\", found \"{f}\""
                ),
            );
            None
        }
    }
}

/// The runtime type of one spatial axis.
pub fn axis_type(
    n: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> TokenStream {
    let rt = rt();
    let pad = format_ident!(
        "{}",
        match padding {
            Padding::Valid => "Valid",
            Padding::Same => "Same",
            Padding::Causal => "Causal",
        }
    );
    let (n, k, stride, dilation) = (lit(n), lit(k), lit(stride), lit(dilation));
    quote!(#rt::shape::Axis<#n, #k, #stride, #dilation, #rt::shape::#pad>)
}

/// The output lengths of the spatial axes, or a message saying which window does not fit.
/// `what` names the window (`Conv2D kernel`, `MaxPooling2D pool_size`).
pub fn window_output(
    what: &str,
    spatial: &[usize],
    window: &[usize],
    strides: &[usize],
    dilation: &[usize],
    padding: Padding,
) -> Result<Vec<usize>, String> {
    let out: Option<Vec<usize>> = (0..spatial.len())
        .map(|i| output_len(spatial[i], window[i], strides[i], dilation[i], padding))
        .collect();
    out.ok_or_else(|| {
        let spans: Vec<usize> = (0..spatial.len())
            .map(|i| effective_window(window[i], dilation[i]))
            .collect();
        let (window, input) = (fmt_dims(window), fmt_dims(spatial));
        let input = if spatial.len() == 1 {
            format!("an input of length {input}")
        } else {
            format!("the {input} input")
        };
        if dilation.iter().any(|&d| d > 1) {
            format!(
                "{what} {window} with dilation_rate {} spans {}, which does not fit {input} with padding \"{}\"",
                fmt_tuple(dilation),
                fmt_dims(&spans),
                padding.keras_name()
            )
        } else {
            format!(
                "{what} {window} does not fit {input} with padding \"{}\"",
                padding.keras_name()
            )
        }
    })
}

/// Checks that the input has the layer's rank.
pub fn check_rank(class: &str, rank: usize, input: &[usize], span: Span) -> Result<(), ShapeError> {
    if input.len() == rank + 1 {
        return Ok(());
    }
    // `Conv2D` -> `Conv`, `MaxPooling3D` -> `MaxPooling`: the same family at the input's rank.
    let family = &class[..class.len() - 2];
    let hint = match input.len() {
        1 => "; Reshape it to add spatial axes first".to_string(),
        n @ 2..=4 => format!("; {family}{}D takes {}", n - 1, axes_names(n - 1)),
        _ => String::new(),
    };
    Err(ShapeError::new(
        span,
        format!(
            "{class} expects a rank-{} input {} without the batch axis, but its input {} has rank {}{hint}",
            rank + 1,
            axes_names(rank),
            fmt_shape(input),
            input.len()
        ),
    ))
}

struct Conv {
    rank: usize,
    filters: usize,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilation: Vec<usize>,
    padding: Padding,
    groups: usize,
    activation: Act,
    use_bias: bool,
    span: Span,
    kernel_span: Span,
    groups_span: Span,
    activation_span: Span,
}

fn build(args: &Args, rank: usize) -> Option<Box<dyn LayerSpec>> {
    let class = args.call.class.to_string();
    let tuple = tuple_expectation(rank);
    let filters = args.positive("filters", None);
    let given = ["kernel_size", "strides", "dilation_rate"].map(|n| reject_none(args, n, &tuple));
    let kernel = args.int_tuple("kernel_size", rank, None);
    let strides = args.int_tuple("strides", rank, Some(1));
    let dilation = args.int_tuple("dilation_rate", rank, Some(1));
    let groups = args.positive("groups", Some(1));
    let padding = read_padding(args, rank == 1);
    let data_format = check_data_format(args);
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
    if let (Some(f), Some(g)) = (filters, groups) {
        if f % g != 0 {
            args.cx.error_at(
                args.span_of("groups"),
                format!("{class} filters={f} is not divisible by groups={g}: each group needs the same number of filters"),
            );
            return None;
        }
    }
    data_format?;
    if given.contains(&false) {
        return None;
    }
    Some(Box::new(Conv {
        rank,
        filters: filters?,
        kernel: kernel?,
        strides: strides?,
        dilation: dilation?,
        padding: padding?,
        groups: groups?,
        // A bad activation is already reported; going on as linear lets the later layers'
        // shape checks run in the same build.
        activation: activation.unwrap_or(Act::Fn(Activation::Linear)),
        use_bias,
        span: args.call.span(),
        kernel_span: args.span_of("kernel_size"),
        groups_span: args.span_of("groups"),
        activation_span: args.span_of("activation"),
    }))
}

impl Conv {
    fn spatial_out(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        check_rank(class, self.rank, input, self.span)?;
        let (spatial, cin) = input.split_at(self.rank);
        let cin = cin[0];
        if cin % self.groups != 0 {
            return Err(ShapeError::new(
                self.groups_span,
                format!(
                    "{class} groups={} does not divide the {cin} channels of its input {}",
                    self.groups,
                    fmt_shape(input)
                ),
            ));
        }
        window_output(
            &format!("{class} kernel"),
            spatial,
            &self.kernel,
            &self.strides,
            &self.dilation,
            self.padding,
        )
        .map_err(|m| ShapeError::new(self.kernel_span, m))
    }

    /// The convolution's own output (before a `glu` activation halves the channels).
    fn conv_output(&self, input: &[usize]) -> Vec<usize> {
        // Codegen only runs on checked shapes, where spatial_out succeeded.
        let mut out = self.spatial_out(input).unwrap_or_default();
        out.push(self.filters);
        out
    }
}

impl LayerSpec for Conv {
    fn class(&self) -> &'static str {
        ["Conv1D", "Conv2D", "Conv3D"][self.rank - 1]
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
            .train_adapter(ty, &self.conv_output(input), output)
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
        let cin = input[self.rank];
        let kernel: usize =
            self.kernel.iter().product::<usize>() * cin / self.groups * self.filters;
        kernel + if self.use_bias { self.filters } else { 0 }
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let ints = |v: &[usize]| Cfg::Ints(v.iter().map(|&d| d as i64).collect());
        vec![
            ("filters", Cfg::Int(self.filters as i64)),
            ("kernel_size", ints(&self.kernel)),
            ("strides", ints(&self.strides)),
            ("padding", Cfg::Str(self.padding.keras_name().into())),
            ("data_format", Cfg::Str("channels_last".into())),
            ("dilation_rate", ints(&self.dilation)),
            ("groups", Cfg::Int(self.groups as i64)),
            ("activation", Cfg::Str(self.activation.keras_name().into())),
            ("use_bias", Cfg::Bool(self.use_bias)),
        ]
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let cin = input[self.rank];
        let out = self.conv_output(input);
        let axes = (0..self.rank).map(|i| {
            axis_type(
                input[i],
                self.kernel[i],
                self.strides[i],
                self.dilation[i],
                self.padding,
            )
        });
        let kc = lit(self.kernel.iter().product::<usize>() * cin / self.groups);
        let pout = lit(out[..self.rank].iter().product());
        let (cin, filters, groups) = (lit(cin), lit(self.filters), lit(self.groups));
        let bias = self.use_bias;
        let alias = format_ident!("Conv{}d", self.rank);
        quote!(#rt::#alias<#cin, #filters, #groups, #(#axes,)* #kc, #pout, #bias>)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lengths_come_from_the_shared_formula() {
        let out = |n: &[usize], k: &[usize], s: &[usize], d: &[usize], p| {
            window_output("Conv kernel", n, k, s, d, p)
        };
        assert_eq!(
            out(&[7, 8], &[3, 3], &[2, 2], &[1, 1], Padding::Same),
            Ok(vec![4, 4])
        );
        assert_eq!(
            out(&[7, 8], &[3, 2], &[2, 3], &[1, 1], Padding::Valid),
            Ok(vec![3, 3])
        );
        assert_eq!(out(&[9], &[3], &[3], &[1], Padding::Causal), Ok(vec![3]));
        assert_eq!(out(&[1], &[9], &[1], &[1], Padding::Same), Ok(vec![1]));
        assert_eq!(
            out(&[4, 4], &[5, 5], &[1, 1], &[1, 1], Padding::Valid),
            Err("Conv kernel 5x5 does not fit the 4x4 input with padding \"valid\"".into())
        );
        assert_eq!(
            out(&[8], &[3], &[1], &[4], Padding::Valid),
            Err("Conv kernel 3 with dilation_rate (4,) spans 9, which does not fit an input of length 8 with padding \"valid\"".into())
        );
    }

    #[test]
    fn rank_errors_name_the_right_layer() {
        let err = check_rank("Conv1D", 1, &[28, 28, 1], Span::call_site()).unwrap_err();
        assert!(err
            .message
            .ends_with("; Conv2D takes (rows, cols, channels)"));
        let err = check_rank("MaxPooling2D", 2, &[64], Span::call_site()).unwrap_err();
        assert!(err
            .message
            .ends_with("; Reshape it to add spatial axes first"));
        assert!(check_rank("Conv3D", 3, &[2, 3, 4, 5], Span::call_site()).is_ok());
    }
}
