//! `UpSampling1D(size=2)`, `UpSampling2D(size=(2, 2), data_format=None,
//! interpolation="nearest")` and `UpSampling3D(size=(2, 2, 2), data_format=None)`. Keras 3's
//! UpSampling1D takes an int only.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::conv::{check_data_format, check_rank, reject_none, tuple_expectation};
use super::{lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{opt, Args};
use crate::suggest::did_you_mean;

pub const UP_SAMPLING1D: Entry = Entry {
    class: "UpSampling1D",
    signature: &[opt("size")],
    build: |args| build(args, 1),
};
pub const UP_SAMPLING2D: Entry = Entry {
    class: "UpSampling2D",
    signature: &[opt("size"), opt("data_format"), opt("interpolation")],
    build: |args| build(args, 2),
};
pub const UP_SAMPLING3D: Entry = Entry {
    class: "UpSampling3D",
    signature: &[opt("size"), opt("data_format")],
    build: |args| build(args, 3),
};

/// The interpolations Keras 3's `UpSampling2D` accepts (those of `ops.image.resize` on the JAX
/// backend; `"area"` on TensorFlow only), and whether static-keras computes them.
const INTERPOLATIONS: &[(&str, bool)] = &[
    ("nearest", true),
    ("bilinear", true),
    ("bicubic", false),
    ("lanczos3", false),
    ("lanczos5", false),
    ("area", false),
];

struct UpSampling {
    rank: usize,
    size: Vec<usize>,
    bilinear: bool,
    span: Span,
}

/// Reads `interpolation` (Keras lower-cases it): `Some(bilinear)`, or `None` after an error.
fn read_interpolation(args: &Args) -> Option<bool> {
    if args.get("interpolation").is_none() {
        return Some(false);
    }
    let known = "\"nearest\" or \"bilinear\"";
    if !reject_none(args, "interpolation", known) {
        return None;
    }
    let (value, span) = args.string("interpolation")?;
    let lower = value.to_lowercase();
    match INTERPOLATIONS.iter().find(|(name, _)| *name == lower) {
        Some((name, true)) => Some(*name == "bilinear"),
        Some((name, false)) => {
            args.cx.error_at(
                span,
                format!(
                    "UpSampling2D interpolation \"{name}\" is not supported by static-keras (it computes \"nearest\" and \"bilinear\" exactly as Keras does)"
                ),
            );
            None
        }
        None => {
            args.cx.error_at(
                span,
                format!(
                    "unknown interpolation \"{value}\" for UpSampling2D: Keras accepts \"nearest\", \"bilinear\", \"bicubic\", \"lanczos3\", \"lanczos5\" (static-keras computes the first two){}",
                    did_you_mean(&value, INTERPOLATIONS.iter().map(|(n, _)| *n))
                ),
            );
            None
        }
    }
}

fn build(args: &Args, rank: usize) -> Option<Box<dyn LayerSpec>> {
    let class = args.call.class.to_string();
    let size = if rank == 1 {
        // Keras 3: `if not isinstance(size, int): raise TypeError`.
        if !reject_none(args, "size", "a positive integer") {
            return None;
        }
        match args.get("size").map(crate::args::int_value) {
            Some(None) => {
                let expr = args.get("size").expect("given");
                args.cx.error_spanned_by(
                    expr,
                    format!(
                        "`size` of {class} expects a positive integer (Keras 3 takes no tuple here), found `{}`",
                        quote::ToTokens::to_token_stream(expr)
                    ),
                );
                None
            }
            _ => args.positive("size", Some(2)).map(|s| vec![s]),
        }
    } else {
        if !reject_none(args, "size", &tuple_expectation(rank)) {
            return None;
        }
        args.int_tuple("size", rank, Some(2))
    };
    let bilinear = read_interpolation(args);
    check_data_format(args)?;
    Some(Box::new(UpSampling {
        rank,
        size: size?,
        bilinear: bilinear?,
        span: args.call.span(),
    }))
}

impl LayerSpec for UpSampling {
    fn forward(&self, _f: super::Forward) -> super::Pass {
        super::Pass::Layer(super::Run::BatchedInto)
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn class(&self) -> &'static str {
        ["UpSampling1D", "UpSampling2D", "UpSampling3D"][self.rank - 1]
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        check_rank(self.class(), self.rank, input, self.span)?;
        let mut out: Vec<usize> = input.iter().zip(&self.size).map(|(n, s)| n * s).collect();
        out.push(input[self.rank]);
        Ok(out)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let ints = |v: &[usize]| Cfg::Ints(v.iter().map(|&d| d as i64).collect());
        match self.rank {
            1 => vec![("size", Cfg::Int(self.size[0] as i64))],
            2 => vec![
                ("size", ints(&self.size)),
                ("data_format", Cfg::Str("channels_last".into())),
                (
                    "interpolation",
                    Cfg::Str(if self.bilinear { "bilinear" } else { "nearest" }.into()),
                ),
            ],
            _ => vec![
                ("size", ints(&self.size)),
                ("data_format", Cfg::Str("channels_last".into())),
            ],
        }
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let axes = self.size.iter().zip(input).map(|(&size, &n)| {
            let (n, size) = (lit(n), lit(size));
            quote!(#rt::Factor<#n, #size>)
        });
        let channels = lit(input[self.rank]);
        let pout = lit(output[..self.rank].iter().product());
        let alias = if self.bilinear {
            format_ident!("UpSampleBilinear2d")
        } else {
            format_ident!("UpSample{}d", self.rank)
        };
        quote!(#rt::#alias<#channels, #(#axes,)* #pout>)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(<#ty>::new()))
    }
}
