//! `SimpleRNN`, `LSTM` and `GRU`: one spec for the three, as the runtime shares one time loop.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use static_keras_runtime::Activation;

use super::activation::{parse_activation, Act};
use super::{dims, fmt_shape, lit, rt, Cfg, Entry, Forward, LayerSpec, Pass, Run, ShapeError};
use crate::args::{ignored, opt, req, Args};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Cell {
    SimpleRnn,
    Lstm,
    Gru { reset_after: bool },
}

/// A recurrent layer's resolved arguments (also what `Bidirectional` wraps).
#[derive(Clone)]
pub(super) struct Recurrent {
    pub(super) cell: Cell,
    pub(super) units: usize,
    pub(super) activation: Activation,
    pub(super) recurrent_activation: Activation,
    pub(super) use_bias: bool,
    pub(super) return_sequences: bool,
    /// The `return_state = True` argument, when given.
    pub(super) return_state: Option<Span>,
    pub(super) go_backwards: bool,
    pub(super) stateful: bool,
    pub(super) zero_output_for_mask: bool,
    /// Keras `dropout` and `recurrent_dropout`, clamped to [0, 1] as Keras does (training only).
    pub(super) dropout: f64,
    pub(super) recurrent_dropout: f64,
    /// The whole call.
    pub(super) span: Span,
}

/// A recurrent signature: the positional parameters in Keras's order, then the ones every
/// recurrent layer accepts, then the layer's own.
macro_rules! signature {
    ($($positional:expr),* ; $($extra:expr),*) => {
        &[
            $($positional,)*
            // Accepted without effect at inference; the first one ends Keras's positional order.
            ignored("kernel_initializer"),
            ignored("recurrent_initializer"),
            ignored("bias_initializer"),
            ignored("kernel_regularizer"),
            ignored("recurrent_regularizer"),
            ignored("bias_regularizer"),
            ignored("kernel_constraint"),
            ignored("recurrent_constraint"),
            ignored("bias_constraint"),
            ignored("seed"),
            // Accepted for Keras code; dropout is the identity at inference and `unroll` gives
            // the same numbers (we follow the loop, which `unroll=False` runs).
            opt("dropout"),
            opt("recurrent_dropout"),
            opt("unroll"),
            opt("return_sequences"),
            opt("return_state"),
            opt("go_backwards"),
            opt("stateful"),
            opt("zero_output_for_mask"),
            $($extra,)*
        ]
    };
}

pub const SIMPLE_RNN: Entry = Entry {
    class: "SimpleRNN",
    signature: signature!(req("units"), opt("activation"), opt("use_bias"); ),
    build: |args| build(args, Cell::SimpleRnn),
};

pub const LSTM: Entry = Entry {
    class: "LSTM",
    signature: signature!(
        req("units"), opt("activation"), opt("recurrent_activation"), opt("use_bias");
        ignored("unit_forget_bias"), ignored("use_cudnn"), ignored("implementation")
    ),
    build: |args| build(args, Cell::Lstm),
};

pub const GRU: Entry = Entry {
    class: "GRU",
    signature: signature!(
        req("units"), opt("activation"), opt("recurrent_activation"), opt("use_bias");
        opt("reset_after"), ignored("use_cudnn"), ignored("implementation")
    ),
    build: |args| {
        build(
            args,
            Cell::Gru {
                reset_after: args.bool("reset_after", true),
            },
        )
    },
};

/// The recurrent layer of class `class` (`SimpleRNN`, `LSTM`, `GRU`) from its bound arguments,
/// or `None` for another class: what `Bidirectional` wraps. `Some(None)` when an argument had an
/// error (reported).
pub(super) fn from_args(class: &str, args: &Args) -> Option<Option<Recurrent>> {
    let cell = match class {
        "SimpleRNN" => Cell::SimpleRnn,
        "LSTM" => Cell::Lstm,
        "GRU" => Cell::Gru {
            reset_after: args.bool("reset_after", true),
        },
        _ => return None,
    };
    Some(recurrent(args, cell))
}

/// An activation argument of a recurrent layer: any Keras activation but `glu`, which would
/// halve the state.
fn activation(args: &Args, name: &str, default: Activation) -> Option<Activation> {
    if args.get(name).is_none() {
        return Some(default);
    }
    match parse_activation(args, name)? {
        Act::Fn(a) => Some(a),
        Act::Glu => {
            args.cx.error_at(
                args.span_of(name),
                format!(
                    "`{name} = \"glu\"` cannot be used in {}: glu halves the last axis, and a recurrent state keeps its size",
                    args.call.class
                ),
            );
            None
        }
    }
}

fn build(args: &Args, cell: Cell) -> Option<Box<dyn LayerSpec>> {
    recurrent(args, cell).map(|r| Box::new(r) as Box<dyn LayerSpec>)
}

