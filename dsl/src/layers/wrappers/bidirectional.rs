//! `Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)` over
//! `SimpleRNN`, `LSTM` and `GRU`.

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::super::recurrent::{self, Cell, Recurrent};
use super::{check_common, wrapped, Common};
use crate::args::{is_none, opt, req, Args};
use crate::layers::{
    dims, fmt_shape, lit, rt, Cfg, Entry, Forward, LayerSpec, Pass, Run, ShapeError,
};
use crate::suggest::did_you_mean;

pub const BIDIRECTIONAL: Entry = Entry {
    class: "Bidirectional",
    signature: &[
        req("layer"),
        opt("merge_mode"),
        opt("weights"),
        opt("backward_layer"),
    ],
    build,
};

/// Keras's `merge_mode`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Merge {
    Concat,
    Sum,
    Mul,
    Ave,
    /// `merge_mode=None`: both outputs, not merged.
    Separate,
}

impl Merge {
    const NAMES: &'static [(&'static str, Merge)] = &[
        ("concat", Merge::Concat),
        ("sum", Merge::Sum),
        ("mul", Merge::Mul),
        ("ave", Merge::Ave),
    ];

    fn name(self) -> Option<&'static str> {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
    }
}

struct Bidirectional {
    forward: Recurrent,
    backward: Recurrent,
    merge: Merge,
    /// The wrapped layers' `trainable` flag (both have the same).
    trainable: bool,
    /// The classes of the wrapped layers written without a name, in creation order: each takes
    /// a number from its class's counter of automatic names, as in Keras.
    auto_names: Vec<&'static str>,
    /// The backward layer's call (given or, when made from the forward one, the forward one's).
    backward_span: Span,
    merge_span: Span,
}

/// A recurrent layer given as `param` (`layer`, `backward_layer`): its spec, its name and
/// `trainable`, and the span of its `go_backwards` argument (or of its call).
fn recurrent_arg(args: &Args, param: &str) -> Option<(Recurrent, Common, Span)> {
    let inner = wrapped(args, param)?;
    let inner_args = Args::bind(&inner.call, inner.entry.signature, args.cx);
    let common = check_common(&inner_args, inner.entry, "Bidirectional");
    let Some(spec) = recurrent::from_args(inner.entry.class, &inner_args) else {
        args.cx.error_at(
            inner.call.span(),
            format!(
                "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU), not {}",
                inner.call.class
            ),
        );
        return None;
    };
    Some((spec?, common, inner_args.span_of("go_backwards")))
}

