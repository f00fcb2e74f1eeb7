//! The layers that are the identity at inference, with their arguments checked as Keras checks
//! them: `Identity()`, `SpatialDropout1D(rate, seed=None)`, `SpatialDropout2D/3D(rate,
//! data_format=None, seed=None)`, `GaussianNoise(stddev, seed=None)`, `GaussianDropout(rate,
//! seed=None)`, `AlphaDropout(rate, noise_shape=None, seed=None)`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;

use super::dropout::NoiseShape;
use super::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{is_none, opt, req, Args};

/// Which layer, with what its runtime value keeps.
#[derive(Clone, Copy)]
enum Kind {
    Identity,
    /// The rank of the spatial dropout (1 to 3).
    Spatial(usize),
    GaussianNoise,
    GaussianDropout,
    AlphaDropout,
}

struct IdentityLayer {
    kind: Kind,
    /// `rate`, or `stddev` for GaussianNoise.
    value: f64,
    channels_first: bool,
    noise_shape: Option<NoiseShape>,
    span: Span,
}

pub const IDENTITY: Entry = Entry {
    class: "Identity",
    signature: &[],
    build: |args| Some(Box::new(IdentityLayer::new(Kind::Identity, 0.0, args))),
};
pub const SPATIAL_DROPOUT1D: Entry = Entry {
    class: "SpatialDropout1D",
    signature: &[req("rate"), opt("seed")],
    build: |args| build(args, Kind::Spatial(1)),
};
pub const SPATIAL_DROPOUT2D: Entry = Entry {
    class: "SpatialDropout2D",
    signature: &[req("rate"), opt("data_format"), opt("seed")],
    build: |args| build(args, Kind::Spatial(2)),
};
pub const SPATIAL_DROPOUT3D: Entry = Entry {
    class: "SpatialDropout3D",
    signature: &[req("rate"), opt("data_format"), opt("seed")],
    build: |args| build(args, Kind::Spatial(3)),
};
pub const GAUSSIAN_NOISE: Entry = Entry {
    class: "GaussianNoise",
    signature: &[req("stddev"), opt("seed")],
    build: |args| build(args, Kind::GaussianNoise),
};
pub const GAUSSIAN_DROPOUT: Entry = Entry {
    class: "GaussianDropout",
    signature: &[req("rate"), opt("seed")],
    build: |args| build(args, Kind::GaussianDropout),
};
pub const ALPHA_DROPOUT: Entry = Entry {
    class: "AlphaDropout",
    signature: &[req("rate"), opt("noise_shape"), opt("seed")],
    build: |args| build(args, Kind::AlphaDropout),
};

impl IdentityLayer {
    fn new(kind: Kind, value: f64, args: &Args) -> Self {
        Self {
            kind,
            value,
            channels_first: false,
            noise_shape: None,
            span: args.call.span(),
        }
    }
}

fn build(args: &Args, kind: Kind) -> Option<Box<dyn LayerSpec>> {
    let class = &args.call.class;
    // The rates are probabilities of dropping, in [0, 1) as for Dropout (Keras accepts 1, which
    // divides by zero in training); GaussianNoise's stddev is in [0, 1] as Keras checks it.
    let (name, upper_inclusive) = match kind {
        Kind::GaussianNoise => ("stddev", true),
        _ => ("rate", false),
    };
    let expr = args.get(name)?;
    let value = args.float(name, None)?;
    let range = if upper_inclusive { "[0, 1]" } else { "[0, 1)" };
    let fits = if upper_inclusive {
        (0.0..=1.0).contains(&value)
    } else {
        (0.0..1.0).contains(&value)
    };
    if !fits {
        args.cx.error_spanned_by(
            expr,
            format!("{class} {name} must be in {range}, found {value:?}"),
        );
        return None;
    }
    if !args.is_none("seed") {
        args.int("seed", None)?;
    }
    let mut layer = IdentityLayer::new(kind, value, args);
    match args.string("data_format") {
        None if args.get("data_format").is_some_and(|e| !is_none(e)) => return None,
        None => {}
        Some((f, _)) if f == "channels_last" => {}
        Some((f, _)) if f == "channels_first" => layer.channels_first = true,
        Some((f, span)) => {
            args.cx.error_at(
                span,
                format!(
                    "data_format must be \"channels_last\" or \"channels_first\", found \"{f}\""
                ),
            );
            return None;
        }
    }
    layer.noise_shape = NoiseShape::read(args)?;
    Some(Box::new(layer))
}

impl LayerSpec for IdentityLayer {
    fn class(&self) -> &'static str {
        match self.kind {
            Kind::Identity => "Identity",
            Kind::Spatial(rank) => {
                ["SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"][rank - 1]
            }
            Kind::GaussianNoise => "GaussianNoise",
            Kind::GaussianDropout => "GaussianDropout",
            Kind::AlphaDropout => "AlphaDropout",
        }
    }

    /// Training draws with the trainer's generator, as Keras's layers do in `fit` (their
    /// distribution, not Keras's bits).
    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if let Kind::Spatial(rank) = self.kind {
            // Keras's InputSpec: ndim = rank + 2 with the batch.
            if input.len() != rank + 1 {
                let axes = [
                    "(steps, channels)",
                    "(rows, cols, channels)",
                    "(depth, rows, cols, channels)",
                ];
                return Err(ShapeError::new(
                    self.span,
                    format!(
                        "{} takes inputs {} (rank {}), but its input {} has rank {}",
                        self.class(),
                        axes[rank - 1],
                        rank + 1,
                        fmt_shape(input),
                        input.len()
                    ),
                ));
            }
        }
        if let Some(noise) = &self.noise_shape {
            noise.check(self.class(), input)?;
        }
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        match self.kind {
            Kind::Identity => Vec::new(),
            Kind::GaussianNoise => vec![("stddev", Cfg::Float(self.value))],
            Kind::Spatial(1) | Kind::GaussianDropout | Kind::AlphaDropout => {
                vec![("rate", Cfg::Float(self.value))]
            }
            Kind::Spatial(_) => {
                let format = if self.channels_first {
                    "channels_first"
                } else {
                    "channels_last"
                };
                vec![
                    ("rate", Cfg::Float(self.value)),
                    ("data_format", Cfg::Str(format.into())),
                ]
            }
        }
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        match self.kind {
            Kind::Identity => quote!(#rt::Identity),
            Kind::Spatial(_) => quote!(#rt::SpatialDropout),
            Kind::GaussianNoise => quote!(#rt::GaussianNoise),
            Kind::GaussianDropout => quote!(#rt::GaussianDropout),
            Kind::AlphaDropout => quote!(#rt::AlphaDropout),
        }
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let value = Literal::f32_suffixed(self.value as f32);
        match self.kind {
            Kind::Identity => ty,
            Kind::Spatial(_) => {
                let dims = input.iter().map(|&d| lit(d));
                let first = self.channels_first;
                quote!(#ty::new(#value, &[#(#dims),*], #first))
            }
            Kind::AlphaDropout => match &self.noise_shape {
                Some(noise) => {
                    let noise = noise.tokens(input);
                    quote!(#ty::new(#value).with_noise_shape(#noise))
                }
                None => quote!(#ty::new(#value)),
            },
            _ => quote!(#ty::new(#value)),
        }
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    /// The identity at inference.
    fn forward(&self, _f: super::Forward) -> super::Pass {
        super::Pass::Identity
    }
}
