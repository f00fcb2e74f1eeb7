//! The activation layers with arguments: `ReLU(max_value=None, negative_slope=0.0,
//! threshold=0.0)`, `LeakyReLU(negative_slope=0.3)`, `PReLU(alpha_initializer="zeros", …,
//! shared_axes=None)`, `ELU(alpha=1.0)` and `Softmax(axis=-1)`.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dims, fmt_shape, lit, rt, Cfg, Entry, Forward, LayerSpec, ShapeError};
use crate::args::{ignored, int_value, is_none, opt, tuple_items, Args};

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
}

// --- PReLU ---------------------------------------------------------------------------------

/// The largest input rank (batch excluded) of the runtime `PRelu`.
const PRELU_MAX_RANK: usize = 4;

struct PRelu {
    /// Keras axes (1 = the first after the batch) and the argument's span.
    shared_axes: Option<(Vec<usize>, Span)>,
    span: Span,
}

pub const PRELU: Entry = Entry {
    class: "PReLU",
    signature: &[
        ignored("alpha_initializer"),
        ignored("alpha_regularizer"),
        ignored("alpha_constraint"),
        opt("shared_axes"),
    ],
    build: |args| {
        let shared_axes = match args.get("shared_axes").filter(|e| !is_none(e)) {
            None => None,
            Some(expr) => {
                let values: Option<Vec<i64>> = match int_value(expr) {
                    Some(v) => Some(vec![v]),
                    None => tuple_items(expr)
                        .and_then(|items| items.into_iter().map(int_value).collect()),
                };
                let Some(values) = values else {
                    args.cx.error_spanned_by(
                        expr,
                        format!(
                            "`shared_axes` of PReLU expects an axis or a list of axes such as `[1, 2]`, found `{}`",
                            quote!(#expr)
                        ),
                    );
                    return None;
                };
                if let Some(bad) = values.iter().find(|&&a| a < 1) {
                    args.cx.error_spanned_by(
                        expr,
                        format!(
                            "`shared_axes` of PReLU are input axes counted from 1 (axis 0 is the batch; \
                             negative axes are not supported), found {bad}"
                        ),
                    );
                    return None;
                }
                Some((
                    values.into_iter().map(|a| a as usize).collect(),
                    expr.span(),
                ))
            }
        };
        Some(Box::new(PRelu {
            shared_axes,
            span: args.call.span(),
        }))
    },
};

impl PRelu {
    fn shared(&self) -> &[usize] {
        self.shared_axes.as_ref().map_or(&[], |(axes, _)| axes)
    }

    /// Keras's `alpha` shape: the input's with the shared axes set to 1.
    fn alpha_shape(&self, input: &[usize]) -> Vec<usize> {
        let mut shape = input.to_vec();
        for &axis in self.shared() {
            shape[axis - 1] = 1;
        }
        shape
    }
}

impl LayerSpec for PRelu {
    fn class(&self) -> &'static str {
        "PReLU"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if input.len() > PRELU_MAX_RANK {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "PReLU supports inputs of up to {PRELU_MAX_RANK} axes (batch excluded), but its input {} has {}",
                    fmt_shape(input),
                    input.len()
                ),
            ));
        }
        if let Some((axes, span)) = &self.shared_axes {
            if let Some(bad) = axes.iter().find(|&&a| a > input.len()) {
                return Err(ShapeError::new(
                    *span,
                    format!(
                        "PReLU shares axis {bad}, but its input {} has axes 1 to {} (0 is the batch)",
                        fmt_shape(input),
                        input.len()
                    ),
                ));
            }
        }
        Ok(input.to_vec())
    }

    fn params(&self, input: &[usize]) -> usize {
        self.alpha_shape(input).iter().product()
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let axes = match &self.shared_axes {
            Some((axes, _)) => Cfg::Ints(axes.iter().map(|&a| a as i64).collect()),
            None => Cfg::None,
        };
        vec![("shared_axes", axes)]
    }

    fn field_type(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let rank = input.len();
        let mut slots = vec![1; PRELU_MAX_RANK - rank];
        slots.extend_from_slice(input);
        let slots = slots.into_iter().map(lit);
        let shared = self.shared().iter().fold(0u8, |bits, &a| bits | (1 << a));
        let shared = Literal::u8_unsuffixed(shared);
        let (rank, params) = (lit(rank), lit(self.params(input)));
        quote!(#rt::PRelu<#rank, #(#slots,)* #shared, #params>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        quote!(<#ty>::new())
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(<#ty>::from_le_bytes_const(#weights)))
    }

    passes_mask!();
}

// --- Softmax -------------------------------------------------------------------------------

struct Softmax {
    /// Keras axes as written (batch = 0, negative from the end).
    axes: Vec<i64>,
    /// Given as a tuple or list (the config then holds a list).
    listed: bool,
    axis_span: Span,
    span: Span,
}

pub const SOFTMAX: Entry = Entry {
    class: "Softmax",
    signature: &[opt("axis")],
    build: |args| {
        let span = args.call.span();
        let Some(expr) = args.get("axis") else {
            return Some(Box::new(Softmax {
                axes: vec![-1],
                listed: false,
                axis_span: span,
                span,
            }));
        };
        let (axes, listed) = match int_value(expr) {
            Some(v) => (Some(vec![v]), false),
            None => (
                tuple_items(expr).and_then(|items| items.into_iter().map(int_value).collect()),
                true,
            ),
        };
        match axes {
            Some(axes) if !axes.is_empty() => Some(Box::new(Softmax {
                axes,
                listed,
                axis_span: expr.span(),
                span,
            })),
            _ => {
                args.cx.error_spanned_by(
                    expr,
                    format!(
                        "`axis` of Softmax expects an axis or a non-empty tuple of axes, found `{}`",
                        quote!(#expr)
                    ),
                );
                None
            }
        }
    },
};

impl Softmax {
    /// The axes as indices into the input shape (0-based, batch excluded).
    fn resolved(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let rank = input.len() as i64;
        let mut out = Vec::new();
        for &axis in &self.axes {
            let resolved = if axis < 0 { axis + rank + 1 } else { axis };
            let error = |why: String| {
                Err(ShapeError::new(
                    self.axis_span,
                    format!("Softmax axis {axis} {why}"),
                ))
            };
            if resolved == 0 {
                return error(
                    "is the batch axis; static-keras computes each sample on its own".into(),
                );
            }
            if !(1..=rank).contains(&resolved) {
                return error(format!(
                    "is out of range: an input of rank {rank} has axes 1 to {rank} (or -1 to -{rank}) after the batch axis 0"
                ));
            }
            let index = (resolved - 1) as usize;
            if out.contains(&index) {
                return error("is given twice".into());
            }
            out.push(index);
        }
        Ok(out)
    }
}

impl LayerSpec for Softmax {
    fn class(&self) -> &'static str {
        "Softmax"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let axes = self.resolved(input)?;
        let max = static_keras_runtime::MAX_RANK;
        if input.len() > max && axes != [input.len() - 1] {
            return Err(ShapeError::new(
                self.axis_span,
                format!(
                    "Softmax along axes other than the last supports inputs of up to {max} axes, but its input {} has {}",
                    fmt_shape(input),
                    input.len()
                ),
            ));
        }
        Ok(input.to_vec())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let axis = if self.listed {
            Cfg::Ints(self.axes.clone())
        } else {
            Cfg::Int(self.axes[0])
        };
        vec![("axis", axis)]
    }

    fn field_type(&self, input: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        let (f, p) = dims(input);
        let (f, p) = (lit(f), lit(p));
        quote!(#rt::Softmax<#f, #p>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let axes = self.resolved(input).unwrap_or_default();
        if axes == [input.len() - 1] {
            return quote!(<#ty>::last_axis());
        }
        let shape = input.iter().map(|&d| lit(d));
        // Keras axes (batch = 0), so that a tuple of one stays the plain softmax.
        let axes = axes
            .iter()
            .map(|&a| Literal::isize_unsuffixed(a as isize + 1));
        quote!(<#ty>::new(&[#(#shape),*], &[#(#axes),*]))
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(self.init(input, output))
    }

    /// Keras's Softmax applies an incoming mask by broadcasting it against the input, which for
    /// the `(batch, steps)` mask of Masking or Embedding fails, or mixes the mask into the
    /// wrong axes depending on the batch size: a compile error here.
    fn forward_full(&self, f: Forward) -> TokenStream {
        if f.mask.is_some() {
            let message = "Softmax cannot take the mask that reaches it (from Masking or Embedding(mask_zero = True) \
                           through the layers before it): Keras broadcasts that (batch, steps) mask against the input's \
                           last axes, which raises or mixes it into the wrong axes; place Softmax after a layer that \
                           drops the mask (e.g. Flatten, or a recurrent layer without return_sequences)";
            return quote_spanned!(self.span=> ::core::compile_error!(#message));
        }
        self.forward(f.field, f.x, f.input, f.output)
    }

    passes_mask!();
}
