//! `ZeroPadding1D(padding=1, data_format=None)`, `ZeroPadding2D(padding=(1, 1), …)`,
//! `ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1)), …)` and `Cropping1D(cropping=(1, 1))`,
//! `Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)`,
//! `Cropping3D(cropping=((1, 1), (1, 1), (1, 1)), data_format=None)`: Keras 3's defaults
//! differ per rank, and Cropping1D has no `data_format`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Expr;

use super::conv::{check_data_format, check_rank, reject_none};
use super::{fmt_shape, lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{int_value, opt, tuple_items, Args, Param};

const PADDING_SIGNATURE: &[Param] = &[opt("padding"), opt("data_format")];
const CROPPING1D_SIGNATURE: &[Param] = &[opt("cropping")];
const CROPPING_SIGNATURE: &[Param] = &[opt("cropping"), opt("data_format")];

pub const ZERO_PADDING1D: Entry = Entry {
    class: "ZeroPadding1D",
    signature: PADDING_SIGNATURE,
    build: |args| build(args, 1, false),
};
pub const ZERO_PADDING2D: Entry = Entry {
    class: "ZeroPadding2D",
    signature: PADDING_SIGNATURE,
    build: |args| build(args, 2, false),
};
pub const ZERO_PADDING3D: Entry = Entry {
    class: "ZeroPadding3D",
    signature: PADDING_SIGNATURE,
    build: |args| build(args, 3, false),
};
pub const CROPPING1D: Entry = Entry {
    class: "Cropping1D",
    signature: CROPPING1D_SIGNATURE,
    build: |args| build(args, 1, true),
};
pub const CROPPING2D: Entry = Entry {
    class: "Cropping2D",
    signature: CROPPING_SIGNATURE,
    build: |args| build(args, 2, true),
};
pub const CROPPING3D: Entry = Entry {
    class: "Cropping3D",
    signature: CROPPING_SIGNATURE,
    build: |args| build(args, 3, true),
};

/// `(before, after)` per spatial axis.
type Ends = Vec<(usize, usize)>;

struct Border {
    rank: usize,
    crop: bool,
    ends: Ends,
    span: Span,
    arg_span: Span,
}

/// Keras 3's default for each layer (Cropping2D crops nothing, Cropping1D/3D one each side).
fn default_ends(rank: usize, crop: bool) -> Ends {
    let each = if crop && rank == 2 { 0 } else { 1 };
    vec![(each, each); rank]
}

/// What the argument takes, for messages.
fn expectation(rank: usize) -> &'static str {
    match rank {
        1 => "a non-negative integer or a tuple (before, after) of two",
        2 => "a non-negative integer, a tuple of 2 (one per axis, both ends) or ((top, bottom), (left, right))",
        _ => "a non-negative integer, a tuple of 3 (one per axis, both ends) or ((before, after), (before, after), (before, after)) per axis",
    }
}

/// `n` → `(n, n)`; `(a, b)` → `(a, b)`. Signed, for the negativity check.
fn pair(expr: &Expr) -> Option<(i64, i64)> {
    if let Some(n) = int_value(expr) {
        return Some((n, n));
    }
    match tuple_items(expr)?.as_slice() {
        [a, b] => Some((int_value(a)?, int_value(b)?)),
        _ => None,
    }
}

/// Reads `padding` / `cropping` in every form Keras accepts: an int for every end; for 1D a
/// pair `(before, after)`; for 2D/3D one item per axis, each an int (both ends) or a pair.
fn read_ends(args: &Args, name: &str, rank: usize, crop: bool) -> Option<Ends> {
    let class = &args.call.class;
    let expected = expectation(rank);
    if !reject_none(args, name, expected) {
        return None;
    }
    let Some(expr) = args.get(name) else {
        return Some(default_ends(rank, crop));
    };
    let signed: Option<Vec<(i64, i64)>> = match int_value(expr) {
        Some(n) => Some(vec![(n, n); rank]),
        None if rank == 1 => pair(expr).map(|p| vec![p]),
        None => tuple_items(expr)
            .filter(|items| items.len() == rank)
            .and_then(|items| items.into_iter().map(pair).collect()),
    };
    let Some(signed) = signed else {
        args.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of {class} expects {expected}, found `{}`",
                quote::ToTokens::to_token_stream(expr)
            ),
        );
        return None;
    };
    if signed.iter().any(|&(a, b)| a < 0 || b < 0) {
        args.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of {class} must not be negative, found {}",
                fmt_ends(&signed, rank)
            ),
        );
        return None;
    }
    Some(
        signed
            .into_iter()
            .map(|(a, b)| (a as usize, b as usize))
            .collect(),
    )
}

