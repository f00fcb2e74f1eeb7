//! The generated struct and its API: fields in Keras's layer order, constructors, visitors,
//! `summary()`, the `Model` impl, and the state of stateful models.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::batch::predict_batch;
use super::forward;
use super::plan::{Entry, Plan};
use crate::layers::{lit, rt};
use crate::model::Value;
use crate::summary::{self, Row};

fn shape_const(shape: &[usize]) -> TokenStream {
    let dims = shape.iter().map(|&d| lit(d));
    quote!(&[#(#dims),*])
}

/// The carried-state type of a stateful model: `Kws` → `KwsState`.
pub fn state_ident(model: &syn::Ident) -> syn::Ident {
    format_ident!("{}State", model)
}

/// The planned workspace type of a model: `Net` → `NetWorkspace`.
pub fn workspace_ident(model: &syn::Ident) -> syn::Ident {
    format_ident!("{}Workspace", model)
}

/// `zeroed()`, `zeroed_boxed()` and the model's `Zeroable` impl: the model with zero weights,
/// built by value or as zero bytes on the heap set up in place (`Model::init_zeroed`).
fn zeroed_items(plan: &Plan) -> TokenStream {
    let rt = rt();
    let krate = crate::layers::krate();
    let ident = &plan.model.ident;
    let tys = plan.order.iter().map(|&l| &plan.layers[l].ty);
    quote! {
        // SAFETY: every field is a runtime layer, and each layer type is `Zeroable` (required
        // just below, so this fails to build otherwise): the all-zero bytes of the struct are a
        // valid value.
        #[allow(unsafe_code)]
        unsafe impl #rt::Zeroable for #ident {}
        const _: () = {
            #(#rt::assert_zeroable::<#tys>();)*
        };

        #[allow(clippy::all)]
        impl #ident {
            /// The model with every weight zero (Keras's layers with all their variables 0) and
            /// its layers configured as declared: what the loaders fill. Built by value, on the
            /// stack for a local; [`Self::zeroed_boxed`] builds it on the heap.
            pub fn zeroed() -> Self {
                <Self as #rt::Model>::zeroed()
            }
        }

        #krate::__with_std! {
            #[allow(clippy::all)]
            impl #ident {
                /// [`Self::zeroed`] on the heap: allocated as zero bytes and set up in place,
                /// so the model is never built on the stack, whatever its size.
                pub fn zeroed_boxed() -> #rt::Box<Self> {
                    <Self as #rt::Model>::zeroed_boxed()
                }

                /// [`Self::from_le_bytes`] on the heap (see [`Self::zeroed_boxed`]).
                pub fn from_le_bytes_boxed(
                    bytes: &[u8],
                ) -> ::core::result::Result<#rt::Box<Self>, #rt::Error> {
                    let mut model = <Self as #rt::Model>::zeroed_boxed();
                    #rt::load_le_bytes(&mut *model, bytes)?;
                    ::core::result::Result::Ok(model)
                }
            }
        }
    }
}

