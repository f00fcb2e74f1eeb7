//! The forward pass of one sample: every call in graph order, with its Keras mask when it has
//! one; each value bound once on the stack (`predict`, `predict_stateful`), or viewed at its
//! planned place in a workspace (`predict_in`).

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::memory::{value_index, Mode, Place};
use super::plan::{Kernel, Plan};
use crate::layers::Run;
use crate::layers::{dims, lit, rt};
use crate::model::Value;

/// The statements computing every value and the expression returning the outputs, from
/// `input: &Input` (and `__state: &mut State` when `stateful`).
pub fn body(plan: &Plan, stateful: bool) -> TokenStream {
    let rt = rt();
    let model = plan.model;
    let mut steps = Vec::new();
    // A reference expression per value, and its mask (`&[bool; P]`) when it has one.
    let mut values: HashMap<Value, TokenStream> = HashMap::new();
    let mut masks: HashMap<Value, TokenStream> = HashMap::new();
    match plan.inputs.len() {
        1 => {
            values.insert(Value::Input(0), quote!(input));
        }
        n => {
            for i in 0..n {
                let k = syn::Index::from(i);
                values.insert(Value::Input(i), quote!(&input.#k));
            }
        }
    }
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        let layer = &plan.layers[call.layer];
        let field = &layer.field;
        let field = quote!(self.#field);
        let xs: Vec<TokenStream> = call.inputs.iter().map(|v| values[v].clone()).collect();
        let input = plan.shapes.of(call.inputs[0]);
        let output = plan.shapes.output_of(k);
        let span = call.span;
        let mask_in = masks.get(&call.inputs[0]).cloned();
        let out = |o: usize| Value::Call { call: k, output: o };
        let is_model_output = model.outputs.contains(&out(0));
        if plan.fused_into[k].is_some() {
            // Run by the convolution's step, which bound its value.
            continue;
        }
        if let Some(fusion) = &plan.fusions[k] {
            // The convolution and the calls after it in one step: its store runs them.
            let ty = plan.value_ty(out(0));
            let v = format_ident!("__v{}", k);
            let x = &xs[0];
            let then = plan.epilogue(fusion);
            steps.push(quote_spanned!(span=>
                let mut #v: #rt::Aligned<#ty> = #rt::Aligned(#rt::zeros());));
            steps.push(
                quote!(#rt::FuseEpilogue::forward_into_then(&#field, #x, &mut #v.0, &#then);),
            );
            values.insert(out(0), quote!(&#v.0));
            for c in fusion.calls() {
                values.insert(Value::Call { call: c, output: 0 }, quote!(&#v.0));
            }
            continue;
        }
        match plan.kernels[k] {
            Kernel::Identity => {
                values.insert(out(0), xs[0].clone());
            }
            Kernel::Merge => {
                let shapes: Vec<Vec<usize>> = call
                    .inputs
                    .iter()
                    .map(|&v| plan.shapes.of(v).to_vec())
                    .collect();
                let expr = spec.forward_merge(field, &xs, &shapes, output);
                let ty = plan.value_ty(out(0));
                let v = format_ident!("__v{}", k);
                steps.push(quote_spanned!(span=> let #v: #ty = #expr;));
                values.insert(out(0), quote!(&#v));
            }
            Kernel::Layer(Run::BatchedInto) if mask_in.is_none() && !is_model_output => {
                // In place, with no copy of a large returned activation, and aligned to a cache
                // line for the vector stores that write it and the loads that read it.
                let ty = plan.value_ty(out(0));
                let v = format_ident!("__v{}", k);
                let x = &xs[0];
                steps.push(quote_spanned!(span=>
                    let mut #v: #rt::Aligned<#ty> = #rt::Aligned(#rt::zeros());));
                steps.push(quote!(#rt::Layer::forward_into(&#field, #x, &mut #v.0);));
                values.insert(out(0), quote!(&#v.0));
            }
            _ => {
                let state = layer.state.as_ref().map(|_| {
                    let f = &layer.field;
                    if stateful {
                        quote!(&mut __state.#f)
                    } else {
                        unreachable!("a stateful layer is only run by predict_stateful")
                    }
                });
                let expr = plan.forward_expr(k, xs[0].clone(), mask_in.clone(), state);
                if call.outputs == 1 {
                    let ty = plan.value_ty(out(0));
                    let v = format_ident!("__v{}", k);
                    steps.push(quote_spanned!(span=> let #v: #ty = #expr;));
                    values.insert(out(0), quote!(&#v));
                } else {
                    let names: Vec<_> = (0..call.outputs)
                        .map(|o| format_ident!("__v{}_{}", k, o))
                        .collect();
                    let tys: Vec<_> = (0..call.outputs).map(|o| plan.value_ty(out(o))).collect();
                    steps.push(quote_spanned!(span=> let (#(#names,)*): (#(#tys,)*) = #expr;));
                    for (o, name) in names.iter().enumerate() {
                        values.insert(out(o), quote!(&#name));
                    }
                }
            }
        }
        // The masks of the outputs (Keras `compute_mask`).
        if !spec.merge() {
            let main = spec.output_mask_for(&xs[0], mask_in.as_ref(), input, output);
            let extra = spec.extra_output_masks(&xs[0], mask_in.as_ref());
            for (o, expr) in std::iter::once(main).chain(extra).enumerate() {
                let Some(expr) = expr.filter(|_| o < call.outputs) else {
                    continue;
                };
                let m = format_ident!("__m{}_{}", k, o);
                let positions = lit(dims(plan.shapes.of(out(o))).1);
                steps.push(quote_spanned!(span=> let #m: &[bool; #positions] = #expr;));
                masks.insert(out(o), quote!(#m));
            }
        }
    }
    let outputs: Vec<TokenStream> = model
        .outputs
        .iter()
        .map(|v| {
            let x = &values[v];
            quote!(::core::clone::Clone::clone(#x))
        })
        .collect();
    let result = match outputs.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many,)*)),
    };
    quote! {
        #(#steps)*
        #result
    }
}

/// The body of `predict_in`: every call in graph order over the planned workspace (`__workspace:
/// &mut Workspace`), each activation viewed in place at its planned offset, and the expression
/// returning clones of the outputs. Computes exactly what [`body`] computes.
pub fn body_in(plan: &Plan) -> TokenStream {
    let rt = rt();
    let model = plan.model;
    let memory = &plan.memory;
    let place = |v: Value| memory.places[value_index(plan, v)];
    let len = |v: Value| plan.shapes.of(v).iter().product::<usize>();
    let input = |i: usize| match plan.inputs.len() {
        1 => quote!(input),
        _ => {
            let k = syn::Index::from(i);
            quote!(&input.#k)
        }
    };
    // A value kept in a model input: the input itself, or a view of it (Reshape, Identity).
    let external = |v: Value, i: usize| {
        if v == Value::Input(i) {
            input(i)
        } else {
            let ty = plan.value_ty(v);
            let x = input(i);
            quote!(<#ty>::view(#x.as_slice()))
        }
    };
    let mut steps = Vec::new();
    let mut masks: HashMap<Value, TokenStream> = HashMap::new();
    let stateful = plan.stateful().then(|| {
        let state = super::api::state_ident(&model.ident);
        quote!(let mut __state = <#state as ::core::default::Default>::default();)
    });
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        let layer = &plan.layers[call.layer];
        let field = &layer.field;
        let field = quote!(self.#field);
        let span = call.span;
        let out = |o: usize| Value::Call { call: k, output: o };
        let mode = memory.modes[k];
        let mask_in = masks.get(&call.inputs[0]).cloned();

        // The regions this step writes (`__y*`) and reads (`__x*`) of the workspace.
        let mut outs = Vec::new();
        let mut ins = Vec::new();
        let mut binds = Vec::new();
        let mut xs: Vec<TokenStream> = Vec::new();
        let mut ys: Vec<TokenStream> = Vec::new();
        let region = |v: Value| match place(v) {
            Place::Arena(offset) => {
                let (from, n) = (lit(offset), lit(len(v)));
                quote!((#from, #n))
            }
            Place::External(_) => unreachable!("an external value has no region"),
        };
        let writes = match mode {
            Mode::View => 0,
            Mode::InPlace => 1,
            Mode::Own => call.outputs,
        };
        for o in 0..writes {
            // In place, the output's region is the first input's.
            let v = out(o);
            let name = format_ident!("__y{}", o);
            let ty = plan.value_ty(v);
            outs.push(region(v));
            binds.push(quote_spanned!(span=> let #name: &mut #ty = <#ty>::view_mut(#name);));
            ys.push(quote!(#name));
        }
        for (j, &v) in call.inputs.iter().enumerate() {
            if mode == Mode::InPlace && j == 0 {
                // Read through the output's view, before the layer overwrites it.
                xs.push(quote!(&*__y0));
                continue;
            }
            match place(v) {
                Place::External(i) => xs.push(external(v, i)),
                Place::Arena(_) => {
                    let name = format_ident!("__x{}", j);
                    let ty = plan.value_ty(v);
                    ins.push(region(v));
                    binds.push(quote_spanned!(span=> let #name: &#ty = <#ty>::view(#name);));
                    xs.push(quote!(#name));
                }
            }
        }
        let out_names: Vec<_> = (0..outs.len()).map(|o| format_ident!("__y{}", o)).collect();
        let in_names: Vec<_> = call
            .inputs
            .iter()
            .enumerate()
            .filter(|&(j, &v)| {
                !(mode == Mode::InPlace && j == 0) && matches!(place(v), Place::Arena(_))
            })
            .map(|(j, _)| format_ident!("__x{}", j))
            .collect();

        // The masks of the outputs (Keras `compute_mask`), computed before the layer runs (an
        // in-place layer overwrites its input).
        let mut mask_step = TokenStream::new();
        let mut mask_decl = TokenStream::new();
        if !spec.merge() {
            let (input, output) = (plan.shapes.of(call.inputs[0]), plan.shapes.output_of(k));
            let main = spec.output_mask_for(&xs[0], mask_in.as_ref(), input, output);
            let extra = spec.extra_output_masks(&xs[0], mask_in.as_ref());
            for (o, expr) in std::iter::once(main).chain(extra).enumerate() {
                let Some(expr) = expr.filter(|_| o < call.outputs) else {
                    continue;
                };
                let m = format_ident!("__m{}_{}", k, o);
                let positions = lit(dims(plan.shapes.of(out(o))).1);
                mask_decl.extend(quote_spanned!(span=> let #m: [bool; #positions];));
                mask_step.extend(quote!(#m = *(#expr);));
                masks.insert(out(o), quote!(&#m));
            }
        }

        let kernel = match mode {
            _ if plan.fusions[k].is_some() => {
                // The convolution and the calls after it (viewing its output) in one step.
                let then = plan.epilogue(plan.fusions[k].as_ref().expect("a fusion"));
                let x = &xs[0];
                quote!(#rt::FuseEpilogue::forward_into_then(&#field, #x, __y0, &#then);)
            }
            Mode::View => TokenStream::new(),
            Mode::InPlace if spec.merge() => {
                let rest = &xs[1..];
                quote!(#rt::MergeInPlace::merge_in_place(&#field, __y0, &[#(#rest),*]);)
            }
            Mode::InPlace => quote!(#rt::InPlace::forward_in_place(&#field, __y0);),
            Mode::Own if spec.merge() => {
                let shapes: Vec<Vec<usize>> = call
                    .inputs
                    .iter()
                    .map(|&v| plan.shapes.of(v).to_vec())
                    .collect();
                let expr = spec.forward_merge(field, &xs, &shapes, plan.shapes.output_of(k));
                quote!(*__y0 = #expr;)
            }
            Mode::Own => {
                let direct = matches!(
                    plan.kernels[k],
                    Kernel::Layer(Run::Batched | Run::BatchedInto)
                ) && mask_in.is_none()
                    && layer.state.is_none()
                    && call.outputs == 1;
                if direct {
                    let x = &xs[0];
                    quote!(#rt::Layer::forward_into(&#field, #x, __y0);)
                } else {
                    let state = layer.state.as_ref().map(|_| {
                        let f = &layer.field;
                        quote!(&mut __state.#f)
                    });
                    let expr = plan.forward_expr(k, xs[0].clone(), mask_in.clone(), state);
                    if call.outputs == 1 {
                        quote!(*__y0 = #expr;)
                    } else {
                        let names: Vec<_> = (0..call.outputs)
                            .map(|o| format_ident!("__r{}", o))
                            .collect();
                        quote! {
                            let (#(#names,)*) = #expr;
                            #(*#ys = #names;)*
                        }
                    }
                }
            }
        };
        if kernel.is_empty() && mask_step.is_empty() {
            continue;
        }
        steps.push(mask_decl);
        steps.push(quote! {{
            let ([#(#out_names),*], [#(#in_names),*]) =
                #rt::memory::views(&mut *__ws, [#(#outs),*], [#(#ins),*]);
            #(#binds)*
            #mask_step
            #kernel
        }});
    }
    let outputs: Vec<TokenStream> = model
        .outputs
        .iter()
        .map(|&v| {
            let ty = plan.value_ty(v);
            let x = match place(v) {
                Place::External(i) => external(v, i),
                Place::Arena(offset) => {
                    let (from, to) = (lit(offset), lit(offset + len(v)));
                    quote!(<#ty>::view(&__ws[#from..#to]))
                }
            };
            quote!(::core::clone::Clone::clone(#x))
        })
        .collect();
    let result = match outputs.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many,)*)),
    };
    quote! {
        let __ws: &mut [f32] = __workspace.as_mut_slice();
        #stateful
        #(#steps)*
        #result
    }
}
