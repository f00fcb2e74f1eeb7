//! The training step (`impl Trainable`): every call over the batch in training mode, the loss,
//! every call backwards where a trainable layer needs it, each layer's state update; the
//! gradients struct; `compile`. Buffers come from one workspace carved into typed slices.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::plan::Plan;
use crate::layers::{dims, lit, rt, Cfg, Forward, MergeBackward};
use crate::model::Value;

/// Which values carry a Keras mask (`true` per call and output), as the inference path decides
/// (`codegen/forward.rs`): merges drop masks, other layers give
/// [`LayerSpec::output_mask`](crate::layers::LayerSpec::output_mask) and
/// [`LayerSpec::extra_output_masks`](crate::layers::LayerSpec::extra_output_masks).
fn masked_calls(plan: &Plan) -> Vec<Vec<bool>> {
    let model = plan.model;
    let mut masked: Vec<Vec<bool>> = Vec::with_capacity(model.calls.len());
    for call in &model.calls {
        let spec = plan.spec(call.layer);
        let mut outs = vec![false; call.outputs];
        if !spec.merge() {
            let input = input_masked(&masked, call.inputs[0]).then(|| quote!(__m));
            outs[0] = spec.output_mask(&quote!(__x), input.as_ref()).is_some();
            let extra = spec.extra_output_masks(&quote!(__x), input.as_ref());
            for (o, m) in outs.iter_mut().enumerate().skip(1) {
                *m = extra.get(o - 1).is_some_and(Option::is_some);
            }
        }
        masked.push(outs);
    }
    masked
}

/// Whether `value` carries a mask, given [`masked_calls`].
fn input_masked(masked: &[Vec<bool>], value: Value) -> bool {
    matches!(value, Value::Call { call, output } if masked[call][output])
}

/// Why the model cannot train, if it cannot.
fn unsupported(plan: &Plan) -> Option<String> {
    let model = plan.model;
    let masked = masked_calls(plan);
    for &l in &plan.order {
        let spec = plan.spec(l);
        // A layer trains through `Train`, or, on a masked input, `MaskedTrain` if it has one.
        let all_masked = model
            .calls
            .iter()
            .filter(|c| c.layer == l)
            .all(|c| !spec.merge() && input_masked(&masked, c.inputs[0]));
        if all_masked && spec.masked_training() {
            continue;
        }
        if let Err(why) = spec.training() {
            return Some(format!("layer `{}`: {why}", model.layers[l].name));
        }
    }
    // A layer whose inference pass reads its input's mask must read it in training too: one
    // without a masked training path would silently train on the masked steps.
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        if spec.merge()
            || !input_masked(&masked, call.inputs[0])
            || spec.masked_training()
            || plan.layers[call.layer].state.is_some()
        {
            continue;
        }
        let forward = |mask: Option<TokenStream>| {
            crate::layers::forward_expr(
                spec,
                Forward {
                    field: quote!(self.__layer),
                    x: quote!(__x),
                    mask,
                    state: None,
                    input: plan.shapes.of(call.inputs[0]),
                    output: plan.shapes.output_of(k),
                },
            )
            .to_string()
        };
        if forward(Some(quote!(__m))) != forward(None) {
            return Some(format!(
                "layer `{}` reads its input's mask, which its training path does not support yet",
                model.layers[call.layer].name
            ));
        }
    }
    if plan.inputs.len() != 1 || model.outputs.len() != 1 {
        return Some("training supports models with one input and one output".into());
    }
    if plan.stateful() {
        return Some("stateful layers cannot be trained".into());
    }
    if matches!(model.outputs[0], Value::Input(_)) {
        return Some("the model's output is its input".into());
    }
    None
}

/// Keras classes whose training pass draws random numbers: their draws come from one stream in
/// sample order, so their calls are not cut into chunks ([`couples_samples`]).
const RANDOM_CLASSES: &[&str] = &[
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
];