fn recurrent(args: &Args, cell: Cell) -> Option<Recurrent> {
    let units = args.positive("units", None);
    let act = activation(args, "activation", Activation::Tanh);
    let recurrent_act = match cell {
        Cell::SimpleRnn => Some(Activation::Linear),
        _ => activation(args, "recurrent_activation", Activation::Sigmoid),
    };
    // Training only (the identity at inference), clamped as Keras's cells clamp them.
    let rate = |name| args.float(name, Some(0.0)).map(|r| r.clamp(0.0, 1.0));
    let (dropout, recurrent_dropout) = (rate("dropout"), rate("recurrent_dropout"));
    args.bool("unroll", false);
    let return_state = args.bool("return_state", false);
    Some(Recurrent {
        cell,
        units: units?,
        activation: act?,
        recurrent_activation: recurrent_act?,
        use_bias: args.bool("use_bias", true),
        return_sequences: args.bool("return_sequences", false),
        return_state: return_state.then(|| args.span_of("return_state")),
        go_backwards: args.bool("go_backwards", false),
        stateful: args.bool("stateful", false),
        zero_output_for_mask: args.bool("zero_output_for_mask", false),
        dropout: dropout?,
        recurrent_dropout: recurrent_dropout?,
        span: args.call.span(),
    })
}

fn act_tokens(a: Activation) -> TokenStream {
    Act::Fn(a).tokens()
}

impl Recurrent {
    /// Gate blocks per projection: 1, 4 (i, f, c, o) or 3 (z, r, h).
    fn gates(&self) -> usize {
        match self.cell {
            Cell::SimpleRnn => 1,
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
        }
    }

    fn runtime_name(&self) -> TokenStream {
        match self.cell {
            Cell::SimpleRnn => quote!(SimpleRnn),
            Cell::Lstm => quote!(Lstm),
            Cell::Gru { .. } => quote!(Gru),
        }
    }