/// `init_zeroed`'s statements: each layer set up in place, or assigned when it has no in-place
/// form (a layer without weights).
fn init_zeroed(plan: &Plan) -> Vec<TokenStream> {
    plan.order
        .iter()
        .map(|&l| {
            let layer = &plan.layers[l];
            let field = &layer.field;
            let place = quote!(self.#field);
            plan.spec(l)
                .init_zeroed(&layer.input, &layer.output, place.clone())
                .unwrap_or_else(|| {
                    let init = &layer.init;
                    quote!(#place = #init;)
                })
        })
        .collect()
}

/// The rows of the model's summary table, as Keras prints them.
pub fn rows(plan: &Plan) -> Vec<Row> {
    let model = plan.model;
    let name_of = |v: Value| match v {
        Value::Input(i) => format!("{}[0][0]", model.inputs[i].name),
        Value::Call { call, output } => format!(
            "{}[{}][{output}]",
            model.layers[model.calls[call].layer].name,
            model.call_index(call)
        ),
    };
    plan.entries
        .iter()
        .map(|entry| match *entry {
            Entry::Input(i) => Row {
                name: model.inputs[i].name.clone(),
                class: "InputLayer",
                output: plan.shapes.inputs[i].clone(),
                extra: Vec::new(),
                params: 0,
                non_trainable: 0,
                connected: (!plan.sequential_like).then(|| "-".to_string()),
            },
            Entry::Layer(l) => {
                let layer = &plan.layers[l];
                // Keras shows the outputs of the layer's last call.
                let last = model
                    .calls
                    .iter()
                    .rposition(|c| c.layer == l)
                    .expect("every layer is called");
                let outputs = &plan.shapes.calls[last];
                let connected = model
                    .calls
                    .iter()
                    .filter(|c| c.layer == l)
                    .flat_map(|c| c.inputs.iter().map(|&v| name_of(v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                Row {
                    name: model.layers[l].name.clone(),
                    class: plan.spec(l).class(),
                    output: outputs[0].clone(),
                    extra: outputs[1..].to_vec(),
                    params: layer.params,
                    non_trainable: layer.non_trainable,
                    connected: (!plan.sequential_like).then_some(connected),
                }
            }
        })
        .collect()
}

/// `LayerInfo` of every layer in visit order: name, class, config and wiring.
fn infos(plan: &Plan) -> Vec<TokenStream> {
    let rt = rt();
    let model = plan.model;
    let position = |layer: usize| {
        plan.order
            .iter()
            .position(|&l| l == layer)
            .expect("every layer is ordered")
    };
    plan.order
        .iter()
        .map(|&l| {
            let name = &model.layers[l].name;
            let class = plan.spec(l).class();
            let config = plan.layers[l]
                .config
                .iter()
                .map(|(key, value)| quote!((#key, #value)));
            let calls = model.calls.iter().filter(|c| c.layer == l).map(|c| {
                let sources = c.inputs.iter().map(|v| match *v {
                    Value::Input(i) => quote!(#rt::Source::Input(#i)),
                    Value::Call { call, output } => {
                        let layer = position(model.calls[call].layer);
                        let index = model.call_index(call);
                        quote!(#rt::Source::Layer { layer: #layer, call: #index, output: #output })
                    }
                });
                quote!(&[#(#sources),*])
            });
            quote!(#rt::LayerInfo {
                name: #name,
                class: #class,
                config: &[#(#config),*],
                calls: &[#(#calls),*],
            })
        })
        .collect()
}

/// The `Model::GRAPH` constant: how the model was declared, for writing Keras's `config.json`.
fn graph(plan: &Plan) -> TokenStream {
    let rt = rt();
    let model = plan.model;
    let name = crate::model::snake_case(&model.ident.to_string());
    let sequential = !model.functional;
    let inputs = model.inputs.iter().map(|input| {
        let name = &input.name;
        let dtype = if input.ids { "int32" } else { "float32" };
        quote!(#rt::GraphInput { name: #name, dtype: #dtype })
    });
    let position = |layer: usize| {
        plan.order
            .iter()
            .position(|&l| l == layer)
            .expect("every layer is ordered")
    };
    let outputs = model.outputs.iter().map(|v| match *v {
        Value::Input(i) => quote!(#rt::Source::Input(#i)),
        Value::Call { call, output } => {
            let layer = position(model.calls[call].layer);
            let index = model.call_index(call);
            quote!(#rt::Source::Layer { layer: #layer, call: #index, output: #output })
        }
    });
    let trainable = plan.order.iter().map(|&l| model.layers[l].trainable);
    let call_shapes = plan.order.iter().map(|&l| {
        let calls = (0..model.calls.len())
            .filter(|&c| model.calls[c].layer == l)
            .map(|c| {
                let shapes = plan.shapes.calls[c].iter().map(|s| shape_const(s));
                quote!(&[#(#shapes),*])
            });
        quote!(&[#(#calls),*])
    });
    quote! {
        const GRAPH: ::core::option::Option<#rt::ModelGraph> =
            ::core::option::Option::Some(#rt::ModelGraph {
                name: #name,
                sequential: #sequential,
                inputs: &[#(#inputs),*],
                outputs: &[#(#outputs),*],
                trainable: &[#(#trainable),*],
                call_shapes: &[#(#call_shapes),*],
            });
    }
}

/// `input_from_slice`'s body: one input from its values, or several from their concatenation.
fn input_body(plan: &Plan) -> TokenStream {
    let rt = rt();
    let one = |i: usize, values: TokenStream, floats_for_ids: bool| {
        let input = &plan.inputs[i];
        let ty = &input.ty;
        let len = lit(input.len);
        if input.elem.to_string() == "u32" {
            if floats_for_ids {
                quote!(<#ty>::from_f32(#values)?)
            } else {
                quote!(<#ty>::new(#values)?)
            }
        } else {
            quote!({
                let __values = #values;
                if __values.len() != #len {
                    return ::core::result::Result::Err(#rt::Error::InputLength {
                        expected: #len,
                        actual: __values.len(),
                    });
                }
                <#ty>::from_slice(__values)
            })
        }
    };
    if plan.inputs.len() == 1 {
        if plan.inputs[0].elem.to_string() == "u32" {
            let ty = &plan.inputs[0].ty;
            return quote!(<#ty>::new(values));
        }
        let x = one(0, quote!(values), false);
        return quote!(::core::result::Result::Ok(#x));
    }
    let total = lit(plan.inputs.iter().map(|i| i.len).sum());
    let mut at = 0usize;
    let parts: Vec<TokenStream> = (0..plan.inputs.len())
        .map(|i| {
            let (from, to) = (lit(at), lit(at + plan.inputs[i].len));
            at += plan.inputs[i].len;
            one(i, quote!(&values[#from..#to]), true)
        })
        .collect();
    quote! {
        if values.len() != #total {
            return ::core::result::Result::Err(#rt::Error::InputLength {
                expected: #total,
                actual: values.len(),
            });
        }
        ::core::result::Result::Ok((#(#parts,)*))
    }
}

/// `output_from_slice`'s body: one output from its values, or several from their
/// concatenation (a model's targets, in the output's layout).
fn output_body(plan: &Plan) -> TokenStream {
    let rt = rt();
    let shapes = plan.output_shapes();
    let total = lit(shapes.iter().map(|s| s.iter().product::<usize>()).sum());
    let check = quote! {
        if values.len() != #total {
            return ::core::result::Result::Err(#rt::Error::OutputLength {
                expected: #total,
                actual: values.len(),
            });
        }
    };
    if let [one] = shapes.as_slice() {
        let ty = super::plan::tensor(one);
        return quote! {
            #check
            ::core::result::Result::Ok(<#ty>::from_slice(values))
        };
    }
    let mut at = 0usize;
    let parts = shapes.iter().map(|shape| {
        let len: usize = shape.iter().product();
        let (from, to) = (lit(at), lit(at + len));
        at += len;
        let ty = super::plan::tensor(shape);
        quote!(<#ty>::from_slice(&values[#from..#to]))
    });
    quote! {
        #check
        ::core::result::Result::Ok((#(#parts,)*))
    }
}

/// `inputs_from_slices(a, b, …)` of a model with several inputs: one typed slice per input.
fn inputs_from_slices(plan: &Plan) -> TokenStream {
    if plan.inputs.len() < 2 {
        return TokenStream::new();
    }
    let rt = rt();
    let input_ty = plan.input_ty();
    let names: Vec<syn::Ident> = plan
        .model
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let base = input.binding.clone().unwrap_or_else(|| input.name.clone());
            syn::parse_str::<syn::Ident>(&base).unwrap_or_else(|_| format_ident!("input_{}", i))
        })
        .collect();
    let params = names.iter().zip(&plan.inputs).map(|(n, i)| {
        let elem = &i.elem;
        quote!(#n: &[#elem])
    });
    let parts = names.iter().zip(&plan.inputs).map(|(n, i)| {
        let ty = &i.ty;
        let len = lit(i.len);
        if i.elem.to_string() == "u32" {
            quote!(<#ty>::new(#n)?)
        } else {
            quote!({
                if #n.len() != #len {
                    return ::core::result::Result::Err(#rt::Error::InputLength {
                        expected: #len,
                        actual: #n.len(),
                    });
                }
                <#ty>::from_slice(#n)
            })
        }
    });
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let doc = format!(" The model's inputs ({list}) from their values in Keras's row-major order.");
    quote! {
        #[doc = #doc]
        pub fn inputs_from_slices(#(#params),*) -> ::core::result::Result<#input_ty, #rt::Error> {
            ::core::result::Result::Ok((#(#parts,)*))
        }
    }
}

/// `from_le_bytes_const`, when every layer can be built at compile time.
pub(crate) fn const_constructor(plan: &Plan) -> Option<TokenStream> {
    let ident = &plan.model.ident;
    let mut slices = Vec::new();
    let mut inits = Vec::new();
    for &l in &plan.order {
        let layer = &plan.layers[l];
        let slice = format_ident!("__w_{}", plan.model.layers[l].name);
        let bytes = lit(layer.params * 4);
        slices.push(quote!(let (#slice, __rest) = __rest.split_at(#bytes);));
        let init = plan
            .spec(l)
            .init_const(&layer.input, &layer.output, quote!(#slice))?;
        let field = &layer.field;
        inits.push(quote!(#field: #init));
    }
    let total = plan.params();
    let total_bytes = lit(total * 4);
    let message = format!(
        "{ident} needs exactly {} weight bytes ({total} f32 parameters, little-endian)",
        total * 4
    );
    Some(quote! {
        /// The model from raw little-endian f32 weights in Keras `model.weights` order, built
        /// by the compiler: `static NET: Model = Model::from_le_bytes_const(include_bytes!(…));`
        /// keeps every weight in read-only memory (flash on a microcontroller), none in RAM.
        /// A wrong byte count is a compile error there (a panic if called at run time).
        pub const fn from_le_bytes_const(bytes: &[u8]) -> Self {
            ::core::assert!(bytes.len() == #total_bytes, #message);
            let __rest = bytes;
            #(#slices)*
            let _ = __rest;
            Self { #(#inits,)* }
        }
    })
}

/// The state struct and `predict_stateful` of a model with stateful layers.
fn stateful_items(plan: &Plan) -> TokenStream {
    let rt = rt();
    let model = plan.model;
    let (vis, ident) = (&model.vis, &model.ident);
    let input_ty = plan.input_ty();
    let output_ty = plan.output_ty();
    let state = state_ident(ident);
    let states: Vec<_> = plan
        .order
        .iter()
        .filter_map(|&l| {
            plan.layers[l]
                .state
                .as_ref()
                .map(|ty| (&plan.layers[l].field, ty))
        })
        .collect();
    let doc = format!(
        " The states `{ident}`'s stateful recurrent layers carry from one \
         `predict_stateful` call to the next, one field per layer. `Default` is all zeros."
    );
    let fields = states.iter().map(|(f, ty)| {
        let doc = format!(" The state of `{f}`.");
        quote!(#[doc = #doc] #vis #f: #ty)
    });
    let inits = states
        .iter()
        .map(|(f, ty)| quote!(#f: <#ty as ::core::default::Default>::default()));
    let body = forward::body(plan, true);
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq)]
        #vis struct #state {
            #(#fields,)*
        }

        impl ::core::default::Default for #state {
            fn default() -> Self {
                Self { #(#inits,)* }
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
                #body
            }
        }
    }
}

pub fn generate(plan: &Plan) -> TokenStream {
    let rt = rt();
    let krate = crate::layers::krate();
    let model = plan.model;
    let (attrs, vis, ident) = (&model.attrs, &model.vis, &model.ident);
    let input_ty = plan.input_ty();
    let input_elem = plan.input_elem();
    let output_ty = plan.output_ty();
    let input_alias = format_ident!("{}Input", ident);
    let output_alias = format_ident!("{}Output", ident);
    let workspace = workspace_ident(ident);

    let fields = plan.order.iter().map(|&l| {
        let layer = &plan.layers[l];
        let (field, ty) = (&layer.field, &layer.ty);
        let doc = format!(
            " `{}` ({}): output shape {}, {} parameters.",
            model.layers[l].name,
            plan.spec(l).class(),
            crate::layers::fmt_shape(&layer.output),
            layer.params
        );
        quote!(#[doc = #doc] #vis #field: #ty)
    });
    let inits = plan.order.iter().map(|&l| {
        let layer = &plan.layers[l];
        let (field, init) = (&layer.field, &layer.init);
        quote!(#field: #init)
    });
    let infos = infos(plan);
    let fields_in_order: Vec<_> = plan.order.iter().map(|&l| &plan.layers[l].field).collect();
    let visits = infos
        .iter()
        .zip(&fields_in_order)
        .map(|(info, f)| quote!(f(#info, &self.#f);));
    let visits_mut = infos
        .iter()
        .zip(&fields_in_order)
        .map(|(info, f)| quote!(f(#info, &mut self.#f)?;));

    let input_shapes: Vec<TokenStream> =
        plan.shapes.inputs.iter().map(|s| shape_const(s)).collect();
    let input_const = &input_shapes[0];
    let output_shapes = plan.output_shapes();
    let output_const = shape_const(output_shapes[0]);
    let output_shapes_const: Vec<TokenStream> =
        output_shapes.iter().map(|s| shape_const(s)).collect();
    let output_len = lit(output_shapes
        .iter()
        .map(|s| s.iter().product::<usize>())
        .sum());
    let output_copy = if output_shapes.len() == 1 {
        quote!(out.copy_from_slice(output.as_slice());)
    } else {
        let parts = output_shapes.iter().enumerate().map(|(k, shape)| {
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
    let params = lit(plan.params());
    let summary = summary::render(&ident.to_string(), &rows(plan));
    let input_body = input_body(plan);
    let inputs_from_slices = inputs_from_slices(plan);
    let output_body = output_body(plan);
    let const_constructor = const_constructor(plan);
    let predict_batch = predict_batch(plan);
    let (predict_body, stateful) = if plan.big() {
        (
            quote! {
                let mut __workspace = <#workspace>::new();
                <Self as #rt::Planned>::predict_in(self, input, &mut __workspace)
            },
            TokenStream::new(),
        )
    } else if plan.stateful() {
        let state = state_ident(ident);
        (
            quote! {
                let mut __state = <#state as ::core::default::Default>::default();
                <Self as #rt::StatefulModel>::predict_stateful(self, &mut __state, input)
            },
            stateful_items(plan),
        )
    } else {
        (forward::body(plan, false), TokenStream::new())
    };
    let trainable = super::train::trainable(plan);
    let zeroed_items = zeroed_items(plan);
    let init_items = super::init::items(plan);
    let init_zeroed = init_zeroed(plan);
    let big = plan.big();
    let words = lit(plan.memory.words);
    let activation_bytes = lit(4 * plan.memory.words);
    let predict_in_body = forward::body_in(plan);
    let workspace_doc = format!(
        " The workspace `{ident}::predict_in` runs in: {} bytes, every activation of the model \
         at the place planned for it (the activations alive at one step take {} bytes at most; \
         the rest is cache-line alignment and placement). Box it on a host \
         (`{workspace}::boxed()`), or put it in a `static` on a microcontroller \
         (`{workspace}::new()` is `const`).",
        4 * plan.memory.words,
        4 * plan.memory.live_words,
    );
    let predict_doc = if plan.big() {
        format!(
            " Runs the model on one sample. Never allocates. Its activations would take {} bytes \
             as one stack binding each, so it runs in a planned workspace on the stack instead \
             ([`Self::ACTIVATION_BYTES`] of it, zeroed at every call); [`Self::predict_in`] takes \
             the workspace from the caller, keeps every activation off the stack and skips \
             that zeroing when the workspace is kept between calls.",
            plan.stack_bytes()
        )
    } else {
        " Runs the model on one sample. Never allocates. Activations are stack bindings; \
         [`Self::predict_in`] runs in a workspace the caller provides instead."
            .to_string()
    };
    let graph = graph(plan);
    let input_doc = format!(
        " What `{ident}::predict` takes: {}.",
        if plan.inputs.len() == 1 {
            "one sample".to_string()
        } else {
            format!(
                "one sample of each of its {} inputs, in order",
                plan.inputs.len()
            )
        }
    );
    let output_doc = format!(
        " What `{ident}::predict` returns: {}.",
        if output_shapes.len() == 1 {
            "one sample".to_string()
        } else {
            format!(
                "one sample of each of its {} outputs, in order",
                output_shapes.len()
            )
        }
    );

    quote! {
        #(#attrs)*
        #vis struct #ident {
            #(#fields,)*
        }

        #[doc = #input_doc]
        #vis type #input_alias = #input_ty;
        #[doc = #output_doc]
        #vis type #output_alias = #output_ty;
        #[doc = #workspace_doc]
        #vis type #workspace = #rt::Workspace<#words>;

        #[allow(clippy::all)]
        impl #ident {
            /// The Keras input shape, without the batch axis (the first input's, when there
            /// are several).
            pub const INPUT_SHAPE: &'static [usize] = #input_const;
            /// The shapes of every input, in order.
            pub const INPUT_SHAPES: &'static [&'static [usize]] = &[#(#input_shapes),*];
            /// The Keras output shape, without the batch axis (the first output's, when there
            /// are several).
            pub const OUTPUT_SHAPE: &'static [usize] = #output_const;
            /// The shapes of every output, in order.
            pub const OUTPUT_SHAPES: &'static [&'static [usize]] = &[#(#output_shapes_const),*];
            /// Number of parameters, equal to Keras's `model.count_params()`.
            pub const PARAMS: usize = #params;
            /// The peak activation memory of one sample, planned at compile time: the size of
            /// the workspace `predict_in` runs in (the inputs and returned outputs excluded).
            pub const ACTIVATION_BYTES: usize = #activation_bytes;

            /// The model as Keras's `model.summary()` prints it.
            pub fn summary() -> &'static str {
                #summary
            }

            #[doc = #predict_doc]
            #[inline]
            pub fn predict(&self, input: &#input_ty) -> #output_ty {
                <Self as #rt::Model>::predict(self, input)
            }

            /// Runs the model on one sample with every activation in `workspace`, at the place
            /// planned for it at compile time (a buffer is reused once its last reader has run).
            /// Never allocates; the same bits as `predict`.
            #[inline]
            pub fn predict_in(&self, input: &#input_ty, workspace: &mut #workspace) -> #output_ty {
                <Self as #rt::Planned>::predict_in(self, input, workspace)
            }

            /// Runs the model on a batch, `outputs[i] = predict(&inputs[i])`, sharing each
            /// weight read across the batch where a layer allows. Never allocates. Panics when
            /// the two slices have different lengths.
            #[inline]
            pub fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
                <Self as #rt::Model>::predict_batch(self, inputs, outputs)
            }

            #const_constructor

            /// One input sample from its values in Keras's row-major order (several inputs:
            /// their values one after the other).
            pub fn input_from_slice(values: &[#input_elem]) -> ::core::result::Result<#input_ty, #rt::Error> {
                <Self as #rt::Model>::input_from_slice(values)
            }

            #inputs_from_slices

            /// One output sample (a target for training) from its values in Keras's row-major
            /// order (several outputs: their values one after the other).
            pub fn output_from_slice(values: &[f32]) -> ::core::result::Result<#output_ty, #rt::Error> {
                #output_body
            }

            /// The model with weights from raw little-endian f32 values, in Keras's
            /// `model.weights` order (`np.concatenate([w.numpy().ravel() for w in model.weights])`).
            pub fn from_le_bytes(bytes: &[u8]) -> ::core::result::Result<Self, #rt::Error> {
                let mut model = <Self as #rt::Model>::zeroed();
                #rt::load_le_bytes(&mut model, bytes)?;
                ::core::result::Result::Ok(model)
            }
        }

        #krate::__with_keras_file! {
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

                /// [`from_keras_file`](Self::from_keras_file) on a file's bytes (a `.keras`
                /// archive, a `.weights.h5` or a legacy `.h5`, told apart by their first bytes):
                /// for a file that never touches a disk, such as one a web page was given.
                pub fn from_keras_bytes<B: ::core::convert::Into<#rt::keras_file::Vec<u8>>>(
                    bytes: B,
                ) -> ::core::result::Result<Self, #rt::keras_file::Error> {
                    #rt::keras_file::load_bytes(bytes.into())
                }

                /// [`Self::from_keras_file`] on the heap: the model is allocated as zero bytes
                /// and filled in place, never built on the stack.
                pub fn from_keras_file_boxed<P: ::core::convert::AsRef<#rt::keras_file::Path>>(
                    path: P,
                ) -> ::core::result::Result<#rt::Box<Self>, #rt::keras_file::Error> {
                    #rt::keras_file::load_boxed(path)
                }

                /// Writes the model's weights as Keras 3's `.weights.h5` (what
                /// `model.save_weights` writes and `model.load_weights` reads). The path must
                /// end in `.weights.h5`, as Keras requires.
                pub fn save_weights<P: ::core::convert::AsRef<#rt::keras_file::Path>>(
                    &self,
                    path: P,
                ) -> ::core::result::Result<(), #rt::keras_file::Error> {
                    #rt::keras_file::save_weights(self, path)
                }

                /// Writes the model as a Keras `.keras` archive (`config.json` built from this
                /// declaration, `metadata.json`, `model.weights.h5`), which
                /// `keras.saving.load_model` loads. The path must end in `.keras`.
                pub fn save<P: ::core::convert::AsRef<#rt::keras_file::Path>>(
                    &self,
                    path: P,
                ) -> ::core::result::Result<(), #rt::keras_file::Error> {
                    #rt::keras_file::save(self, path)
                }
            }
        }

        #zeroed_items
        #init_items

        impl #rt::Model for #ident {
            type Input = #input_ty;
            type InputElem = #input_elem;
            type Output = #output_ty;
            const INPUT_SHAPE: &'static [usize] = #input_const;
            const INPUT_SHAPES: &'static [&'static [usize]] = &[#(#input_shapes),*];
            const OUTPUT_SHAPE: &'static [usize] = #output_const;
            const OUTPUT_SHAPES: &'static [&'static [usize]] = &[#(#output_shapes_const),*];
            const PARAMS: usize = #params;
            const OUTPUT_LEN: usize = #output_len;
            #graph

            fn input_from_slice(values: &[#input_elem]) -> ::core::result::Result<#input_ty, #rt::Error> {
                #input_body
            }

            fn output_to_slice(output: &#output_ty, out: &mut [f32]) {
                #output_copy
            }

            fn predict(&self, input: &#input_ty) -> #output_ty {
                #predict_body
            }

            fn zeroed() -> Self {
                Self { #(#inits,)* }
            }

            fn init_zeroed(&mut self) {
                #(#init_zeroed)*
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

        impl #rt::Planned for #ident {
            const ACTIVATION_BYTES: usize = #activation_bytes;
            const PREDICT_MAKES_WORKSPACE: bool = #big;
            type Workspace = #workspace;

            #[allow(unused_variables)]
            fn predict_in(&self, input: &#input_ty, __workspace: &mut #workspace) -> #output_ty {
                #predict_in_body
            }
        }

        #stateful

        #trainable
    }
}
