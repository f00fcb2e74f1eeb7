//! The activation layers with arguments: `ReLU(max_value=None, negative_slope=0.0,
//! threshold=0.0)`, `LeakyReLU(negative_slope=0.3)`, `PReLU(alpha_initializer="zeros", …,
//! shared_axes=None)`, `ELU(alpha=1.0)` and `Softmax(axis=-1)`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{rt, Cfg, Entry, LayerSpec, Memory, ShapeError};
use crate::args::{is_none, opt, Args};

/// A number argument Keras wants `>= 0` (`None` only where `none_ok`): `Some(None)` for an
/// accepted `None`, `None` after an error.
fn non_negative(
    args: &Args,
    name: &str,
    default: Option<f64>,
    none_ok: bool,
) -> Option<Option<f64>> {
    let class = &args.call.class;
    let Some(expr) = args.get(name) else {
        return Some(default);
    };
    if is_none(expr) {
        if none_ok {
            return Some(None);
        }
        args.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of {class} cannot be None (Keras raises ValueError); give a number >= 0"
            ),
        );
        return None;
    }
    let value = args.float(name, None)?;
    if value < 0.0 {
        args.cx.error_spanned_by(
            expr,
            format!("`{name}` of {class} must be >= 0, as Keras requires, found {value:?}"),
        );
        return None;
    }
    Some(Some(value))
}

/// An f32 literal for generated code.
fn f32_lit(v: f64) -> Literal {
    Literal::f32_suffixed(v as f32)
}

/// Keras's `supports_masking = True`: the mask goes on unchanged.
macro_rules! passes_mask {
    () => {
        fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
            mask.cloned()
        }
    };
}

// After the macro, which they use too.
mod prelu;
mod softmax;

pub use prelu::PRELU;
pub use softmax::SOFTMAX;

// --- ReLU ----------------------------------------------------------------------------------

struct Relu {
    max_value: Option<f64>,
    negative_slope: f64,
    threshold: f64,
}

pub const RELU: Entry = Entry {
    class: "ReLU",
    signature: &[opt("max_value"), opt("negative_slope"), opt("threshold")],
    build: |args| {
        let max_value = non_negative(args, "max_value", None, true);
        let negative_slope = non_negative(args, "negative_slope", Some(0.0), false);
        let threshold = non_negative(args, "threshold", Some(0.0), false);
        Some(Box::new(Relu {
            max_value: max_value?,
            negative_slope: negative_slope??,
            threshold: threshold??,
        }))
    },
};

impl LayerSpec for Relu {
    fn class(&self) -> &'static str {
        "ReLU"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("max_value", self.max_value.map_or(Cfg::None, Cfg::Float)),
            ("negative_slope", Cfg::Float(self.negative_slope)),
            ("threshold", Cfg::Float(self.threshold)),
        ]
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Relu)
    }

    fn init(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let max = match self.max_value {
            Some(v) => {
                let v = f32_lit(v);
                quote!(::core::option::Option::Some(#v))
            }
            None => quote!(::core::option::Option::None),
        };
        let (slope, threshold) = (f32_lit(self.negative_slope), f32_lit(self.threshold));
        quote!(#rt::Relu::new(#max, #slope, #threshold))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    passes_mask!();

    /// Each value maps over itself.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }
}

// --- LeakyReLU -----------------------------------------------------------------------------

struct LeakyRelu {
    negative_slope: f64,
}

pub const LEAKY_RELU: Entry = Entry {
    class: "LeakyReLU",
    // `alpha` is Keras 2's name of the slope, still accepted by Keras 3 (keyword only).
    signature: &[opt("negative_slope"), opt("alpha")],
    build: |args| {
        if let Some(extra) = args.call.args.iter().filter(|a| a.key.is_none()).nth(1) {
            args.cx.error_spanned_by(
                &extra.expr,
                "LeakyReLU takes at most 1 positional argument, `negative_slope`",
            );
            return None;
        }
        let name = match (args.get("negative_slope"), args.get("alpha")) {
            (Some(_), Some(alpha)) => {
                args.cx.error_spanned_by(
                    alpha,
                    "LeakyReLU got both `negative_slope` and `alpha`, Keras 2's name for it; \
                     give one (Keras would silently use `alpha`)",
                );
                return None;
            }
            (None, Some(_)) => "alpha",
            _ => "negative_slope",
        };
        let negative_slope = non_negative(args, name, Some(0.3), false)??;
        Some(Box::new(LeakyRelu { negative_slope }))
    },
};

impl LayerSpec for LeakyRelu {
    fn class(&self) -> &'static str {
        "LeakyReLU"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    /// Keras 3 saves the slope as `negative_slope`, tf.keras 2 as `alpha`: whichever a file
    /// has is checked.
    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("negative_slope", Cfg::Float(self.negative_slope)),
            ("alpha", Cfg::Float(self.negative_slope)),
        ]
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::LeakyRelu)
    }

    fn init(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let slope = f32_lit(self.negative_slope);
        quote!(#rt::LeakyRelu::new(#slope))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    passes_mask!();

    /// Each value maps over itself.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }
}

// --- ELU -----------------------------------------------------------------------------------

struct Elu {
    alpha: f64,
}

pub const ELU: Entry = Entry {
    class: "ELU",
    signature: &[opt("alpha")],
    build: |args| {
        if let Some(expr) = args.get("alpha").filter(|e| is_none(e)) {
            args.cx
                .error_spanned_by(expr, "`alpha` of ELU expects a number, found `None`");
            return None;
        }
        let alpha = args.float("alpha", Some(1.0))?;
        Some(Box::new(Elu { alpha }))
    },
};

impl LayerSpec for Elu {
    fn class(&self) -> &'static str {
        "ELU"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("alpha", Cfg::Float(self.alpha))]
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        quote!(#rt::Elu)
    }

    fn init(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let alpha = f32_lit(self.alpha);
        quote!(#rt::Elu::new(#alpha))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    passes_mask!();

    /// Each value maps over itself.
    fn memory(&self) -> Memory {
        Memory::InPlace
    }
}
