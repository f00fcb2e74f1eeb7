//! `Activation(name)` and the `activation = "…"` argument of other layers.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use static_keras_runtime::activation::NAMES;
use static_keras_runtime::Activation;
use syn::spanned::Spanned;

use super::{dims, lit, rt, Cfg, Entry, LayerSpec, Memory, Pass, Run, ShapeError};
use crate::args::{req, Args};
use crate::suggest::did_you_mean;

/// A resolved activation: one the runtime applies in place, or `glu`, which halves the last axis.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Act {
    Fn(Activation),
    Glu,
}

impl Act {
    /// The runtime enum value (`Linear` for glu, which is applied as a separate step).
    pub fn tokens(self) -> TokenStream {
        let rt = rt();
        let variant = match self {
            Act::Fn(a) => format_ident!("{}", format!("{a:?}")),
            Act::Glu => format_ident!("Linear"),
        };
        quote!(#rt::Activation::#variant)
    }

    /// The Keras config value (`"relu"`, `"glu"`).
    pub fn keras_name(self) -> &'static str {
        match self {
            Act::Fn(a) => a.keras_name(),
            Act::Glu => "glu",
        }
    }

    /// Output shape of the activation on `shape`.
    pub fn output_shape(
        self,
        shape: &[usize],
        span: Span,
        what: &str,
    ) -> Result<Vec<usize>, ShapeError> {
        match self {
            Act::Fn(_) => Ok(shape.to_vec()),
            Act::Glu => {
                let last = *shape.last().unwrap_or(&1);
                if !last.is_multiple_of(2) {
                    return Err(ShapeError::new(
                        span,
                        format!(
                            "glu splits the last axis in halves, but {what} has odd size {last}"
                        ),
                    ));
                }
                let mut out = shape.to_vec();
                *out.last_mut().unwrap() = last / 2;
                Ok(out)
            }
        }
    }

    /// The training view of a layer of type `field_ty` with this activation fused (see
    /// `LayerSpec::train_adapter`): for glu, the layer (run linear) then glu.
    pub fn train_adapter(
        self,
        field_ty: &TokenStream,
        before: &[usize],
        after: &[usize],
    ) -> Option<TokenStream> {
        match self {
            Act::Fn(_) => None,
            Act::Glu => {
                let rt = rt();
                let (fin, fout) = (lit(dims(before).0), lit(dims(after).0));
                Some(quote!(#rt::train::ThenGlu<#field_ty, #fin, #fout>))
            }
        }
    }

    /// The forward pass of a layer with this activation whose runtime layer runs as `run`:
    /// with `glu`, the layer's own pass (built with a linear activation) then the glu step.
    pub fn pass(self, run: Run) -> Pass {
        match self {
            Act::Fn(_) => Pass::Layer(run),
            Act::Glu => Pass::Glu,
        }
    }
}

/// Reads an activation argument: a Keras name in double quotes, or `None` for linear.
pub fn parse_activation(args: &Args, name: &str) -> Option<Act> {
    let expr = args.get(name)?;
    if crate::args::is_none(expr) {
        return Some(Act::Fn(Activation::Linear));
    }
    let (value, span) = args.string(name)?;
    if value == "glu" {
        return Some(Act::Glu);
    }
    if let Some(a) = Activation::from_keras_name(&value) {
        return Some(Act::Fn(a));
    }
    let message = if value == "threshold" {
        "activation \"threshold\" needs `threshold` and `default_value` arguments and cannot be used by name (Keras raises TypeError too)".to_string()
    } else {
        let names = NAMES.iter().map(|(n, _)| *n).chain(["glu"]);
        format!(
            "unknown activation \"{value}\"{}",
            did_you_mean(&value, names)
        )
    };
    args.cx.error_at(span, message);
    None
}

struct ActivationSpec {
    act: Act,
    span: Span,
}

pub const ACTIVATION: Entry = Entry {
    class: "Activation",
    signature: &[req("activation")],
    build: |args| {
        let act = parse_activation(args, "activation")?;
        Some(Box::new(ActivationSpec {
            act,
            span: args
                .get("activation")
                .map_or_else(|| args.call.span(), |e| e.span()),
        }))
    },
};

impl LayerSpec for ActivationSpec {
    fn class(&self) -> &'static str {
        "Activation"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        self.act.output_shape(input, self.span, "its input")
    }

    /// Keras passes the mask through (`supports_masking = True`).
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.cloned()
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("activation", Cfg::Str(self.act.keras_name().into()))]
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        match self.act {
            Act::Fn(_) => quote!(#rt::ActivationLayer),
            Act::Glu => {
                let (fin, fout) = (lit(dims(input).0), lit(dims(output).0));
                quote!(#rt::Glu<#fin, #fout>)
            }
        }
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        let rt = rt();
        Some(match self.act {
            Act::Fn(_) => {
                let act = self.act.tokens();
                quote!(#rt::ActivationLayer::new(#act))
            }
            Act::Glu => {
                let (fin, fout) = (lit(dims(input).0), lit(dims(output).0));
                quote!(#rt::Glu::<#fin, #fout>)
            }
        })
    }

    /// Every activation but glu (which halves the last axis) maps each value, or each run of the
    /// last axis, over itself.
    fn memory(&self) -> Memory {
        match self.act {
            Act::Fn(_) => Memory::InPlace,
            Act::Glu => Memory::Own,
        }
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        match self.act {
            Act::Fn(_) => {
                let act = self.act.tokens();
                quote!(#rt::ActivationLayer::new(#act))
            }
            Act::Glu => {
                let ty = self.field_type(input, output);
                quote!(<#ty as ::core::default::Default>::default())
            }
        }
    }
}