/// `(1, 2)` for one axis, `((1, 2), (0, 0))` for more, as Keras prints the config.
fn fmt_ends<T: std::fmt::Display>(ends: &[(T, T)], rank: usize) -> String {
    let pairs: Vec<String> = ends.iter().map(|(a, b)| format!("({a}, {b})")).collect();
    if rank == 1 {
        pairs.join(", ")
    } else {
        format!("({})", pairs.join(", "))
    }
}

fn build(args: &Args, rank: usize, crop: bool) -> Option<Box<dyn LayerSpec>> {
    let name = if crop { "cropping" } else { "padding" };
    let ends = read_ends(args, name, rank, crop);
    // Cropping1D has no data_format (Args::bind reports it as unknown).
    check_data_format(args)?;
    Some(Box::new(Border {
        rank,
        crop,
        ends: ends?,
        span: args.call.span(),
        arg_span: args.span_of(name),
    }))
}

/// How the spatial axes of a rank-`rank` input are called, for messages.
fn axis_names(rank: usize) -> &'static [&'static str] {
    match rank {
        1 => &["steps"],
        2 => &["rows", "columns"],
        _ => &["depth slices", "rows", "columns"],
    }
}

impl LayerSpec for Border {
    fn forward(&self, _f: super::Forward) -> super::Pass {
        super::Pass::Layer(super::Run::BatchedInto)
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn class(&self) -> &'static str {
        let classes = if self.crop {
            ["Cropping1D", "Cropping2D", "Cropping3D"]
        } else {
            ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]
        };
        classes[self.rank - 1]
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        check_rank(class, self.rank, input, self.span)?;
        let mut out = Vec::with_capacity(input.len());
        for (i, (&n, &(before, after))) in input.iter().zip(&self.ends).enumerate() {
            if !self.crop {
                out.push(n + before + after);
            } else if before + after < n {
                out.push(n - before - after);
            } else {
                return Err(ShapeError::new(
                    self.arg_span,
                    format!(
                        "{class} cropping {} removes all {n} {} of its input {} ({before} + {after} cropped); each axis must keep at least one",
                        fmt_ends(&self.ends, self.rank),
                        axis_names(self.rank)[i],
                        fmt_shape(input),
                    ),
                ));
            }
        }
        out.push(input[self.rank]);
        Ok(out)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        // Keras saves ((before, after), …) nested; the loader compares it flattened.
        let flat = self
            .ends
            .iter()
            .flat_map(|&(a, b)| [a as i64, b as i64])
            .collect();
        let key = if self.crop { "cropping" } else { "padding" };
        let mut config = vec![(key, Cfg::Ints(flat))];
        if !(self.crop && self.rank == 1) {
            config.push(("data_format", Cfg::Str("channels_last".into())));
        }
        config
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let axes = self.ends.iter().zip(input).map(|(&(before, after), &n)| {
            let (n, before, after) = (lit(n), lit(before), lit(after));
            quote!(#rt::Edges<#n, #before, #after>)
        });
        let channels = lit(input[self.rank]);
        let pout = lit(output[..self.rank].iter().product());
        let alias = format_ident!(
            "{}{}d",
            if self.crop { "Crop" } else { "ZeroPad" },
            self.rank
        );
        quote!(#rt::#alias<#channels, #(#axes,)* #pout>)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(<#ty>::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_differ_per_rank_as_in_keras_3() {
        assert_eq!(default_ends(1, false), vec![(1, 1)]);
        assert_eq!(default_ends(3, false), vec![(1, 1); 3]);
        assert_eq!(default_ends(1, true), vec![(1, 1)]);
        assert_eq!(default_ends(2, true), vec![(0, 0); 2]);
        assert_eq!(default_ends(3, true), vec![(1, 1); 3]);
    }

    #[test]
    fn ends_print_as_keras_config() {
        assert_eq!(fmt_ends(&[(1, 2)], 1), "(1, 2)");
        assert_eq!(fmt_ends(&[(1, 2), (0, 0)], 2), "((1, 2), (0, 0))");
    }
}