fn build(args: &Args) -> Option<Box<dyn LayerSpec>> {
    let cx = args.cx;
    let forward = recurrent_arg(args, "layer");
    let merge = match args.get("merge_mode") {
        None => Some(Merge::Concat),
        Some(expr) if is_none(expr) => Some(Merge::Separate),
        Some(_) => args.string("merge_mode").and_then(|(mode, span)| {
            let found = Merge::NAMES.iter().find(|(n, _)| *n == mode);
            if found.is_none() {
                let names = Merge::NAMES.iter().map(|(n, _)| *n);
                cx.error_at(
                    span,
                    format!(
                        "unknown merge_mode \"{mode}\" for Bidirectional: \"concat\", \"sum\", \"mul\", \"ave\" or None{}",
                        did_you_mean(&mode, names)
                    ),
                );
            }
            found.map(|(_, m)| *m)
        }),
    };
    if let Some(expr) = args.get("weights").filter(|e| !is_none(e)) {
        cx.error_spanned_by(
            expr,
            "`weights` of Bidirectional is not supported: static-keras takes weights from a Keras file or `from_le_bytes`",
        );
    }
    let backward = args
        .get("backward_layer")
        .filter(|e| !is_none(e))
        .map(|_| recurrent_arg(args, "backward_layer"));
    let (mut forward, forward_common, go_backwards_span) = forward?;
    let mut auto_names = Vec::new();
    if !forward_common.named {
        auto_names.push(forward.class());
    }
    let (mut backward, backward_span) = match backward {
        // Keras: a copy of the layer with `go_backwards=True`.
        None => {
            if forward.go_backwards {
                cx.error_at(
                    go_backwards_span,
                    "Bidirectional makes its backward layer from this one with `go_backwards = True`, so this one must read forwards (Keras raises the same error); to choose both layers, give `backward_layer`",
                );
                return None;
            }
            let mut backward = forward.clone();
            backward.go_backwards = true;
            (backward, forward.span)
        }
        Some(given) => {
            let (backward, common, go_backwards_span) = given?;
            if common.trainable != forward_common.trainable {
                cx.error_at(
                    backward.span,
                    "the forward and backward layers of Bidirectional must agree on `trainable`: static-keras freezes or trains a layer as a whole",
                );
                return None;
            }
            if !common.named {
                auto_names.push(backward.class());
            }
            if backward.go_backwards == forward.go_backwards {
                cx.error_at(
                    go_backwards_span,
                    format!(
                        "the forward and backward layers of Bidirectional must differ in `go_backwards`, both have {}",
                        if backward.go_backwards { "True" } else { "False" }
                    ),
                );
                return None;
            }
            let pairs = [
                ("stateful", forward.stateful, backward.stateful),
                (
                    "return_sequences",
                    forward.return_sequences,
                    backward.return_sequences,
                ),
                (
                    "return_state",
                    forward.return_state.is_some(),
                    backward.return_state.is_some(),
                ),
            ];
            // Keras 3.15 sizes the outputs of `return_state` from the forward layer's states
            // twice, and fails to build a model whose backward layer has another number.
            let lstm = |r: &Recurrent| r.cell == Cell::Lstm;
            if forward.return_state.is_some() && lstm(&forward) != lstm(&backward) {
                cx.error_at(
                    backward.span,
                    "with `return_state = True` the forward and backward layers of Bidirectional must have as many states (an LSTM has two, SimpleRNN and GRU one): Keras counts the forward layer's twice and cannot build this model",
                );
                return None;
            }
            for (name, f, b) in pairs {
                if f != b {
                    let show = |v: bool| if v { "True" } else { "False" };
                    cx.error_at(
                        backward.span,
                        format!(
                            "the forward and backward layers of Bidirectional must agree on `{name}`: {} for the layer, {} for the backward layer",
                            show(f),
                            show(b)
                        ),
                    );
                    return None;
                }
            }
            let span = backward.span;
            (backward, span)
        }
    };
    // Keras forces both layers' zero_output_for_mask to return_sequences.
    forward.zero_output_for_mask = forward.return_sequences;
    backward.zero_output_for_mask = backward.return_sequences;
    Some(Box::new(Bidirectional {
        forward,
        backward,
        merge: merge?,
        trainable: forward_common.trainable,
        auto_names,
        backward_span,
        merge_span: args.span_of("merge_mode"),
    }))
}

