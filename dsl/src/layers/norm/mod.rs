//! The normalization layers: `BatchNormalization`, `LayerNormalization`, `GroupNormalization`,
//! `Normalization`, and `Rescaling`; and what they share: reading `axis`, lenient booleans,
//! and the `(outer, C, INNER)` layout of the normalized axes.

mod batch;
mod group;
mod layer;
mod normalization;
mod rescaling;

pub use batch::BATCH_NORMALIZATION;
pub use group::GROUP_NORMALIZATION;
pub use layer::LAYER_NORMALIZATION;
pub use normalization::NORMALIZATION;
pub use rescaling::RESCALING;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::spanned::Spanned;

use super::{fmt_shape, lit, rt, ShapeError};
use crate::args::{bool_value, int_value, is_none, tuple_items, Args};

/// A boolean argument: `True`/`False`, or the integers `1`/`0` that tf.keras 2 wrote into some
/// saved configs (`"scale": 1`).
pub fn flag(args: &Args, name: &str, default: bool) -> bool {
    let Some(expr) = args.get(name) else {
        return default;
    };
    let value = bool_value(expr).or_else(|| match int_value(expr) {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    });
    value.unwrap_or_else(|| {
        args.cx.error_spanned_by(
            expr,
            format!(
                "`{name}` of {} expects `True` or `False`, found `{}`",
                args.call.class,
                expr.to_token_stream()
            ),
        );
        default
    })
}

/// `epsilon`: a finite number ≥ 0 (Keras's default 1e-3 when absent).
pub fn epsilon(args: &Args) -> Option<f64> {
    let eps = args.float("epsilon", Some(1e-3))?;
    if !(eps.is_finite() && eps >= 0.0) {
        args.cx.error_at(
            args.span_of("epsilon"),
            format!(
                "`epsilon` of {} must be a finite number >= 0, found {eps:?}",
                args.call.class
            ),
        );
        return None;
    }
    Some(eps)
}

/// An `f32` expression of `v` as Keras casts it (a value beyond the f32 range is infinite).
pub fn f32_lit(v: f64) -> TokenStream {
    let v = v as f32;
    if v.is_finite() {
        Literal::f32_suffixed(v).into_token_stream()
    } else if v > 0.0 {
        quote!(::core::f32::INFINITY)
    } else if v < 0.0 {
        quote!(::core::f32::NEG_INFINITY)
    } else {
        quote!(::core::f32::NAN)
    }
}

/// How `axis` may be given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AxisForm {
    /// One int; a one-item list too (tf.keras 2 wrote BatchNormalization's axis as `[3]`).
    One,
    /// An int or a list of ints.
    Many,
    /// An int, a list of ints, or `None` (no axis: Normalization's single mean).
    ManyOrNone,
}

/// `axis` as written, with its span; `default` when absent.
pub fn read_axes(args: &Args, default: i64, form: AxisForm) -> Option<(Vec<i64>, Span)> {
    let Some(expr) = args.get("axis") else {
        return Some((vec![default], args.call.span()));
    };
    let class = &args.call.class;
    let expected = match form {
        AxisForm::One => "an integer axis",
        AxisForm::Many => "an integer axis or a tuple of axes",
        AxisForm::ManyOrNone => "an integer axis, a tuple of axes, or `None`",
    };
    if is_none(expr) {
        if form == AxisForm::ManyOrNone {
            return Some((Vec::new(), expr.span()));
        }
        args.cx.error_spanned_by(
            expr,
            format!("`axis` of {class} expects {expected}, found `None`"),
        );
        return None;
    }
    let axes = match int_value(expr) {
        Some(v) => Some(vec![v]),
        None => tuple_items(expr).and_then(|items| items.iter().map(|e| int_value(e)).collect()),
    };
    match axes {
        Some(axes) if form != AxisForm::One || axes.len() == 1 => Some((axes, expr.span())),
        Some(axes) => {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "{class} normalizes along one axis, found {} axes `{}`",
                    axes.len(),
                    expr.to_token_stream()
                ),
            );
            None
        }
        None => {
            args.cx.error_spanned_by(
                expr,
                format!(
                    "`axis` of {class} expects {expected}, found `{}`",
                    expr.to_token_stream()
                ),
            );
            None
        }
    }
}

/// `(batch, 4, 5)`: the input's shape as Keras numbers its axes.
fn with_batch(input: &[usize]) -> String {
    let dims: Vec<String> = input.iter().map(usize::to_string).collect();
    format!("(batch, {})", dims.join(", "))
}

