//! `TimeDistributed(layer)`: the wrapped layer applied to every slice of axis 1.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{check_common, wrapped};
use crate::args::{req, Args};
use crate::layers::{
    dims, fmt_shape, forward_expr, lit, rt, Cfg, Entry, Forward, LayerSpec, Pass, Run, ShapeError,
};

pub const TIME_DISTRIBUTED: Entry = Entry {
    class: "TimeDistributed",
    signature: &[req("layer")],
    build,
};

struct TimeDistributed {
    layer: Box<dyn LayerSpec>,
    /// The wrapped layer's class as written (an alias stays an alias in messages).
    written: String,
    /// The wrapped layer was given a name (no automatic name is taken for it).
    named: bool,
    /// The wrapped layer's `trainable` flag.
    trainable: bool,
    /// The whole `TimeDistributed(…)` call.
    span: Span,
}

fn build(args: &Args) -> Option<Box<dyn LayerSpec>> {
    let inner = wrapped(args, "layer")?;
    let inner_args = Args::bind(&inner.call, inner.entry.signature, args.cx);
    let common = check_common(&inner_args, inner.entry, "TimeDistributed");
    let layer = (inner.entry.build)(&inner_args)?;
    let written = inner.call.class.to_string();
    let class = layer.class();
    let refuse = |why: String| {
        args.cx.error_at(
            inner.call.span(),
            format!("TimeDistributed cannot wrap {written}: {why}"),
        );
        None::<Box<dyn LayerSpec>>
    };
    if layer.merge() {
        return refuse(format!(
            "{class} merges a list of tensors, and TimeDistributed applies a layer to the slices of one"
        ));
    }
    if layer.token_input().is_some() {
        return refuse(
            "Embedding reads the model's token ids and must come first; put it before TimeDistributed (Embedding accepts ids of any rank)".into(),
        );
    }
    if layer.state_type().is_some() {
        return refuse(
            "a stateful layer carries its state from one call to the next, and TimeDistributed calls it once per slice".into(),
        );
    }
    if !layer.extra_outputs().is_empty() {
        return refuse(format!(
            "{class} returns several tensors here (`return_state = True`), and TimeDistributed stacks one output per slice"
        ));
    }
    Some(Box::new(TimeDistributed {
        layer,
        written,
        named: common.named,
        trainable: common.trainable,
        span: args.call.span(),
    }))
}

