//! The forward pass of one sample (`predict`, `predict_stateful`): every call in graph order,
//! each value bound once, with its Keras mask when it has one.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::plan::{Kernel, Plan};
use crate::layers::{dims, lit, rt, Forward};
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
        match plan.kernels[k] {
            Kernel::Identity => {
                values.insert(out(0), xs[0].clone());
            }
            _ if spec.merge() => {
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
            Kernel::CallInto if mask_in.is_none() && !is_model_output => {
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
                let expr = spec.forward_full(Forward {
                    field,
                    x: xs[0].clone(),
                    mask: mask_in.clone(),
                    state,
                    input,
                    output,
                });
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

/// Whether any value of the model carries a Keras mask (the batched path then is not used).
pub fn any_mask(plan: &Plan) -> bool {
    let model = plan.model;
    // Per call, whether each of its outputs carries a mask.
    let mut masked: Vec<Vec<bool>> = Vec::with_capacity(model.calls.len());
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        if spec.merge() {
            masked.push(vec![false; call.outputs]);
            continue;
        }
        let input_masked = match call.inputs[0] {
            Value::Input(_) => None,
            Value::Call { call, output } => masked[call][output].then(|| quote!(__m)),
        };
        let (input, output) = (plan.shapes.of(call.inputs[0]), plan.shapes.output_of(k));
        let x = quote!(__x);
        let main = spec.output_mask_for(&x, input_masked.as_ref(), input, output);
        let extra = spec.extra_output_masks(&x, input_masked.as_ref());
        let mut outputs: Vec<bool> = std::iter::once(main)
            .chain(extra)
            .map(|m| m.is_some())
            .collect();
        outputs.resize(call.outputs, false);
        masked.push(outputs);
    }
    masked.into_iter().flatten().any(|m| m)
}
