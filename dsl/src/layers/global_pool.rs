//! `GlobalAveragePooling1D/2D/3D` and `GlobalMaxPooling1D/2D/3D(data_format=None,
//! keepdims=False)`. `GlobalAveragePooling1D` consumes a mask (it averages the unmasked steps);
//! the max pools drop it, as Keras does.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::conv::{check_data_format, check_rank};
use super::{rt, Cfg, Entry, Forward, LayerSpec, Pass, Run, ShapeError};
use crate::args::{opt, Args, Param};

const SIGNATURE: &[Param] = &[opt("data_format"), opt("keepdims")];

pub const GLOBAL_AVERAGE_POOLING1D: Entry = Entry {
    class: "GlobalAveragePooling1D",
    signature: SIGNATURE,
    build: |args| build(args, 1, false),
};
pub const GLOBAL_AVERAGE_POOLING2D: Entry = Entry {
    class: "GlobalAveragePooling2D",
    signature: SIGNATURE,
    build: |args| build(args, 2, false),
};
pub const GLOBAL_AVERAGE_POOLING3D: Entry = Entry {
    class: "GlobalAveragePooling3D",
    signature: SIGNATURE,
    build: |args| build(args, 3, false),
};
pub const GLOBAL_MAX_POOLING1D: Entry = Entry {
    class: "GlobalMaxPooling1D",
    signature: SIGNATURE,
    build: |args| build(args, 1, true),
};
pub const GLOBAL_MAX_POOLING2D: Entry = Entry {
    class: "GlobalMaxPooling2D",
    signature: SIGNATURE,
    build: |args| build(args, 2, true),
};
pub const GLOBAL_MAX_POOLING3D: Entry = Entry {
    class: "GlobalMaxPooling3D",
    signature: SIGNATURE,
    build: |args| build(args, 3, true),
};

struct GlobalPool {
    rank: usize,
    max: bool,
    keepdims: bool,
    span: Span,
}

fn build(args: &Args, rank: usize, max: bool) -> Option<Box<dyn LayerSpec>> {
    let keepdims = args.bool("keepdims", false);
    check_data_format(args)?;
    Some(Box::new(GlobalPool {
        rank,
        max,
        keepdims,
        span: args.call.span(),
    }))
}

impl LayerSpec for GlobalPool {
    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn class(&self) -> &'static str {
        let classes = if self.max {
            [
                "GlobalMaxPooling1D",
                "GlobalMaxPooling2D",
                "GlobalMaxPooling3D",
            ]
        } else {
            [
                "GlobalAveragePooling1D",
                "GlobalAveragePooling2D",
                "GlobalAveragePooling3D",
            ]
        };
        classes[self.rank - 1]
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        check_rank(self.class(), self.rank, input, self.span)?;
        let channels = input[self.rank];
        Ok(if self.keepdims {
            let mut out = vec![1; self.rank];
            out.push(channels);
            out
        } else {
            vec![channels]
        })
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![
            ("data_format", Cfg::Str("channels_last".into())),
            ("keepdims", Cfg::Bool(self.keepdims)),
        ]
    }

    fn field_type(&self, _: &[usize], _: &[usize]) -> TokenStream {
        let rt = rt();
        if self.max {
            quote!(#rt::GlobalMaxPool)
        } else {
            quote!(#rt::GlobalAvgPool)
        }
    }

    fn init_const(&self, input: &[usize], output: &[usize], _: TokenStream) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        Some(quote!(#ty))
    }

    /// Under a mask, `GlobalAveragePooling1D` trains as its masked mean (`MaskedTrain`).
    fn masked_training(&self) -> bool {
        !self.max && self.rank == 1
    }

    /// Keras's `GlobalAveragePooling1D` averages the unmasked steps only; the other global
    /// pools do not support masking and ignore the mask.
    fn forward(&self, f: Forward) -> Pass {
        match f.mask {
            Some(mask) if !self.max && self.rank == 1 => {
                let (field, x) = (f.field, f.x);
                Pass::Expr(quote!(#field.forward_masked(#x, #mask)))
            }
            _ => Pass::Layer(Run::BatchedInto),
        }
    }
}
