//! `DepthwiseConv1D`, `DepthwiseConv2D(kernel_size, strides=1, padding="valid",
//! depth_multiplier=1, data_format=None, dilation_rate=1, activation=None, use_bias=True, …)` and
//! `SeparableConv1D`, `SeparableConv2D(filters, kernel_size, strides=1, padding="valid",
//! data_format=None, dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True, …)`.
//!
//! Unlike Conv, Keras lets these combine strides > 1 with dilation_rate > 1. Both accept
//! `groups` when it is 1, which tf.keras 2 wrote into their configs (Keras 3 itself rejects the
//! key); `DepthwiseConv*` also accepts and ignores `kernel_initializer`, `kernel_regularizer` and
//! `kernel_constraint`, which tf.keras 2 code (MLPerf Tiny's) passes and Keras 3 rejects.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use static_keras_runtime::shape::Padding;
use static_keras_runtime::Activation;

use super::activation::{parse_activation, Act};
use super::conv::{
    axes_names, axis_type, check_data_format, read_padding, reject_none, tuple_expectation,
    window_output,
};
use super::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{ignored, opt, req, Args, Param};

const DEPTHWISE_SIGNATURE: &[Param] = &[
    req("kernel_size"),
    opt("strides"),
    opt("padding"),
    opt("depth_multiplier"),
    opt("data_format"),
    opt("dilation_rate"),
    opt("activation"),
    opt("use_bias"),
    ignored("depthwise_initializer"),
    ignored("bias_initializer"),
    ignored("depthwise_regularizer"),
    ignored("bias_regularizer"),
    ignored("depthwise_constraint"),
    ignored("bias_constraint"),
    ignored("kernel_initializer"),
    ignored("kernel_regularizer"),
    ignored("kernel_constraint"),
    // Keyword only (after the ignored ones): tf.keras 2 configs carry `groups: 1`.
    opt("groups"),
];

const SEPARABLE_SIGNATURE: &[Param] = &[
    req("filters"),
    req("kernel_size"),
    opt("strides"),
    opt("padding"),
    opt("data_format"),
    opt("dilation_rate"),
    opt("depth_multiplier"),
    opt("activation"),
    opt("use_bias"),
    ignored("depthwise_initializer"),
    ignored("pointwise_initializer"),
    ignored("bias_initializer"),
    ignored("depthwise_regularizer"),
    ignored("pointwise_regularizer"),
    ignored("bias_regularizer"),
    ignored("depthwise_constraint"),
    ignored("pointwise_constraint"),
    ignored("bias_constraint"),
    opt("groups"),
];

pub const DEPTHWISE_CONV1D: Entry = Entry {
    class: "DepthwiseConv1D",
    signature: DEPTHWISE_SIGNATURE,
    build: |args| build(args, 1, false),
};
pub const DEPTHWISE_CONV2D: Entry = Entry {
    class: "DepthwiseConv2D",
    signature: DEPTHWISE_SIGNATURE,
    build: |args| build(args, 2, false),
};
pub const SEPARABLE_CONV1D: Entry = Entry {
    class: "SeparableConv1D",
    signature: SEPARABLE_SIGNATURE,
    build: |args| build(args, 1, true),
};
pub const SEPARABLE_CONV2D: Entry = Entry {
    class: "SeparableConv2D",
    signature: SEPARABLE_SIGNATURE,
    build: |args| build(args, 2, true),
};

/// Accepts `groups` only as 1 (or `None`): tf.keras 2 wrote it into the configs of layers that
/// have no groups. `what` says what the layer does instead.
pub fn check_groups_one(args: &Args, what: &str) -> Option<()> {
    if args.is_none("groups") {
        return Some(());
    }
    match args.int("groups", Some(1))? {
        1 => Some(()),
        g => {
            args.cx.error_at(
                args.span_of("groups"),
                format!(
                    "{} has no `groups` argument ({what}); only groups=1, which tf.keras 2 wrote \
                     into its configs, is accepted, found groups={g}",
                    args.call.class
                ),
            );
            None
        }
    }
}

