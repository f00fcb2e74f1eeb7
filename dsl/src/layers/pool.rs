//! `MaxPooling1D/2D/3D(pool_size=2, strides=None, padding="valid", data_format=None)` and
//! `AveragePooling1D/2D/3D(pool_size, strides=None, padding="valid", data_format=None)`: in Keras 3
//! average pooling has no default `pool_size`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use static_keras_runtime::shape::Padding;

use super::conv::{
    axis_type, check_data_format, check_rank, read_padding, reject_none, tuple_expectation,
    window_output,
};
use super::{lit, rt, Cfg, Entry, LayerSpec, ShapeError};
use crate::args::{opt, req, Args, Param};

const MAX_SIGNATURE: &[Param] = &[
    opt("pool_size"),
    opt("strides"),
    opt("padding"),
    opt("data_format"),
];
const AVERAGE_SIGNATURE: &[Param] = &[
    req("pool_size"),
    opt("strides"),
    opt("padding"),
    opt("data_format"),
];

pub const MAX_POOLING1D: Entry = Entry {
    class: "MaxPooling1D",
    signature: MAX_SIGNATURE,
    build: |args| build(args, 1, true),
};
pub const MAX_POOLING2D: Entry = Entry {
    class: "MaxPooling2D",
    signature: MAX_SIGNATURE,
    build: |args| build(args, 2, true),
};
pub const MAX_POOLING3D: Entry = Entry {
    class: "MaxPooling3D",
    signature: MAX_SIGNATURE,
    build: |args| build(args, 3, true),
};
pub const AVERAGE_POOLING1D: Entry = Entry {
    class: "AveragePooling1D",
    signature: AVERAGE_SIGNATURE,
    build: |args| build(args, 1, false),
};
pub const AVERAGE_POOLING2D: Entry = Entry {
    class: "AveragePooling2D",
    signature: AVERAGE_SIGNATURE,
    build: |args| build(args, 2, false),
};
pub const AVERAGE_POOLING3D: Entry = Entry {
    class: "AveragePooling3D",
    signature: AVERAGE_SIGNATURE,
    build: |args| build(args, 3, false),
};

struct Pool {
    rank: usize,
    max: bool,
    pool: Vec<usize>,
    strides: Vec<usize>,
    padding: Padding,
    span: Span,
    pool_span: Span,
}

fn build(args: &Args, rank: usize, max: bool) -> Option<Box<dyn LayerSpec>> {
    // Average pooling's pool_size is required (Args::bind reports it missing).
    if !reject_none(args, "pool_size", &tuple_expectation(rank)) {
        return None;
    }
    let pool = args.int_tuple("pool_size", rank, max.then_some(2));
    // strides=None means strides = pool_size.
    let strides = if args.is_none("strides") {
        pool.clone()
    } else {
        args.int_tuple("strides", rank, None)
    };
    let padding = read_padding(args, false);
    let data_format = check_data_format(args);
    data_format?;
    Some(Box::new(Pool {
        rank,
        max,
        pool: pool?,
        strides: strides?,
        padding: padding?,
        span: args.call.span(),
        pool_span: args.span_of("pool_size"),
    }))
}

impl LayerSpec for Pool {
    fn forward(&self, _f: super::Forward) -> super::Pass {
        super::Pass::Layer(super::Run::BatchedInto)
    }

    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn class(&self) -> &'static str {
        let classes = if self.max {
            ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D"]
        } else {
            ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D"]
        };
        classes[self.rank - 1]
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let class = self.class();
        check_rank(class, self.rank, input, self.span)?;
        let (spatial, channels) = input.split_at(self.rank);
        let mut out = window_output(
            &format!("{class} pool_size"),
            spatial,
            &self.pool,
            &self.strides,
            &vec![1; self.rank],
            self.padding,
        )
        .map_err(|m| ShapeError::new(self.pool_span, m))?;
        out.push(channels[0]);
        Ok(out)
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let ints = |v: &[usize]| Cfg::Ints(v.iter().map(|&d| d as i64).collect());
        vec![
            ("pool_size", ints(&self.pool)),
            ("strides", ints(&self.strides)),
            ("padding", Cfg::Str(self.padding.keras_name().into())),
            ("data_format", Cfg::Str("channels_last".into())),
        ]
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let axes = (0..self.rank)
            .map(|i| axis_type(input[i], self.pool[i], self.strides[i], 1, self.padding));
        let channels = lit(input[self.rank]);
        let pout = lit(output[..self.rank].iter().product());
        let alias = format_ident!("{}Pool{}d", if self.max { "Max" } else { "Avg" }, self.rank);
        quote!(#rt::#alias<#channels, #(#axes,)* #pout>)
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(<#ty>::new()))
    }
}