/// Whether a layer's training pass couples the samples of a batch, so that the parallel
/// training step must run its calls over the whole batch on one thread: BatchNormalization
/// (batch statistics) and every layer drawing random numbers (the [`RANDOM_CLASSES`], recurrent
/// layers with `dropout` or `recurrent_dropout`), wrapped ones included.
fn couples_samples(plan: &Plan, layer: usize) -> bool {
    fn class_couples(class: &str, config: &[(&'static str, Cfg)]) -> bool {
        class == "BatchNormalization"
            || RANDOM_CLASSES.contains(&class)
            || config.iter().any(|(_, v)| match v {
                Cfg::Layer { class, config } => class_couples(class, config),
                _ => false,
            })
    }
    let spec = plan.spec(layer);
    // Recurrent dropout rates are not in the config (Keras saves them, the DSL builds them
    // into the layer's initializer): `with_dropout` there, or a field assignment.
    let init = plan.layers[layer].init.to_string();
    class_couples(spec.class(), &spec.config()) || init.contains("dropout")
}

fn grads_ident(model: &syn::Ident) -> syn::Ident {
    format_ident!("{}Grads", model)
}

/// The trainable items of the model, or a `compile` that fails to build with the reason.
pub fn trainable(plan: &Plan) -> TokenStream {
    let rt = rt();
    let krate = crate::layers::krate();
    let model = plan.model;
    let (vis, ident) = (&model.vis, &model.ident);
    if let Some(why) = unsupported(plan) {
        let message = format!("`{ident}` cannot be trained: {why}");
        return quote! {
            #krate::__with_std! {
                #[allow(clippy::all, dead_code)]
                impl #ident {
                    /// Not available: see the compile error for why this model cannot train.
                    pub fn compile<O, L>(&mut self, optimizer: O, loss: L) -> ! {
                        const { ::core::assert!(::core::mem::size_of::<O>() == usize::MAX, #message) };
                        let _ = (optimizer, loss);
                        ::core::unreachable!()
                    }
                }
            }
        };
    }
    let grads = grads_ident(ident);
    // Layers that train: trainable, with parameters. Frozen ones get no gradient buffers.
    let trains: Vec<bool> = (0..model.layers.len())
        .map(|l| model.layers[l].trainable && plan.layers[l].params > 0)
        .collect();
    let grad_layers: Vec<usize> = plan.order.iter().copied().filter(|&l| trains[l]).collect();
    let grad_fields = grad_layers.iter().map(|&l| {
        let (f, ty) = (&plan.layers[l].field, &plan.layers[l].ty);
        let doc = format!(" The gradients of `{}`.", model.layers[l].name);
        quote!(#[doc = #doc] pub #f: #ty)
    });
    let grad_inits = grad_layers.iter().map(|&l| {
        let (f, init) = (&plan.layers[l].field, &plan.layers[l].init);
        quote!(#f: #init)
    });
    let grad_clears = grad_layers.iter().map(|&l| {
        let f = &plan.layers[l].field;
        quote!(#rt::train::Params::trainable_mut(&mut grads.#f, &mut |s| s.fill(0.0));)
    });
    let trainable_params: usize = plan.layers.iter().map(|l| l.params - l.non_trainable).sum();
    let max_vars = lit(8 * grad_layers.len().max(1));

    // Which values need a gradient: those produced by a training layer, or by any layer
    // reading one that does.
    let mut wants = vec![false; model.calls.len()];
    for (k, call) in model.calls.iter().enumerate() {
        wants[k] = trains[call.layer]
            || call.inputs.iter().any(|v| match v {
                Value::Call { call, .. } => wants[*call],
                Value::Input(_) => false,
            });
    }

    let mut carves = Vec::new();
    let mut sizes = Vec::new();
    let mut forward = Vec::new();
    let mut backward = Vec::new();
    let mut updates = Vec::new();
    let value_ty = |v: Value| plan.value_ty(v);
    // The binding of a value's batch, and of its gradient's.
    let value_ident = |prefix: &str, v: Value| match v {
        Value::Call { call, output: 0 } => format_ident!("__{}{}", prefix, call),
        Value::Call { call, output } => format_ident!("__{}{}_{}", prefix, call, output),
        Value::Input(_) => unreachable!("inputs are `inputs`"),
    };
    let slice = |v: Value| match v {
        Value::Input(_) => quote!(inputs[..]),
        Value::Call { .. } => {
            let b = value_ident("v", v);
            quote!(#b[..])
        }
    };
    let grad_slice = |v: Value| match v {
        Value::Input(_) => None,
        Value::Call { .. } => {
            let b = value_ident("d", v);
            Some(quote!(#b[..]))
        }
    };
    // The workspace binding of each masked value's masks (`[[bool; P]]`, one per sample); a
    // layer passing its input's mask on shares its binding.
    let mut masks: std::collections::HashMap<Value, syn::Ident> = std::collections::HashMap::new();
    let output = model.outputs[0];
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        let outs: Vec<Value> = (0..call.outputs)
            .map(|o| Value::Call { call: k, output: o })
            .collect();
        let out = outs[0];
        let field = &plan.layers[call.layer].field;
        let in_ty = value_ty(call.inputs[0]);
        // The layer's training view: its field, or the type it trains as (a fused glu).
        let adapter = (!spec.merge())
            .then(|| {
                spec.train_adapter(
                    &plan.layers[call.layer].ty,
                    plan.shapes.of(call.inputs[0]),
                    plan.shapes.of(out),
                )
            })
            .flatten();
        let field_ty = adapter.as_ref().unwrap_or(&plan.layers[call.layer].ty);
        let (this, this_mut, grads_field) = match &adapter {
            Some(a) => (
                quote!(<#a>::from_ref(&self.#field)),
                quote!(<#a>::from_mut(&mut self.#field)),
                quote!(<#a>::from_mut(&mut grads.#field)),
            ),
            None => (
                quote!(&self.#field),
                quote!(&mut self.#field),
                quote!(&mut grads.#field),
            ),
        };
        let (v, c, d) = (
            format_ident!("__v{}", k),
            format_ident!("__c{}", k),
            format_ident!("__d{}", k),
        );
        let needs_grad = wants[k] || outs.contains(&output);
        for &o in &outs {
            let ty = value_ty(o);
            let vo = value_ident("v", o);
            carves.push(quote!(let (#vo, __ws) = #rt::train::carve::<#ty>(__ws, __n);));
            sizes.push(quote!(#rt::train::words::<#ty>(n)));
            if needs_grad {
                let dout = value_ident("d", o);
                carves.push(quote!(let (#dout, __ws) = #rt::train::carve::<#ty>(__ws, __n);));
                sizes.push(quote!(#rt::train::words::<#ty>(n)));
                if o != output {
                    carves.push(quote!(#rt::train::zero(&mut #dout[..]);));
                }
            }
        }
        let grads_arg = if trains[call.layer] {
            quote!(::core::option::Option::Some(#grads_field))
        } else {
            quote!(::core::option::Option::None)
        };
        if spec.merge() {
            let shapes: Vec<Vec<usize>> = call
                .inputs
                .iter()
                .map(|&v| plan.shapes.of(v).to_vec())
                .collect();
            let xs: Vec<TokenStream> = call
                .inputs
                .iter()
                .map(|&v| {
                    let s = slice(v);
                    quote!(&(#s)[__s])
                })
                .collect();
            let expr = spec.forward_merge(quote!(self.#field), &xs, &shapes, plan.shapes.of(out));
            forward.push(quote! {
                for __s in 0..__n {
                    #v[__s] = #expr;
                }
            });
            if wants[k] {
                let dxs: Vec<Option<TokenStream>> = call
                    .inputs
                    .iter()
                    .map(|&v| match v {
                        Value::Call { call: j, .. } if wants[j] => {
                            let d = grad_slice(v).expect("a call's value");
                            Some(quote!(&mut (#d)[__s]))
                        }
                        _ => None,
                    })
                    .collect();
                let body = spec.backward_merge(MergeBackward {
                    field: quote!(self.#field),
                    xs: &xs,
                    y: quote!(&#v[__s]),
                    dy: quote!(&#d[__s]),
                    dxs: &dxs,
                    inputs: &shapes,
                    output: plan.shapes.of(out),
                });
                backward.push(quote! {
                    for __s in 0..__n {
                        #body
                    }
                });
            }
            continue;
        }
        let x = slice(call.inputs[0]);
        let mask_in = masks.get(&call.inputs[0]).cloned();
        let masked = mask_in.as_ref().filter(|_| spec.masked_training());
        let cache_ty = match masked {
            Some(_) => quote!(<#field_ty as #rt::train::MaskedTrain<#in_ty>>::MaskedCache),
            None => quote!(<#field_ty as #rt::train::Train<#in_ty>>::Cache),
        };
        carves.push(quote!(let (#c, __ws) = #rt::train::carve::<#cache_ty>(__ws, __n);));
        sizes.push(quote!(#rt::train::words::<#cache_ty>(n)));
        // A call over independent samples runs in chunks across threads (`parallel`).
        let split = masked.is_none() && !couples_samples(plan, call.layer);
        forward.push(match masked {
            Some(m) => quote! {
                #rt::train::MaskedTrain::forward_train_masked(#this, &#x, #m.as_flattened(), &mut #v[..], &mut #c[..], ctx);
            },
            None if split => quote! {
                #rt::train::par::forward(#this, &#x, &mut #v[..], &mut #c[..], ctx, parts.len());
            },
            None => quote! {
                #rt::train::Train::forward_train_batch(#this, &#x, &mut #v[..], &mut #c[..], ctx);
            },
        });
        // Extra outputs (`return_state`): the final states the cache holds; their gradients go
        // back into it before backward.
        let states = quote!(<#field_ty as #rt::train::TrainStates<#in_ty>>);
        let mut state_grads = Vec::new();
        for &o in &outs[1..] {
            let Value::Call { output: i, .. } = o else {
                unreachable!()
            };
            let i = lit(i - 1);
            let vo = value_ident("v", o);
            forward.push(quote! {
                for __s in 0..__n {
                    #vo[__s].as_mut_slice().copy_from_slice(#states::state(&#c[__s], #i));
                }
            });
            if needs_grad {
                let dout = value_ident("d", o);
                state_grads.push(quote! {
                    for __s in 0..__n {
                        #rt::train::add_into(#states::state_grad(&mut #c[__s], #i), #dout[__s].as_slice());
                    }
                });
            }
        }
        // The masks of the outputs (Keras `compute_mask`), per sample.
        let x_s = quote!(&(#x)[__s]);
        let mask_s = mask_in.as_ref().map(|m| quote!(&#m[__s]));
        let main = spec.output_mask(&x_s, mask_s.as_ref());
        let extra = spec.extra_output_masks(&x_s, mask_s.as_ref());
        for (&o, expr) in outs.iter().zip(std::iter::once(main).chain(extra)) {
            let Some(expr) = expr else {
                continue;
            };
            match (&mask_in, &mask_s) {
                (Some(m), Some(ms)) if expr.to_string() == ms.to_string() => {
                    masks.insert(o, m.clone());
                }
                _ => {
                    let m = value_ident("m", o);
                    let positions = lit(dims(plan.shapes.of(o)).1);
                    carves.push(
                        quote!(let (#m, __ws) = #rt::train::carve_masks::<#positions>(__ws, __n);),
                    );
                    sizes.push(quote!(#rt::train::mask_words::<#positions>(n)));
                    forward.push(quote! {
                        for __s in 0..__n {
                            #m[__s] = *(#expr);
                        }
                    });
                    masks.insert(o, m);
                }
            }
        }
        if wants[k] {
            let dx = match call.inputs[0] {
                Value::Call { call: j, .. } if wants[j] => {
                    let d = grad_slice(call.inputs[0]).expect("a call's value");
                    quote!(::core::option::Option::Some(&mut #d))
                }
                _ => quote!(::core::option::Option::None),
            };
            let call_backward = match masked {
                Some(m) => quote! {
                    #rt::train::MaskedTrain::backward_masked(#this, &#x, #m.as_flattened(), &#v[..], &mut #c[..], &#d[..], #dx, #grads_arg);
                },
                None if split && trains[call.layer] => {
                    let pick = match &adapter {
                        Some(a) => quote!(<#a>::from_mut(&mut __g.#field)),
                        None => quote!(&mut __g.#field),
                    };
                    quote! {
                        #rt::train::par::backward_train(#this, &#x, &#v[..], &mut #c[..], &#d[..], #dx, #grads_field, &mut parts[..], |__g: &mut #grads| #pick);
                    }
                }
                None if split => quote! {
                    #rt::train::par::backward(#this, &#x, &#v[..], &mut #c[..], &#d[..], #dx, parts.len());
                },
                None => quote! {
                    #rt::train::Train::backward_batch(#this, &#x, &#v[..], &mut #c[..], &#d[..], #dx, #grads_arg);
                },
            };
            backward.push(quote! {
                #(#state_grads)*
                #call_backward
            });
        }
        if masked.is_none() {
            updates.push(
                quote!(<#field_ty as #rt::train::Train<#in_ty>>::update_state(#this_mut, &#c[..]);),
            );
        }
    }
    backward.reverse();
    let (v_out, d_out) = (value_ident("v", output), value_ident("d", output));
    // A masked output reduces over its valid positions only (Keras's loss mask).
    let with_mask = masks
        .get(&output)
        .map(|m| quote!(.with_mask(#m.as_flattened())));
    let last = lit(plan.shapes.of(output).last().copied().unwrap_or(1));

    let visits = grad_layers.iter().map(|&l| {
        let f = &plan.layers[l].field;
        quote! {{
            let mut __w: [&mut [f32]; 8] = ::core::default::Default::default();
            let mut __nw = 0usize;
            #rt::train::Params::trainable_mut(&mut self.#f, &mut |s| { __w[__nw] = s; __nw += 1; });
            let mut __g: [&mut [f32]; 8] = ::core::default::Default::default();
            let mut __ng = 0usize;
            #rt::train::Params::trainable_mut(&mut grads.#f, &mut |s| { __g[__ng] = s; __ng += 1; });
            ::core::debug_assert_eq!(__nw, __ng);
            for (__w, __g) in __w.into_iter().zip(__g).take(__nw) {
                f(__w, __g);
            }
        }}
    });
    let keras_order = grad_layers.iter().map(|&l| {
        let f = &plan.layers[l].field;
        quote! {
            for __i in 0..#rt::train::Params::trainable_count(&grads.#f) {
                #rt::Weights::store_variable(&grads.#f, __i, out);
            }
        }
    });
    let adds = grad_layers.iter().map(|&l| {
        let f = &plan.layers[l].field;
        quote! {{
            let mut __g: [&mut [f32]; 8] = ::core::default::Default::default();
            let mut __ng = 0usize;
            #rt::train::Params::trainable_mut(&mut grads.#f, &mut |s| { __g[__ng] = s; __ng += 1; });
            let mut __i = 0usize;
            #rt::train::Params::trainable_mut(&mut part.#f, &mut |s| { #rt::train::add_into(__g[__i], s); __i += 1; });
            ::core::debug_assert_eq!(__ng, __i);
        }}
    });
    let grads_doc = format!(
        " The gradients of `{ident}`'s trainable layers (one value of each layer's own type), for \
         its training step. Frozen layers (`trainable = False`) and layers without parameters \
         have none."
    );
    let trainable_params = lit(trainable_params);
    let updated = grad_layers.iter().map(|&l| &plan.layers[l].field);
    quote! {
        #[doc = #grads_doc]
        #[derive(Clone, Debug)]
        #vis struct #grads {
            #(#grad_fields,)*
        }

        impl #rt::train::Trainable for #ident {
            type Grads = #grads;
            const TRAINABLE_PARAMS: usize = #trainable_params;

            fn zero_grads() -> #grads {
                #grads { #(#grad_inits,)* }
            }

            fn clear_grads(grads: &mut #grads) {
                let _ = &grads;
                #(#grad_clears)*
            }

            fn workspace_words(n: usize) -> usize {
                0 #(+ #sizes)*
            }

            fn train_batch_parts<L: #rt::train::losses::Loss>(
                &mut self,
                inputs: &[Self::Input],
                targets: &[L::Target],
                loss: &L,
                grads: &mut #grads,
                parts: &mut [#grads],
                workspace: &mut [f32],
                ctx: &mut #rt::train::TrainCtx,
            ) -> ::core::result::Result<f32, #rt::train::BatchError> {
                let __n = inputs.len();
                let __split = #rt::train::par::chunk_len(__n, parts.len()).is_some();
                <Self as #rt::train::Trainable>::clear_grads(grads);
                if __split {
                    for __p in parts.iter_mut() {
                        <Self as #rt::train::Trainable>::clear_grads(__p);
                    }
                }
                let __ws = workspace;
                #(#carves)*
                let _ = __ws;
                #(#forward)*
                let __loss = #rt::train::losses::Loss::compute(
                    loss,
                    &#rt::train::Batch::new(targets, #rt::flat(&#v_out[..]), #last) #with_mask,
                    ::core::option::Option::Some(#rt::flat_mut(&mut #d_out[..])),
                )?;
                #(#backward)*
                if __split {
                    for __p in parts.iter_mut() {
                        <Self as #rt::train::Trainable>::add_grads(grads, __p);
                    }
                }
                #(#updates)*
                ::core::result::Result::Ok(__loss)
            }

            fn add_grads(grads: &mut #grads, part: &mut #grads) {
                let _ = (&grads, &part);
                #(#adds)*
            }

            fn apply_optimizer<O: #rt::train::optimizers::Optimizer>(
                &mut self,
                grads: &mut #grads,
                slots: &mut [f32],
                optimizer: &O,
                state: &mut #rt::train::optimizers::OptimizerState,
            ) {
                #rt::train::apply_vars::<Self, O, #max_vars>(self, grads, slots, optimizer, state);
                #(#rt::train::Params::after_update(&mut self.#updated);)*
            }

            fn grads_in_keras_order(grads: &#grads, out: &mut dyn FnMut(f32)) {
                let _ = (&grads, &out);
                #(#keras_order)*
            }

            fn trainable_vars<'a>(
                &'a mut self,
                grads: &'a mut #grads,
                f: &mut dyn FnMut(&'a mut [f32], &'a mut [f32]),
            ) {
                let _ = (&grads, &f);
                #(#visits)*
            }
        }

        #krate::__with_std! {
            #[allow(clippy::all)]
            impl #ident {
                /// Prepares the model for training with `optimizer` and `loss`, as Keras's
                /// `model.compile(optimizer, loss)`: the trainer owns the gradients, optimizer
                /// slots and workspace, so `train_on_batch` never allocates.
                pub fn compile<O, L>(&mut self, optimizer: O, loss: L) -> #rt::train::Trainer<'_, Self, O, L>
                where
                    O: #rt::train::optimizers::Optimizer,
                    L: #rt::train::losses::Loss,
                {
                    #rt::train::Trainer::new(self, optimizer, loss)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The code `keras_model!` generates for `body`, as text.
    fn expanded(body: &str) -> String {
        crate::expand(body.parse().expect("tokens")).to_string()
    }

    /// Whether the model gets a training step (otherwise `compile` is a compile error whose
    /// message the text holds).
    fn trains(body: &str) -> bool {
        let code = expanded(body);
        assert!(!code.contains("compile_error"), "{code}");
        !code.contains("cannot be trained")
    }

    #[test]
    fn the_last_training_paths_are_there() {
        assert!(trains(
            "struct Net { input_shape: (6,), layers: [Dense(8, activation = \"glu\")], }"
        ));
        assert!(trains(
            "struct Net { input_shape: (5, 5, 2), layers: [Conv2D(4, 3, activation = \"glu\"), SeparableConv2D(4, 2, activation = \"glu\"), Conv2DTranspose(4, 2, activation = \"glu\"), DepthwiseConv2D(2, activation = \"glu\")], }"
        ));
        assert!(trains(
            "struct Net { input_shape: (4, 2, 3), layers: [TimeDistributed(BatchNormalization()), TimeDistributed(TimeDistributed(BatchNormalization()))], }"
        ));
        assert!(trains(
            "struct Net { x = Input(shape = (5, 3)); f, b = Bidirectional(LSTM(2, return_sequences = True), merge_mode = None)(x); model = Model(x, Add()([f, b])); }"
        ));
    }

    #[test]
    fn glu_inside_time_distributed_trains_as_the_layer_then_glu() {
        for body in [
            "struct Net { input_shape: (3, 4), layers: [TimeDistributed(Dense(4, activation = \"glu\"))], }",
            "struct Net { input_shape: (2, 5, 5, 2), layers: [TimeDistributed(Conv2D(4, 3, activation = \"glu\"))], }",
            "struct Net { input_shape: (2, 3, 4), layers: [TimeDistributed(TimeDistributed(Dense(4, activation = \"glu\")))], }",
        ] {
            assert!(trains(body), "{body}");
            let code = expanded(body).replace(' ', "");
            assert!(code.contains("train::ThenGlu<"), "{code}");
        }
    }

    #[test]
    fn separate_bidirectional_outputs_train_under_a_mask() {
        for body in [
            "struct Net { x = Input(shape = (5, 3)); h = Masking()(x); f, b = Bidirectional(GRU(2, return_sequences = True), merge_mode = None)(h); model = Model(x, Add()([f, b])); }",
            "struct Net { x = Input(shape = (5,), dtype = \"int32\"); h = Embedding(6, 3, mask_zero = True)(x); f, b = Bidirectional(LSTM(2), merge_mode = None)(h); model = Model(x, Concatenate()([f, b])); }",
        ] {
            assert!(trains(body), "{body}");
            let code = expanded(body).replace(' ', "");
            assert!(code.contains("MaskedTrain::forward_train_masked(<"), "{code}");
            assert!(code.contains("SeparateOutputs<"), "{code}");
        }
    }
}