impl TimeDistributed {
    /// The slices one at a time through the wrapped layer's own forward code, each with its
    /// part of the mask.
    fn slice_by_slice(
        &self,
        field: TokenStream,
        x: TokenStream,
        mask: Option<TokenStream>,
        input: &[usize],
        output: &[usize],
    ) -> TokenStream {
        let rt = rt();
        let ty = self.field_type(input, output);
        let (slice_in, slice_out) = (&input[1..], &output[1..]);
        let steps = lit(input[0]);
        let bind_mask = mask.as_ref().map(|m| quote!(let __mask = #m;));
        let inner = forward_expr(
            &*self.layer,
            Forward {
                field: quote!(#field.layer),
                x: quote!(<#ty>::slice(__x, __t)),
                mask: mask.map(|_| quote!(<#ty>::slice_mask(__mask, __t))),
                state: None,
                input: slice_in,
                output: slice_out,
            },
        );
        let tensor = |shape: &[usize]| {
            let (f, p) = dims(shape);
            let (f, p) = (lit(f), lit(p));
            quote!(#rt::Tensor<#f, #p>)
        };
        let (out_ty, slice_ty) = (tensor(output), tensor(slice_out));
        // `__x`, `__mask` and `__t` are bound before a nested wrapper rebinds them.
        quote!({
            let __x = #x;
            #bind_mask
            let mut __y: #out_ty = #rt::zeros();
            for __t in 0..#steps {
                let __yt: #slice_ty = #inner;
                <#ty>::set_slice(&mut __y, __t, &__yt);
            }
            __y
        })
    }
}

impl LayerSpec for TimeDistributed {
    fn class(&self) -> &'static str {
        "TimeDistributed"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let [steps, slice @ ..] = input else {
            unreachable!("shapes have rank >= 1")
        };
        if slice.is_empty() {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "TimeDistributed applies {} to each step of axis 1, so it needs an input of at least two axes (steps, …), found {}",
                    self.written,
                    fmt_shape(input)
                ),
            ));
        }
        let out = self.layer.output_shape(slice).map_err(|e| {
            ShapeError::new(
                e.span,
                format!(
                    "{}; inside TimeDistributed, which gives it each of the {steps} slices {} of its input",
                    e.message,
                    fmt_shape(slice)
                ),
            )
        })?;
        Ok(std::iter::once(*steps).chain(out).collect())
    }

    fn params(&self, input: &[usize]) -> usize {
        self.layer.params(&input[1..])
    }

    fn non_trainable_params(&self, input: &[usize]) -> usize {
        self.layer.non_trainable_params(&input[1..])
    }

    fn training(&self) -> Result<(), String> {
        self.layer
            .training()
            .map_err(|why| format!("the layer TimeDistributed wraps: {why}"))
    }

    /// A wrapped layer that trains as another type (a fused `glu`) makes the wrapper train as
    /// the wrapper of that type.
    fn train_adapter(
        &self,
        _ty: &TokenStream,
        input: &[usize],
        output: &[usize],
    ) -> Option<TokenStream> {
        let rt = rt();
        let (slice_in, slice_out) = (&input[1..], &output[1..]);
        let inner_ty = self.layer.field_type(slice_in, slice_out);
        let inner = self.layer.train_adapter(&inner_ty, slice_in, slice_out)?;
        let steps = lit(input[0]);
        let slice = lit(dims(slice_in).1);
        let out = lit(dims(output).1);
        Some(quote!(#rt::TimeDistributed<#inner, #steps, #slice, #out>))
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        vec![(
            "layer",
            Cfg::Layer {
                class: self.layer.class(),
                config: self.layer.config(),
            },
        )]
    }

    fn wrapped_trainable(&self) -> Option<bool> {
        Some(self.trainable && self.layer.wrapped_trainable().unwrap_or(true))
    }

    fn nested_auto_names(&self) -> Vec<&'static str> {
        let mut names = self.layer.nested_auto_names();
        if !self.named {
            names.push(self.layer.class());
        }
        names
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let inner = self.layer.field_type(&input[1..], &output[1..]);
        let steps = lit(input[0]);
        let slice = lit(dims(&input[1..]).1);
        let out = lit(dims(output).1);
        quote!(#rt::TimeDistributed<#inner, #steps, #slice, #out>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let inner = self.layer.init(&input[1..], &output[1..]);
        quote!(<#ty>::new(#inner))
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let inner = self.layer.init_const(&input[1..], &output[1..], weights)?;
        Some(quote!(<#ty>::new(#inner)))
    }

    /// The wrapped layer's kind of pass on one slice decides: an identity stays one; where it
    /// is `Layer::forward` batched (or written in place), the runtime's `TimeDistributed` runs
    /// the slices as one batch of it and writes in place; otherwise, and under a mask (Keras
    /// passes `mask[:, t]` to a layer that takes one), the slices go one at a time through the
    /// wrapped layer's own forward code.
    fn forward(&self, f: Forward) -> Pass {
        let slice = self.layer.forward(Forward {
            field: quote!(__field),
            x: quote!(__x),
            mask: None,
            state: None,
            input: &f.input[1..],
            output: &f.output[1..],
        });
        match slice {
            Pass::Identity => Pass::Identity,
            Pass::Layer(Run::Batched | Run::BatchedInto) if f.mask.is_none() => {
                Pass::Layer(Run::BatchedInto)
            }
            _ => Pass::Expr(self.slice_by_slice(f.field, f.x, f.mask, f.input, f.output)),
        }
    }

    /// Keras passes the input's mask on unchanged (`supports_masking = True`, no
    /// `compute_mask`). Where the wrapped layer changes the number of positions the mask no
    /// longer fits the output, and it is dropped.
    fn output_mask_for(
        &self,
        _x: &TokenStream,
        mask: Option<&TokenStream>,
        input: &[usize],
        output: &[usize],
    ) -> Option<TokenStream> {
        mask.filter(|_| dims(input).1 == dims(output).1).cloned()
    }
}