    /// `init` with the options that are not type parameters: `go_backwards`,
    /// `zero_output_for_mask`, the dropout rates.
    fn with_options(&self, mut init: TokenStream) -> TokenStream {
        if self.go_backwards {
            init = quote!(#init.with_go_backwards(true));
        }
        if self.zero_output_for_mask {
            init = quote!(#init.with_zero_output_for_mask(true));
        }
        if self.dropout > 0.0 || self.recurrent_dropout > 0.0 {
            let (d, r) = (self.dropout as f32, self.recurrent_dropout as f32);
            init = quote!(#init.with_dropout(#d, #r));
        }
        init
    }

    /// The runtime type of the carried state.
    pub(super) fn state_ty(&self) -> TokenStream {
        let rt = rt();
        let units = lit(self.units);
        match self.cell {
            Cell::Lstm => quote!(#rt::LstmState<#units>),
            _ => quote!(#rt::Tensor<#units, 1>),
        }
    }
}

impl LayerSpec for Recurrent {
    fn class(&self) -> &'static str {
        match self.cell {
            Cell::SimpleRnn => "SimpleRNN",
            Cell::Lstm => "LSTM",
            Cell::Gru { .. } => "GRU",
        }
    }

    /// Backpropagation through time, masks, dropout and `return_state` included (a stateful
    /// layer carries state between calls, which training refuses for the whole model).
    fn training(&self) -> Result<(), String> {
        Ok(())
    }

    fn masked_training(&self) -> bool {
        true
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, ShapeError> {
        let [steps, _features] = input else {
            return Err(ShapeError::new(
                self.span,
                format!(
                    "{} expects a sequence of shape (timesteps, features), found {}",
                    self.class(),
                    fmt_shape(input)
                ),
            )
            .wanting_sequence());
        };
        Ok(if self.return_sequences {
            vec![*steps, self.units]
        } else {
            vec![self.units]
        })
    }

    fn params(&self, input: &[usize]) -> usize {
        let (features, u) = (dims(input).0, self.units);
        let bias = match (self.use_bias, self.cell) {
            (false, _) => 0,
            (true, Cell::Gru { reset_after: true }) => 6 * u,
            (true, _) => self.gates() * u,
        };
        self.gates() * u * (features + u) + bias
    }

    fn config(&self) -> Vec<(&'static str, Cfg)> {
        let mut config = vec![
            ("units", Cfg::Int(self.units as i64)),
            ("activation", Cfg::Str(self.activation.keras_name().into())),
        ];
        if self.cell != Cell::SimpleRnn {
            let name = self.recurrent_activation.keras_name().into();
            config.push(("recurrent_activation", Cfg::Str(name)));
        }
        config.extend([
            ("use_bias", Cfg::Bool(self.use_bias)),
            ("return_sequences", Cfg::Bool(self.return_sequences)),
            ("return_state", Cfg::Bool(self.return_state.is_some())),
            ("go_backwards", Cfg::Bool(self.go_backwards)),
            ("stateful", Cfg::Bool(self.stateful)),
            ("zero_output_for_mask", Cfg::Bool(self.zero_output_for_mask)),
        ]);
        if let Cell::Gru { reset_after } = self.cell {
            config.push(("reset_after", Cfg::Bool(reset_after)));
        }
        config
    }

    fn field_type(&self, input: &[usize], _output: &[usize]) -> TokenStream {
        let rt = rt();
        let (name, features, units) = (self.runtime_name(), lit(dims(input).0), lit(self.units));
        let mode = if self.return_sequences {
            quote!(#rt::ReturnSequences)
        } else {
            quote!(#rt::ReturnLast)
        };
        let bias = self.use_bias;
        quote!(#rt::#name<#features, #units, #mode, #bias>)
    }

    fn init(&self, input: &[usize], output: &[usize]) -> TokenStream {
        let ty = self.field_type(input, output);
        let (act, rec) = (
            act_tokens(self.activation),
            act_tokens(self.recurrent_activation),
        );
        let init = match self.cell {
            Cell::SimpleRnn => quote!(<#ty>::new(#act)),
            Cell::Lstm => quote!(<#ty>::new(#act, #rec)),
            Cell::Gru { reset_after } => quote!(<#ty>::new(#act, #rec, #reset_after)),
        };
        self.with_options(init)
    }

    fn init_zeroed(&self, _: &[usize], _: &[usize], place: TokenStream) -> Option<TokenStream> {
        let (act, rec) = (
            act_tokens(self.activation),
            act_tokens(self.recurrent_activation),
        );
        let (backwards, zero_output) = (self.go_backwards, self.zero_output_for_mask);
        let (dropout, recurrent_dropout) = (self.dropout as f32, self.recurrent_dropout as f32);
        let cell = match self.cell {
            Cell::SimpleRnn => TokenStream::new(),
            Cell::Lstm => quote!(#place.recurrent_activation = #rec;),
            Cell::Gru { reset_after } => quote! {
                #place.recurrent_activation = #rec;
                #place.reset_after = #reset_after;
            },
        };
        Some(quote! {
            #place.activation = #act;
            #cell
            #place.go_backwards = #backwards;
            #place.zero_output_for_mask = #zero_output;
            #place.dropout = #dropout;
            #place.recurrent_dropout = #recurrent_dropout;
        })
    }

    fn init_const(
        &self,
        input: &[usize],
        output: &[usize],
        weights: TokenStream,
    ) -> Option<TokenStream> {
        let ty = self.field_type(input, output);
        let (act, rec) = (
            act_tokens(self.activation),
            act_tokens(self.recurrent_activation),
        );
        let init = match self.cell {
            Cell::SimpleRnn => quote!(<#ty>::from_le_bytes_const(#weights, #act)),
            Cell::Lstm => quote!(<#ty>::from_le_bytes_const(#weights, #act, #rec)),
            Cell::Gru { reset_after } => {
                quote!(<#ty>::from_le_bytes_const(#weights, #act, #rec, #reset_after))
            }
        };
        Some(self.with_options(init))
    }

    /// Without masks, states or `return_state` (a model with any of them loops over samples),
    /// the forward pass is `Layer::forward`: a batch runs its steps in lockstep.
    fn forward(&self, f: Forward) -> Pass {
        let returns_state = self.return_state.is_some();
        if f.mask.is_none() && f.state.is_none() && !returns_state {
            return Pass::Layer(Run::Batched);
        }
        let Forward { field, x, .. } = f;
        let state_ty = self.state_ty();
        let state = f
            .state
            .unwrap_or_else(|| quote!(&mut <#state_ty as ::core::default::Default>::default()));
        let mask = match f.mask {
            Some(m) => quote!(::core::option::Option::Some(#m)),
            None => quote!(::core::option::Option::None),
        };
        let result = match (returns_state, self.cell) {
            (false, _) => quote!(__y),
            (true, Cell::Lstm) => quote!((__y, __s.h, __s.c)),
            (true, _) => quote!((__y, *__s)),
        };
        Pass::Expr(quote!({
            let __s: &mut #state_ty = #state;
            let __y = #field.forward_with(#x, #mask, __s);
            #result
        }))
    }

    fn output_mask(&self, _x: &TokenStream, mask: Option<&TokenStream>) -> Option<TokenStream> {
        // Keras re-emits the mask (unchanged, even going backwards) only with the sequence.
        mask.filter(|_| self.return_sequences).cloned()
    }

    fn check_position(&self, index: usize, count: usize) -> Result<(), ShapeError> {
        match self.return_state {
            Some(span) if index + 1 != count => Err(ShapeError::new(
                span,
                format!(
                    "`return_state = True` is only supported on the model's last layer: the final states become extra outputs of the model, \
                     but here the next layer would receive a tuple ({} returns its output and {} state{})",
                    self.class(),
                    if self.cell == Cell::Lstm { "two" } else { "one" },
                    if self.cell == Cell::Lstm { "s" } else { "" },
                ),
            )),
            _ => Ok(()),
        }
    }

    fn extra_outputs(&self) -> Vec<Vec<usize>> {
        match (self.return_state, self.cell) {
            (None, _) => Vec::new(),
            (Some(_), Cell::Lstm) => vec![vec![self.units]; 2],
            (Some(_), _) => vec![vec![self.units]],
        }
    }

    fn state_type(&self) -> Option<TokenStream> {
        self.stateful.then(|| self.state_ty())
    }

    fn sequence_hint(&self, name: &str) -> Option<String> {
        (!self.return_sequences).then(|| {
            format!(
                "`{name}` returns only its last output; set `return_sequences = true` on `{name}` to pass the whole sequence on"
            )
        })
    }
}