impl Recurrent {
    /// Expressions of the final states (`return_state`) held by `state`, a `&mut` to the
    /// layer's state.
    fn state_values(&self, state: &TokenStream) -> Vec<TokenStream> {
        match self.cell {
            Cell::Lstm => vec![quote!(#state.h), quote!(#state.c)],
            _ => vec![quote!(*#state)],
        }
    }
}

impl Bidirectional {
    fn returns_state(&self) -> bool {
        self.forward.return_state.is_some()
    }

    /// The two layers' output shapes.
    fn outputs(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        let forward = self.forward.output_shape(input)?;
        let backward = self.backward.output_shape(input)?;
        Ok((forward, backward))
    }

    /// The merged output's runtime type of merge mode (`wrappers::Concat<8>`).
    fn mode(&self, output: &[usize]) -> TokenStream {
        let rt = rt();
        match self.merge {
            Merge::Concat => {
                let out = lit(dims(output).0);
                quote!(#rt::wrappers::Concat<#out>)
            }
            Merge::Sum => quote!(#rt::wrappers::Sum),
            Merge::Mul => quote!(#rt::wrappers::Mul),
            Merge::Ave => quote!(#rt::wrappers::Ave),
            Merge::Separate => quote!(#rt::wrappers::Separate),
        }
    }

    /// The inner layer's shapes for its field: its output for `input`.
    fn inner_output(layer: &Recurrent, input: &[usize]) -> Vec<usize> {
        layer
            .output_shape(input)
            .unwrap_or_else(|_| vec![layer.units])
    }

    /// A wrapped layer's config as Keras saves it inside Bidirectional's.
    fn inner_config(layer: &Recurrent) -> Cfg {
        Cfg::Layer {
            class: layer.class(),
            config: layer.config(),
        }
    }
}

impl LayerSpec for Bidirectional {
    fn class(&self) -> &'static str {
        "Bidirectional"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let (forward, backward) = self.outputs(input)?;
        match self.merge {
            Merge::Concat => {
                let mut out = forward;
                *out.last_mut().expect("rank >= 1") += backward.last().expect("rank >= 1");
                Ok(out)
            }
            Merge::Separate => Ok(forward),
            mode if forward != backward => Err(ShapeError::new(
                self.backward_span,
                format!(
                    "merge_mode \"{}\" combines the two outputs value by value, but the forward layer outputs {} and the backward layer {}",
                    mode.name().unwrap_or_default(),
                    fmt_shape(&forward),
                    fmt_shape(&backward)
                ),
            )),
            _ => Ok(forward),
        }
    }

    fn params(&self, input: &[usize]) -> usize {
        self.forward.params(input) + self.backward.params(input)
    }

    /// The two layers' training paths, merged; with `merge_mode = None` through the runtime's
    /// `SeparateOutputs` (see [`LayerSpec::train_adapter`]).
    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    /// `merge_mode = None` trains as `SeparateOutputs`: the forward output is the main one, the
    /// backward output the first extra one.
    fn train_adapter(
        &self,
        ty: &TokenStream,
        input: &[usize],
        output: &[usize],
    ) -> Option<TokenStream> {
        let rt = rt();
        let _ = (input, output);
        (self.merge == Merge::Separate).then(|| quote!(#rt::wrappers::SeparateOutputs<#ty>))
    }

    /// Under a mask, every merge mode trains through the runtime's `MaskedTrain`
    /// (`merge_mode = None` through `SeparateOutputs`'s).
    fn masked_training(&self) -> bool {
        true
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let merge = match self.merge.name() {
            Some(name) => Cfg::Str(name.into()),
            None => Cfg::None,
        };
        vec![
            ("merge_mode", merge),
            ("layer", Self::inner_config(&self.forward)),
            ("backward_layer", Self::inner_config(&self.backward)),
        ]
    }

    fn wrapped_trainable(&self) -> Option<bool> {
        Some(self.trainable)
    }

    fn nested_auto_names(&self) -> Vec<&'static str> {
        self.auto_names.clone()
    }

    fn field_type(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let rt = rt();
        let forward = self
            .forward
            .field_type(input, &Self::inner_output(&self.forward, input));
        let backward = self
            .backward
            .field_type(input, &Self::inner_output(&self.backward, input));
        let mode = self.mode(output);
        quote!(#rt::Bidirectional<#forward, #backward, #mode>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let forward = self
            .forward
            .init(input, &Self::inner_output(&self.forward, input));
        let backward = self
            .backward
            .init(input, &Self::inner_output(&self.backward, input));
        quote!(<#ty>::new(#forward, #backward))
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let split = lit(4 * self.forward.params(input));
        let forward = self.forward.init_const(
            input,
            &Self::inner_output(&self.forward, input),
            quote!(__forward),
        )?;
        let backward = self.backward.init_const(
            input,
            &Self::inner_output(&self.backward, input),
            quote!(__backward),
        )?;
        Some(quote!({
            let (__forward, __backward) = #weights.split_at(#split);
            <#ty>::new(#forward, #backward)
        }))
    }

    /// Without masks, states or extra outputs the forward pass is `Layer::forward`, which a
    /// batch runs in lockstep.
    fn forward(&self, f: Forward) -> Pass {
        let separate = self.merge == Merge::Separate;
        if f.mask.is_none() && f.state.is_none() && !self.returns_state() && !separate {
            return Pass::Layer(Run::Batched);
        }
        let Forward { field, x, .. } = f;
        let (forward_state, backward_state) = (self.forward.state_ty(), self.backward.state_ty());
        let states = match f.state {
            Some(state) => quote! {
                let __s: &mut (#forward_state, #backward_state) = #state;
                let (__fs, __bs) = (&mut __s.0, &mut __s.1);
            },
            None => quote! {
                let __fs: &mut #forward_state = &mut ::core::default::Default::default();
                let __bs: &mut #backward_state = &mut ::core::default::Default::default();
            },
        };
        let mask = match f.mask {
            Some(m) => quote!(::core::option::Option::Some(#m)),
            None => quote!(::core::option::Option::None),
        };
        let mut outputs = if separate {
            vec![quote!(__y.0), quote!(__y.1)]
        } else {
            vec![quote!(__y)]
        };
        if self.returns_state() {
            outputs.extend(self.forward.state_values(&quote!(__fs)));
            outputs.extend(self.backward.state_values(&quote!(__bs)));
        }
        let result = match outputs.as_slice() {
            [one] => one.clone(),
            many => quote!((#(#many,)*)),
        };
        Pass::Expr(quote!({
            #states
            let __y = #field.forward_with(#x, #mask, __fs, __bs);
            #result
        }))
    }

    /// Keras's `compute_mask`: the input's mask with the sequences (for each of the two outputs
    /// of `merge_mode=None`), none on the last outputs and on the states.
    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        mask.filter(|_| self.forward.return_sequences).cloned()
    }

    fn extra_output_masks(
        &self,
        x: &TokenStream,
        mask: Option<&TokenStream>,
    ) -> Vec<Option<TokenStream>> {
        let mut masks = Vec::new();
        if self.merge == Merge::Separate {
            masks.push(self.output_mask(x, mask));
        }
        masks.extend(std::iter::repeat_n(None, self.states().len()));
        masks
    }

    fn check_position(&self, index: usize, count: usize) -> Result<(), ShapeError> {
        if index + 1 == count {
            return Ok(());
        }
        let (span, what) = match (self.merge, self.forward.return_state) {
            (_, Some(span)) => (span, "`return_state = True`"),
            (Merge::Separate, None) => (self.merge_span, "`merge_mode = None`"),
            _ => return Ok(()),
        };
        Err(ShapeError::new(
            span,
            format!(
                "Bidirectional with {what} returns {} tensors, so it is only supported on the model's last layer (its outputs become the model's); in the functional form, bind them: `a, b, … = Bidirectional(…)(x)`",
                1 + self.extra_outputs().len()
            ),
        ))
    }

    fn extra_outputs(&self) -> Vec<Vec<usize>> {
        let mut shapes = Vec::new();
        if self.merge == Merge::Separate {
            shapes.push(vec![self.backward.units]);
        }
        shapes.extend(self.states());
        shapes
    }

    fn extra_output_shapes(&self, input: &[usize]) -> Vec<Vec<usize>> {
        let mut shapes = Vec::new();
        if self.merge == Merge::Separate {
            shapes.push(Self::inner_output(&self.backward, input));
        }
        shapes.extend(self.states());
        shapes
    }

    fn state_type(&self) -> Option<TokenStream> {
        let (forward, backward) = (self.forward.state_ty(), self.backward.state_ty());
        self.forward.stateful.then(|| quote!((#forward, #backward)))
    }

    fn sequence_hint(&self, name: &str) -> Option<String> {
        (!self.forward.return_sequences).then(|| {
            format!(
                "`{name}` returns only the last outputs of its layers; set `return_sequences = True` on the layer inside `{name}` to pass the whole sequence on"
            )
        })
    }
}

impl Bidirectional {
    /// The final states returned with `return_state`: the forward layer's, then the backward
    /// layer's.
    fn states(&self) -> Vec<Vec<usize>> {
        if !self.returns_state() {
            return Vec::new();
        }
        let mut states = self.forward.extra_outputs();
        states.extend(self.backward.extra_outputs());
        states
    }
}
