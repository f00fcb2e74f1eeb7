//! `Flatten(data_format=None)` and `Reshape(target_shape)`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{dims, fmt_shape, lit, rt, Cfg, Entry, LayerSpec, Memory, ShapeError};
use crate::args::{opt, req};

/// Both layers are a row-major reinterpretation: the runtime `Reshape` between tensor dims.
fn reshape_type(input: &[usize], output: &[usize]) -> TokenStream {
    let rt = rt();
    let (fi, pi) = dims(input);
    let (fo, po) = dims(output);
    let (fi, pi, fo, po) = (lit(fi), lit(pi), lit(fo), lit(po));
    quote!(#rt::Reshape<#fi, #pi, #fo, #po>)
}

/// `Reshape::<…>`, the unit struct's value (usable in `const` context).
fn reshape_value(input: &[usize], output: &[usize]) -> TokenStream {
    let rt = rt();
    let (fi, pi) = dims(input);
    let (fo, po) = dims(output);
    let (fi, pi, fo, po) = (lit(fi), lit(pi), lit(fo), lit(po));
    quote!(#rt::Reshape::<#fi, #pi, #fo, #po>)
}

struct Flatten {
    channels_first: Option<Span>,
}

pub const FLATTEN: Entry = Entry {
    class: "Flatten",
    signature: &[opt("data_format")],
    build: |args| {
        let channels_first = match args.string("data_format") {
            None => None,
            Some((f, _)) if f == "channels_last" => None,
            Some((f, span)) if f == "channels_first" => Some(span),
            Some((f, span)) => {
                args.cx.error_at(
                    span,
                    format!("data_format must be \"channels_last\" or \"channels_first\", found \"{f}\""),
                );
                return None;
            }
        };
        Some(Box::new(Flatten { channels_first }))
    },
};

impl LayerSpec for Flatten {
    fn class(&self) -> &'static str {
        "Flatten"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        if let Some(span) = self.channels_first {
            if input.len() > 2 {
                return Err(ShapeError::new(
                    span,
                    format!(
                        "Flatten(data_format=\"channels_first\") on {} would move the channel axis; \
                         static-keras keeps every tensor channels_last, so drop data_format",
                        fmt_shape(input)
                    ),
                ));
            }
        }
        Ok(vec![input.iter().product()])
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        reshape_type(input, output)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(reshape_value(input, output))
    }

    /// The output is the input's bytes (Keras's row-major order does not change).
    fn memory(&self) -> Memory {
        Memory::View
    }
}

struct Reshape {
    target: Vec<i64>,
    span: Span,
}

pub const RESHAPE: Entry = Entry {
    class: "Reshape",
    signature: &[req("target_shape")],
    build: |args| {
        let target = args.int_list("target_shape")?;
        let span = args.span_of("target_shape");
        let unknown = target.iter().filter(|&&d| d == -1).count();
        if unknown > 1 {
            args.cx.error_at(
                span,
                format!("Reshape target_shape {target:?} has {unknown} entries of -1; at most one can be inferred"),
            );
            return None;
        }
        if let Some(bad) = target.iter().find(|&&d| d == 0 || d < -1) {
            args.cx.error_at(
                span,
                format!("Reshape target_shape entries must be positive or -1, found {bad}"),
            );
            return None;
        }
        if target.is_empty() {
            args.cx
                .error_at(span, "Reshape target_shape must not be empty");
            return None;
        }
        Some(Box::new(Reshape { target, span }))
    },
};

impl LayerSpec for Reshape {
    fn class(&self) -> &'static str {
        "Reshape"
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![("target_shape", Cfg::Ints(self.target.clone()))]
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let count: usize = input.iter().product();
        let known: usize = self
            .target
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .product();
        let shown = format!(
            "(({}))",
            self.target
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
                + if self.target.len() == 1 { "," } else { "" }
        );
        if self.target.contains(&-1) {
            if !count.is_multiple_of(known) {
                return Err(ShapeError::new(
                    self.span,
                    format!(
                        "Reshape{shown} cannot hold the {count} values of input {}: {count} is not a multiple of {known}",
                        fmt_shape(input)
                    ),
                ));
            }
            Ok(self
                .target
                .iter()
                .map(|&d| if d == -1 { count / known } else { d as usize })
                .collect())
        } else if known != count {
            Err(ShapeError::new(
                self.span,
                format!(
                    "Reshape{shown} holds {known} values but its input {} holds {count}",
                    fmt_shape(input)
                ),
            ))
        } else {
            Ok(self.target.iter().map(|&d| d as usize).collect())
        }
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        reshape_type(input, output)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        Some(reshape_value(input, output))
    }

    /// The output is the input's bytes (Keras's row-major order does not change).
    fn memory(&self) -> Memory {
        Memory::View
    }
}