/// Checks that the input has the layer's rank (`rank` spatial axes and channels); `other`
/// names the layer of the same family that takes the input's rank, if there is one.
pub fn check_rank(
    class: &str,
    rank: usize,
    input: &[usize],
    span: Span,
    other: impl Fn(usize) -> Option<String>,
) -> Result<(), ShapeError> {
    if input.len() == rank + 1 {
        return Ok(());
    }
    let hint = match input.len() {
        1 => "; Reshape it to add spatial axes first".to_string(),
        n => other(n - 1)
            .map(|layer| format!("; {layer} takes {}", axes_names(n - 1)))
            .unwrap_or_default(),
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

struct Depthwise {
    rank: usize,
    /// `Some(filters)` for SeparableConv.
    filters: Option<usize>,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilation: Vec<usize>,
    padding: Padding,
    multiplier: usize,
    activation: Act,
    use_bias: bool,
    span: Span,
    kernel_span: Span,
    activation_span: Span,
}

fn build(args: &Args, rank: usize, separable: bool) -> Option<Box<dyn LayerSpec>> {
    let tuple = tuple_expectation(rank);
    let filters = separable.then(|| args.positive("filters", None));
    let given = ["kernel_size", "strides", "dilation_rate"].map(|n| reject_none(args, n, &tuple));
    let multiplier_given = reject_none(args, "depth_multiplier", "a positive integer");
    let kernel = args.int_tuple("kernel_size", rank, None);
    let strides = args.int_tuple("strides", rank, Some(1));
    let dilation = args.int_tuple("dilation_rate", rank, Some(1));
    let multiplier = if multiplier_given {
        args.positive("depth_multiplier", Some(1))
    } else {
        None
    };
    let padding = read_padding(args, false);
    let data_format = check_data_format(args);
    let groups = check_groups_one(args, "every input channel is filtered on its own");
    let activation = match args.get("activation") {
        Some(_) => parse_activation(args, "activation"),
        None => Some(Act::Fn(Activation::Linear)),
    };
    let use_bias = args.bool("use_bias", true);
    data_format?;
    groups?;
    if given.contains(&false) || !multiplier_given {
        return None;
    }
    Some(Box::new(Depthwise {
        rank,
        filters: match filters {
            Some(f) => Some(f?),
            None => None,
        },
        kernel: kernel?,
        strides: strides?,
        dilation: dilation?,
        padding: padding?,
        multiplier: multiplier?,
        // A bad activation is already reported; going on as linear lets the later layers'
        // shape checks run in the same build.
        activation: activation.unwrap_or(Act::Fn(Activation::Linear)),
        use_bias,
        span: args.call.span(),
        kernel_span: args.span_of("kernel_size"),
        activation_span: args.span_of("activation"),
    }))
}

impl Depthwise {
    fn spatial_out(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        let family = &class[..class.len() - 2];
        check_rank(class, self.rank, input, self.span, |r| {
            (r <= 2).then(|| format!("{family}{r}D"))
        })?;
        window_output(
            &format!("{class} kernel"),
            &input[..self.rank],
            &self.kernel,
            &self.strides,
            &self.dilation,
            self.padding,
        )
        .map_err(|m| ShapeError::new(self.kernel_span, m))
    }

    /// The layer's own output (before a `glu` activation halves the channels).
    fn raw_output(&self, input: &[usize]) -> Vec<usize> {
        // Codegen only runs on checked shapes, where spatial_out succeeded.
        let mut out = self.spatial_out(input).unwrap_or_default();
        out.push(self.filters.unwrap_or(input[self.rank] * self.multiplier));
        out
    }
}

impl LayerSpec for Depthwise {
    fn class(&self) -> &'static str {
        match (self.filters.is_some(), self.rank) {
            (false, 1) => "DepthwiseConv1D",
            (false, _) => "DepthwiseConv2D",
            (true, 1) => "SeparableConv1D",
            (true, _) => "SeparableConv2D",
        }
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
        let channels = self.filters.unwrap_or(input[self.rank] * self.multiplier);
        out.push(channels);
        self.activation.output_shape(
            &out,
            self.activation_span,
            &format!("{}'s output", self.class()),
        )
    }

    fn params(&self, input: &[usize]) -> usize {
        let cm = input[self.rank] * self.multiplier;
        let depthwise = self.kernel.iter().product::<usize>() * cm;
        match self.filters {
            None => depthwise + if self.use_bias { cm } else { 0 },
            Some(f) => depthwise + cm * f + if self.use_bias { f } else { 0 },
        }
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let ints = |v: &[usize]| Cfg::Ints(v.iter().map(|&d| d as i64).collect());
        let mut config = Vec::new();
        if let Some(f) = self.filters {
            config.push(("filters", Cfg::Int(f as i64)));
        }
        config.extend([
            ("kernel_size", ints(&self.kernel)),
            ("strides", ints(&self.strides)),
            ("padding", Cfg::Str(self.padding.keras_name().into())),
            ("data_format", Cfg::Str("channels_last".into())),
            ("dilation_rate", ints(&self.dilation)),
            ("depth_multiplier", Cfg::Int(self.multiplier as i64)),
            ("activation", Cfg::Str(self.activation.keras_name().into())),
            ("use_bias", Cfg::Bool(self.use_bias)),
            // Absent from Keras 3 configs; tf.keras 2's say 1.
            ("groups", Cfg::Int(1)),
        ]);
        config
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let c = input[self.rank];
        let out = self.raw_output(input);
        let axes = (0..self.rank).map(|i| {
            axis_type(
                input[i],
                self.kernel[i],
                self.strides[i],
                self.dilation[i],
                self.padding,
            )
        });
        let taps = lit(self.kernel.iter().product());
        let pout = lit(out[..self.rank].iter().product());
        let (cm, bias) = (lit(c * self.multiplier), self.use_bias);
        let c = lit(c);
        match self.filters {
            None => {
                let alias = format_ident!("DepthwiseConv{}d", self.rank);
                quote!(#rt::#alias<#c, #cm, #(#axes,)* #taps, #pout, #bias>)
            }
            Some(f) => {
                let alias = format_ident!("SeparableConv{}d", self.rank);
                let f = lit(f);
                quote!(#rt::#alias<#c, #cm, #f, #(#axes,)* #taps, #pout, #bias>)
            }
        }
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
    use static_keras_file::ModelConfig;

    /// A tf.keras 2 `model_config` with one DepthwiseConv2D whose config has `groups`.
    fn tf2_config(groups: i64) -> ModelConfig {
        let text = format!(
            r#"{{"class_name": "Functional", "config": {{"name": "model", "layers": [
            {{"class_name": "InputLayer", "config": {{"batch_input_shape": [null, 6, 6, 4], "name": "input_1"}}, "name": "input_1", "inbound_nodes": []}},
            {{"class_name": "DepthwiseConv2D", "config": {{"name": "dw", "kernel_size": [3, 3], "strides": [1, 1],
                "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": {groups},
                "activation": "linear", "use_bias": true, "depth_multiplier": 1,
                "depthwise_initializer": {{"class_name": "GlorotUniform", "config": {{"seed": null}}}},
                "depthwise_regularizer": null}}, "name": "dw", "inbound_nodes": [[["input_1", 0, 0, {{}}]]]}}],
            "input_layers": [["input_1", 0, 0]], "output_layers": [["dw", 0, 0]]}}}}"#
        );
        ModelConfig::parse(&text, "test").unwrap()
    }

    #[test]
    fn tf_keras2_groups_one_translates_and_other_values_are_refused() {
        let c = tf2_config(1);
        let t = crate::import::translate(&c).unwrap();
        assert!(t.layers[0].contains("groups = 1"), "{}", t.layers[0]);
        let (_, shapes) = t.analyse(&c).unwrap();
        assert_eq!(shapes.calls.last().unwrap()[0], vec![6, 6, 4]);
        let c = tf2_config(2);
        let Err(errors) = crate::import::translate(&c).and_then(|t| t.analyse(&c)) else {
            panic!("groups=2 must be refused")
        };
        assert!(
            errors[0].starts_with(
                "layer 0 `dw` (DepthwiseConv2D): DepthwiseConv2D has no `groups` argument"
            ),
            "{errors:?}"
        );
    }

    #[test]
    fn rank_hints_name_only_layers_that_exist() {
        let hint = |r: usize| (r <= 2).then(|| format!("DepthwiseConv{r}D"));
        let err =
            check_rank("DepthwiseConv1D", 1, &[5, 5, 3], Span::call_site(), hint).unwrap_err();
        assert!(err
            .message
            .ends_with("; DepthwiseConv2D takes (rows, cols, channels)"));
        let err =
            check_rank("DepthwiseConv2D", 2, &[2, 5, 5, 3], Span::call_site(), hint).unwrap_err();
        assert!(err.message.ends_with("has rank 4"), "{}", err.message);
    }
}