/// The positions in `input` (no batch axis) that `axes` name, sorted; negative axes count from
/// the end of `(batch, *input)`, as in Keras.
pub fn resolve_axes(
    class: &str,
    axes: &[i64],
    input: &[usize],
    span: Span,
) -> Result<Vec<usize>, ShapeError> {
    let rank = input.len() as i64 + 1;
    let shape = fmt_shape(input);
    let batched = with_batch(input);
    let mut positions = Vec::new();
    for &a in axes {
        if a < -rank || a >= rank {
            return Err(ShapeError::new(
                span,
                format!(
                    "{class} axis {a} is out of range for its rank-{rank} input {batched}; use -{rank} <= axis < {rank}"
                ),
            ));
        }
        let resolved = if a < 0 { a + rank } else { a } as usize;
        if resolved == 0 {
            return Err(ShapeError::new(
                span,
                format!(
                    "{class} axis {a} is the batch axis of its input {batched}; static-keras runs one sample at a time, so normalize along an axis of {shape}"
                ),
            ));
        }
        if positions.contains(&(resolved - 1)) {
            return Err(ShapeError::new(
                span,
                format!("{class} axis names axis {resolved} of its input {batched} twice"),
            ));
        }
        positions.push(resolved - 1);
    }
    positions.sort_unstable();
    Ok(positions)
}

/// `(C, INNER)`: the number of values of the normalized axes at `positions` (sorted, of
/// `input`) and of the axes after them; the axes must be adjacent. No axis: `(1, all)`.
pub fn block(
    class: &str,
    positions: &[usize],
    input: &[usize],
    span: Span,
) -> Result<(usize, usize), ShapeError> {
    let Some((&first, &last)) = positions.first().zip(positions.last()) else {
        return Ok((1, input.iter().product()));
    };
    if last - first + 1 != positions.len() {
        let axes: Vec<String> = positions.iter().map(|p| (p + 1).to_string()).collect();
        return Err(ShapeError::new(
            span,
            format!(
                "{class} over axes ({}) of its input {}: static-keras needs the normalized axes to be adjacent",
                axes.join(", "),
                with_batch(input)
            ),
        ));
    }
    Ok((
        input[first..=last].iter().product(),
        input[last + 1..].iter().product(),
    ))
}

/// The runtime `DimsN` type of a variable shape (up to 4 axes: every input static-keras takes
/// has at most 4 axes besides the batch).
pub fn dims_type(shape: &[usize]) -> TokenStream {
    let rt = rt();
    let ident = format_ident!("Dims{}", shape.len());
    let dims = shape.iter().map(|&d| lit(d));
    if shape.is_empty() {
        quote!(#rt::#ident)
    } else {
        quote!(#rt::#ident<#(#dims),*>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_resolve_like_keras() {
        let span = Span::call_site();
        assert_eq!(resolve_axes("L", &[-1], &[5, 4], span).ok(), Some(vec![1]));
        assert_eq!(
            resolve_axes("L", &[2, 1], &[5, 4], span).ok(),
            Some(vec![0, 1])
        );
        let err = resolve_axes("L", &[3], &[5, 4], span).err().unwrap();
        assert!(err.message.contains("out of range"), "{}", err.message);
        let err = resolve_axes("L", &[-3], &[5, 4], span).err().unwrap();
        assert!(err.message.contains("batch axis"), "{}", err.message);
        let err = resolve_axes("L", &[1, -2], &[5, 4], span).err().unwrap();
        assert!(err.message.contains("twice"), "{}", err.message);
    }

    #[test]
    fn blocks() {
        let span = Span::call_site();
        assert_eq!(block("L", &[2], &[2, 3, 4], span).ok(), Some((4, 1)));
        assert_eq!(block("L", &[0, 1], &[2, 3, 4], span).ok(), Some((6, 4)));
        assert_eq!(block("L", &[], &[2, 3, 4], span).ok(), Some((1, 24)));
        assert!(block("L", &[0, 2], &[2, 3, 4], span).is_err());
        assert_eq!(
            dims_type(&[]).to_string(),
            ":: static_keras :: __private :: Dims0"
        );
    }
}

#[cfg(test)]
mod import_tests {
    use static_keras_file::ModelConfig;

    use crate::import::translate;

    #[test]
    fn tf_keras_2_configs_translate_and_check() {
        // What tf.keras 2.14 wrote: BatchNormalization's axis as a list, `"scale": 1`.
        let c = ModelConfig::parse(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 3], "name": "in"}},
            {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "axis": [3],
                "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": 1,
                "beta_initializer": {"class_name": "Zeros", "config": {}}, "renorm": false}},
            {"class_name": "LayerNormalization", "config": {"name": "ln", "axis": [-1], "epsilon": 0.001,
                "center": true, "scale": true, "rms_scaling": false}},
            {"class_name": "Rescaling", "config": {"name": "r", "scale": 0.00392156862745098, "offset": 0.0}}]}}"#,
            "test",
        )
        .unwrap();
        let t = translate(&c).unwrap();
        assert_eq!(
            t.layers[0],
            r#"BatchNormalization(axis = (3,), momentum = 0.99, epsilon = 0.001, center = True, scale = 1, renorm = False, name = "batch_normalization")"#
        );
        let (model, shapes) = t.analyse(&c).unwrap();
        assert_eq!(model.layers.len(), 3);
        assert_eq!(shapes.calls.last().unwrap()[0], vec![4, 4, 3]);
    }
}
