//! Stage 4: the struct, its `Model` impl and its inherent API, generated from the checked model.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::check;
use crate::ctxt::Ctxt;
use crate::layers::{dims, lit, rt, Forward, LayerSpec};
use crate::model::{self, Model};
use crate::parse::ModelInput;
use crate::summary::{self, Row};

pub fn expand(input: ModelInput) -> TokenStream {
    let cx = Ctxt::default();
    for error in &input.errors {
        cx.push(error.clone());
    }
    let model = model::build(input, &cx);
    let shapes = check::infer(&model, &cx);
    match (cx.check(), shapes) {
        (Ok(()), Some(shapes)) => generate(&model, &shapes),
        (Err(errors), _) => {
            let mut out = errors.to_compile_error();
            out.extend(fallback(&model));
            out
        }
        // Every failed rule records an error, so this means a layer was dropped without one (a
        // bug here). Never let that compile into a struct whose methods cannot run.
        (Ok(()), None) => {
            let mut out = syn::Error::new(
                model.ident.span(),
                "static-keras could not build this model and found no error to report; \
                 this is a bug in static-keras, please report it with the declaration",
            )
            .to_compile_error();
            out.extend(fallback(&model));
            out
        }
    }
}

/// After an error, the struct still exists with the API's names, so the user sees the real error
/// and not a cascade of "no function `predict`" in their own code.
fn fallback(model: &Model) -> TokenStream {
    let rt = rt();
    let Model {
        attrs, vis, ident, ..
    } = model;
    // A model declared stateful keeps its state type and method, so code using them does not
    // add errors of its own.
    let stateful = model
        .layers
        .iter()
        .any(|l| l.spec.as_ref().is_some_and(|s| s.state_type().is_some()));
    let state = stateful.then(|| {
        let state = state_ident(ident);
        quote! {
            #[derive(Default, Clone, Debug)]
            #vis struct #state {}
            #[allow(dead_code, unused_variables, clippy::all)]
            impl #state {
                pub fn reset(&mut self) {}
            }
            #[allow(dead_code, unused_variables, clippy::all)]
            impl #ident {
                pub fn predict_stateful(&self, state: &mut #state, input: &#rt::Tensor<1, 1>) -> #rt::Tensor<1, 1> { ::core::unreachable!() }
            }
        }
    });
    quote! {
        #state
        #(#attrs)*
        #vis struct #ident {}
        #[allow(dead_code, unused_variables, clippy::all)]
        impl #ident {
            pub const INPUT_SHAPE: &'static [usize] = &[];
            pub const OUTPUT_SHAPE: &'static [usize] = &[];
            pub const PARAMS: usize = 0;
            pub fn summary() -> &'static str { "" }
            pub fn predict(&self, input: &#rt::Tensor<1, 1>) -> #rt::Tensor<1, 1> { ::core::unreachable!() }
            pub fn predict_batch(&self, inputs: &[#rt::Tensor<1, 1>], outputs: &mut [#rt::Tensor<1, 1>]) { ::core::unreachable!() }
            pub fn input_from_slice<E>(values: &[E]) -> ::core::result::Result<#rt::Tensor<1, 1>, #rt::Error> { ::core::unreachable!() }
            pub fn from_le_bytes(bytes: &[u8]) -> ::core::result::Result<Self, #rt::Error> { ::core::unreachable!() }
        }
        impl ::core::default::Default for #ident {
            fn default() -> Self { ::core::unreachable!() }
        }
        ::static_keras::__with_keras_file! {
            #[allow(dead_code)]
            impl #ident {
                pub fn from_keras_file<P>(path: P) -> ::core::result::Result<Self, #rt::keras_file::Error> { ::core::unreachable!() }
            }
        }
        #[allow(unused_variables)]
        impl #rt::Model for #ident {
            type Input = #rt::Tensor<1, 1>;
            type InputElem = f32;
            type Output = #rt::Tensor<1, 1>;
            const INPUT_SHAPE: &'static [usize] = &[];
            const OUTPUT_SHAPE: &'static [usize] = &[];
            const PARAMS: usize = 0;
            const OUTPUT_LEN: usize = 0;
            fn input_from_slice(values: &[f32]) -> ::core::result::Result<Self::Input, #rt::Error> { ::core::unreachable!() }
            fn output_to_slice(output: &Self::Output, out: &mut [f32]) { ::core::unreachable!() }
            fn predict(&self, input: &Self::Input) -> Self::Output { ::core::unreachable!() }
            fn visit_layers_mut(
                &mut self,
                f: &mut dyn FnMut(#rt::LayerInfo, &mut dyn #rt::Weights) -> ::core::result::Result<(), #rt::Error>,
            ) -> ::core::result::Result<(), #rt::Error> { ::core::unreachable!() }
            fn visit_layers(&self, f: &mut dyn FnMut(#rt::LayerInfo, &dyn #rt::Weights)) { ::core::unreachable!() }
        }
    }
}

fn tensor(shape: &[usize]) -> TokenStream {
    let rt = rt();
    let (f, p) = dims(shape);
    let (f, p) = (lit(f), lit(p));
    quote!(#rt::Tensor<#f, #p>)
}

fn shape_const(shape: &[usize]) -> TokenStream {
    let dims = shape.iter().map(|&d| lit(d));
    quote!(&[#(#dims),*])
}

/// The carried-state type of a stateful model: `Kws` → `KwsState`.
fn state_ident(model: &syn::Ident) -> syn::Ident {
    format_ident!("{}State", model)
}

fn generate(model: &Model, shapes: &[Vec<usize>]) -> TokenStream {
    let rt = rt();
    let Model {
        attrs,
        vis,
        ident,
        layers,
        ..
    } = model;
    let specs: Vec<&dyn LayerSpec> = layers
        .iter()
        .map(|l| &**l.spec.as_ref().expect("checked models have every spec"))
        .collect();
    let input_shape = &shapes[0];
    let output_shape = shapes.last().expect("input shape present");
    let input_len = lit(input_shape.iter().product());

    // Token ids in when the first layer is an Embedding (the checker keeps it first).
    let vocab = specs.first().and_then(|s| s.token_input());
    let (input_ty, input_elem, input_body) = match vocab {
        Some(vocab) => {
            let ty = quote!(#rt::TokenIds<#input_len, #vocab>);
            let body = quote!(<#ty>::new(values));
            (ty, quote!(u32), body)
        }
        None => {
            let ty = tensor(input_shape);
            let body = quote! {
                if values.len() != #input_len {
                    return ::core::result::Result::Err(#rt::Error::InputLength {
                        expected: #input_len,
                        actual: values.len(),
                    });
                }
                ::core::result::Result::Ok(<#ty>::from_slice(values))
            };
            (ty, quote!(f32), body)
        }
    };

    // Several outputs when the last layer returns its states: a tuple, written one after the
    // other by `output_to_slice`.
    let extras = specs.last().map(|s| s.extra_outputs()).unwrap_or_default();
    let all_outputs: Vec<&[usize]> = std::iter::once(output_shape.as_slice())
        .chain(extras.iter().map(Vec::as_slice))
        .collect();
    let output_len = lit(all_outputs
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum());
    let output_ty = if extras.is_empty() {
        tensor(output_shape)
    } else {
        let tys = all_outputs.iter().map(|s| tensor(s));
        quote!((#(#tys,)*))
    };
    let output_copy = if extras.is_empty() {
        quote!(out.copy_from_slice(output.as_slice());)
    } else {
        let parts = all_outputs.iter().enumerate().map(|(k, shape)| {
            let k = syn::Index::from(k);
            let len = lit(shape.iter().product());
            quote! {
                out[__at..__at + #len].copy_from_slice(output.#k.as_slice());
                __at += #len;
            }
        });
        quote! {
            let mut __at = 0usize;
            #(#parts)*
            let _ = __at;
        }
    };
    let output_shapes = all_outputs.iter().map(|s| shape_const(s));
    let output_shapes = quote!(&[#(#output_shapes),*]);

    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut visits = Vec::new();
    let mut visits_mut = Vec::new();
    let mut steps = Vec::new();
    let mut rows = Vec::new();
    let mut states = Vec::new();
    let mut params_total = 0usize;
    // `from_le_bytes_const`: each layer's slice of the weight bytes, then its const constructor.
    let mut const_slices = Vec::new();
    let mut const_inits = Some(Vec::new());
    // The tensor the next layer reads, and its Keras mask if it has one: reference expressions.
    let mut current = quote!(input);
    let mut mask: Option<TokenStream> = None;
    // `predict_batch`: the non-identity layers (field, output shape), and whether any mask
    // exists (the batched path then is not used).
    let mut batch_layers: Vec<BatchStep> = Vec::new();
    let mut any_mask = false;
    for (i, (layer, spec)) in layers.iter().zip(&specs).enumerate() {
        let (input, output) = (&shapes[i], &shapes[i + 1]);
        let field = &layer.field;
        let ty = spec.field_type(input, output);
        let init = spec.init(input, output);
        let params = spec.params(input);
        params_total += params;
        let slice = format_ident!("__w_{}", layer.name);
        let bytes = lit(params * 4);
        const_slices.push(quote!(let (#slice, __rest) = __rest.split_at(#bytes);));
        const_inits = const_inits.and_then(|mut inits: Vec<TokenStream>| {
            let init = spec.init_const(input, output, quote!(#slice))?;
            inits.push(quote!(#field: #init));
            Some(inits)
        });
        let name = &layer.name;
        let class = spec.class();
        let doc = format!(
            " `{name}` ({class}): output shape {}, {params} parameters.",
            crate::layers::fmt_shape(output)
        );
        fields.push(quote!(#[doc = #doc] #vis #field: #ty));
        inits.push(quote!(#field: #init));
        let config = spec
            .config()
            .into_iter()
            .map(|(key, value)| quote!((#key, #value)));
        // A chain: each layer reads the output of the one before it.
        let source = match i {
            0 => quote!(#rt::Source::Input(0)),
            _ => {
                let prev = i - 1;
                quote!(#rt::Source::Layer { layer: #prev, call: 0, output: 0 })
            }
        };
        let info = quote!(#rt::LayerInfo { name: #name, class: #class, config: &[#(#config),*], calls: &[&[#source]] });
        visits.push(quote!(f(#info, &self.#field);));
        visits_mut.push(quote!(f(#info, &mut self.#field)?;));
        let is_last = i + 1 == layers.len();
        rows.push(Row {
            name: name.clone(),
            class,
            output: output.clone(),
            extra: if is_last { extras.clone() } else { Vec::new() },
            params,
        });
        let state_ty = spec.state_type();
        if let Some(state_ty) = &state_ty {
            states.push((field.clone(), state_ty.clone()));
        }
        let mask_out = spec.output_mask(&current, mask.as_ref());
        any_mask |= mask_out.is_some();
        if !spec.identity() {
            batch_layers.push(BatchStep {
                output,
                forward: if spec.batch_forward() {
                    quote!(#rt::Layer::forward_batch(&self.#field, __in, __out))
                } else {
                    let one = spec.forward(quote!(self.#field), quote!(__x), input, output);
                    quote! {
                        for (__x, __y) in __in.iter().zip(__out.iter_mut()) {
                            *__y = #one;
                        }
                    }
                },
            });
        }
        if spec.identity() {
            mask = mask_out;
            continue;
        }
        let binding = format_ident!("__x{}", i + 1);
        let forward = spec.forward_full(Forward {
            field: quote!(self.#field),
            x: current.clone(),
            mask: mask.clone(),
            state: state_ty.map(|_| quote!(&mut __state.#field)),
            input,
            output,
        });
        let out_ty = if is_last {
            output_ty.clone()
        } else {
            tensor(output)
        };
        // Spanned on the layer: if the checker ever got a shape wrong, rustc's own type error
        // points at the user's layer rather than at the macro.
        let in_place = spec.forward_into() && mask.is_none() && !is_last;
        if in_place {
            // In place, with no copy of a large returned activation, and aligned to a cache line
            // for the vector stores that write it and the loads that read it.
            let x = &current;
            let call = quote!(#rt::Layer::forward_into(&self.#field, #x, &mut #binding.0));
            steps.push(quote_spanned!(layer.span=>
                let mut #binding: #rt::Aligned<#out_ty> = #rt::Aligned(#rt::zeros());));
            steps.push(quote!(#call;));
        } else {
            steps.push(quote_spanned!(layer.span=> let #binding: #out_ty = #forward;));
        }
        mask = mask_out.map(|expr| {
            let m = format_ident!("__m{}", i + 1);
            let positions = lit(dims(output).1);
            steps.push(quote_spanned!(layer.span=> let #m: &[bool; #positions] = #expr;));
            quote!(#m)
        });
        current = if in_place {
            quote!(&#binding.0)
        } else {
            quote!(&#binding)
        };
    }
    let summary = summary::render(&ident.to_string(), &rows);
    let predict_batch = (states.is_empty() && extras.is_empty() && !any_mask)
        .then(|| predict_batch(&batch_layers, &input_ty, &output_ty));
    let const_constructor = const_inits.map(|inits| {
        let total_bytes = lit(params_total * 4);
        let message = format!(
            "{ident} needs exactly {} weight bytes ({params_total} f32 parameters, little-endian)",
            params_total * 4
        );
        quote! {
            /// The model from raw little-endian f32 weights in Keras `model.weights` order, built
            /// by the compiler: `static NET: Model = Model::from_le_bytes_const(include_bytes!(…));`
            /// keeps every weight in read-only memory (flash on a microcontroller), none in RAM.
            /// A wrong byte count is a compile error there (a panic if called at run time).
            pub const fn from_le_bytes_const(bytes: &[u8]) -> Self {
                ::core::assert!(
                    bytes.len() == #total_bytes,
                    #message
                );
                let __rest = bytes;
                #(#const_slices)*
                let _ = __rest;
                Self { #(#inits,)* }
            }
        }
    });
    let params_total_lit = lit(params_total);
    let input_const = shape_const(input_shape);
    let output_const = shape_const(output_shape);

    // Stateful models run `predict_stateful`; `predict` starts it from zero states.
    let (predict_body, stateful_items) = if states.is_empty() {
        (
            quote! {
                #(#steps)*
                ::core::clone::Clone::clone(#current)
            },
            TokenStream::new(),
        )
    } else {
        let state = state_ident(ident);
        let doc = format!(
            " The states `{ident}`'s stateful recurrent layers carry from one \
             `predict_stateful` call to the next, one field per layer. `Default` is all zeros."
        );
        let state_fields = states.iter().map(|(f, ty)| {
            let doc = format!(" The state of `{f}`.");
            quote!(#[doc = #doc] #vis #f: #ty)
        });
        let state_inits = states
            .iter()
            .map(|(f, ty)| quote!(#f: <#ty as ::core::default::Default>::default()));
        let items = quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq)]
            #vis struct #state {
                #(#state_fields,)*
            }

            impl ::core::default::Default for #state {
                fn default() -> Self {
                    Self { #(#state_inits,)* }
                }
            }

            impl #state {
                /// Zeroes every state (Keras `reset_state()`).
                pub fn reset(&mut self) {
                    *self = <Self as ::core::default::Default>::default();
                }
            }

            #[allow(clippy::all)]
            impl #ident {
                /// Runs the model on one chunk of a stream from `state`, leaving the final
                /// states in it for the next chunk. Never allocates.
                #[inline]
                pub fn predict_stateful(&self, state: &mut #state, input: &#input_ty) -> #output_ty {
                    <Self as #rt::StatefulModel>::predict_stateful(self, state, input)
                }
            }

            impl #rt::StatefulModel for #ident {
                type State = #state;

                fn predict_stateful(&self, __state: &mut #state, input: &#input_ty) -> #output_ty {
                    #(#steps)*
                    ::core::clone::Clone::clone(#current)
                }
            }
        };
        let body = quote! {
            let mut __state = <#state as ::core::default::Default>::default();
            <Self as #rt::StatefulModel>::predict_stateful(self, &mut __state, input)
        };
        (body, items)
    };

    quote! {
        #(#attrs)*
        #vis struct #ident {
            #(#fields,)*
        }

        #[allow(clippy::all)]
        impl #ident {
            /// The Keras input shape, without the batch axis.
            pub const INPUT_SHAPE: &'static [usize] = #input_const;
            /// The Keras output shape, without the batch axis (the first output's when the
            /// last layer returns its states).
            pub const OUTPUT_SHAPE: &'static [usize] = #output_const;
            /// The shapes of every output, in order.
            pub const OUTPUT_SHAPES: &'static [&'static [usize]] = #output_shapes;
            /// Number of parameters, equal to Keras's `model.count_params()`.
            pub const PARAMS: usize = #params_total_lit;

            /// The model as Keras's `model.summary()` prints it.
            pub fn summary() -> &'static str {
                #summary
            }

            /// Runs the model on one sample. Never allocates.
            #[inline]
            pub fn predict(&self, input: &#input_ty) -> #output_ty {
                <Self as #rt::Model>::predict(self, input)
            }

            /// Runs the model on a batch, `outputs[i] = predict(&inputs[i])`, sharing each
            /// weight read across the batch where a layer allows. Never allocates. Panics when
            /// the two slices have different lengths.
            #[inline]
            pub fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
                <Self as #rt::Model>::predict_batch(self, inputs, outputs)
            }

            #const_constructor

            /// One input sample from its values in Keras's row-major order.
            pub fn input_from_slice(values: &[#input_elem]) -> ::core::result::Result<#input_ty, #rt::Error> {
                <Self as #rt::Model>::input_from_slice(values)
            }

            /// The model with weights from raw little-endian f32 values, in Keras's
            /// `model.weights` order (`np.concatenate([w.numpy().ravel() for w in model.weights])`).
            pub fn from_le_bytes(bytes: &[u8]) -> ::core::result::Result<Self, #rt::Error> {
                let mut model = <Self as ::core::default::Default>::default();
                #rt::load_le_bytes(&mut model, bytes)?;
                ::core::result::Result::Ok(model)
            }
        }

        ::static_keras::__with_keras_file! {
            #[allow(clippy::all)]
            impl #ident {
                /// The model with its weights from a Keras file: a `.keras` archive (whose saved
                /// architecture must match this declaration), a `.weights.h5`, or a legacy `.h5`.
                /// Every weight's shape is checked.
                pub fn from_keras_file<P: ::core::convert::AsRef<#rt::keras_file::Path>>(
                    path: P,
                ) -> ::core::result::Result<Self, #rt::keras_file::Error> {
                    #rt::keras_file::load(path)
                }
            }
        }

        impl ::core::default::Default for #ident {
            /// The model with every weight zero.
            fn default() -> Self {
                Self { #(#inits,)* }
            }
        }

        impl #rt::Model for #ident {
            type Input = #input_ty;
            type InputElem = #input_elem;
            type Output = #output_ty;
            const INPUT_SHAPE: &'static [usize] = #input_const;
            const OUTPUT_SHAPE: &'static [usize] = #output_const;
            const OUTPUT_SHAPES: &'static [&'static [usize]] = #output_shapes;
            const PARAMS: usize = #params_total_lit;
            const OUTPUT_LEN: usize = #output_len;

            fn input_from_slice(values: &[#input_elem]) -> ::core::result::Result<#input_ty, #rt::Error> {
                #input_body
            }

            fn output_to_slice(output: &#output_ty, out: &mut [f32]) {
                #output_copy
            }

            fn predict(&self, input: &#input_ty) -> #output_ty {
                #predict_body
            }

            #predict_batch

            fn visit_layers_mut(
                &mut self,
                f: &mut dyn FnMut(#rt::LayerInfo, &mut dyn #rt::Weights) -> ::core::result::Result<(), #rt::Error>,
            ) -> ::core::result::Result<(), #rt::Error> {
                #(#visits_mut)*
                ::core::result::Result::Ok(())
            }

            fn visit_layers(&self, f: &mut dyn FnMut(#rt::LayerInfo, &dyn #rt::Weights)) {
                #(#visits)*
            }
        }

        #stateful_items
    }
}

/// Stack budget of the intermediate activations of one chunk of `predict_batch`, in f32 values
/// (256 KiB), and the most samples a chunk holds.
const BATCH_STACK_VALUES: usize = 64 * 1024;
const MAX_CHUNK: usize = 16;

/// `Model::predict_batch`: the batch in chunks of samples small enough for the stack; each layer
/// runs `Layer::forward_batch` on the whole chunk (one matrix product for Dense, recurrent steps
/// in lockstep), so weights are read once per chunk rather than once per sample. With the
/// `parallel` feature the runtime splits the batch across threads first.
/// One non-identity layer of `predict_batch`: its output shape, and its code over a chunk, from
/// `__in: &[input]` into `__out: &mut [output]`.
struct BatchStep<'a> {
    output: &'a [usize],
    forward: TokenStream,
}

fn predict_batch(
    layers: &[BatchStep],
    input_ty: &TokenStream,
    output_ty: &TokenStream,
) -> TokenStream {
    let rt = rt();
    let Some((last, hidden)) = layers.split_last() else {
        // Only identity layers: the output is the input.
        return quote! {
            fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
                ::core::assert_eq!(inputs.len(), outputs.len(), "predict_batch: as many outputs as inputs");
                outputs.clone_from_slice(inputs);
            }
        };
    };
    let values: usize = hidden
        .iter()
        .map(|l| l.output.iter().product::<usize>())
        .sum();
    let chunk = lit((BATCH_STACK_VALUES / values.max(1)).clamp(1, MAX_CHUNK));
    // The chunk's activations, set up once per call (every layer overwrites its output).
    let mut buffers = Vec::new();
    let mut steps = Vec::new();
    let mut x = quote!(__xs);
    let last_forward = &last.forward;
    for (k, layer) in hidden.iter().enumerate() {
        let b = format_ident!("__b{}", k + 1);
        let (f, p) = dims(layer.output);
        let forward = &layer.forward;
        let (f, p) = (lit(f), lit(p));
        if k == 0 {
            steps.push(quote!(let __n = __xs.len();));
        }
        buffers.push(quote!(let mut #b = [#rt::zeros::<#f, #p>(); __CHUNK];));
        steps.push(quote! {
            {
                let (__in, __out) = (#x, &mut #b[..__n]);
                #forward
            }
        });
        x = quote!(&#b[..__n]);
    }
    quote! {
        fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
            ::core::assert_eq!(inputs.len(), outputs.len(), "predict_batch: as many outputs as inputs");
            const __CHUNK: usize = #chunk;
            #rt::split_batch(inputs, outputs, &|inputs: &[#input_ty], outputs: &mut [#output_ty]| {
                #(#buffers)*
                for (__xs, __ys) in inputs.chunks(__CHUNK).zip(outputs.chunks_mut(__CHUNK)) {
                    #(#steps)*
                    let (__in, __out) = (#x, __ys);
                    #last_forward
                }
            });
        }
    }
}
