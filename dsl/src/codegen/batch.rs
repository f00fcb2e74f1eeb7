//! `Model::predict_batch`: the batch in chunks of samples small enough for the stack; each call
//! runs over the whole chunk (`Layer::forward_batch`: one matrix product for Dense, recurrent
//! steps in lockstep), so weights are read once per chunk rather than once per sample. With the
//! `parallel` feature the runtime splits the batch across threads first.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::plan::{Kernel, Plan};
use crate::layers::{dims, lit, rt, Run};
use crate::model::Value;

/// Stack budget of the intermediate activations of one chunk, in f32 values (256 KiB), and the
/// most samples a chunk holds (a power of two).
const BATCH_STACK_VALUES: usize = 64 * 1024;
const MAX_CHUNK: usize = 16;

/// The generated `predict_batch`, or `None` where the trait's per-sample loop serves (several
/// inputs or outputs, masks, states). A big model, whose chunk of one sample would hold every
/// activation on the stack, runs its samples one by one in one planned workspace per part.
pub fn predict_batch(plan: &Plan) -> Option<TokenStream> {
    if plan.big() {
        return Some(in_workspace(plan));
    }
    let model = plan.model;
    let batched = !plan.stateful()
        && !plan.big()
        && plan.inputs.len() == 1
        && model.outputs.len() == 1
        && model.calls.iter().all(|c| c.outputs == 1)
        && !plan.any_mask();
    if !batched {
        return None;
    }
    let rt = rt();
    let input_ty = plan.input_ty();
    let output_ty = plan.output_ty();
    let output = model.outputs[0];
    // Each value as a place expression of its chunk slice; the model output is written into
    // `__ys`.
    let mut slices: HashMap<Value, TokenStream> = HashMap::new();
    slices.insert(Value::Input(0), quote!(__xs[..]));
    let mut wrote_output = false;
    let mut buffers = Vec::new();
    let mut steps = Vec::new();
    let mut values = 0usize;
    for (k, call) in model.calls.iter().enumerate() {
        let spec = plan.spec(call.layer);
        let out = Value::Call { call: k, output: 0 };
        let ins: Vec<TokenStream> = call.inputs.iter().map(|v| slices[v].clone()).collect();
        if let Kernel::Identity = plan.kernels[k] {
            slices.insert(out, ins[0].clone());
            continue;
        }
        let target = if out == output {
            wrote_output = true;
            quote!(__ys[..])
        } else {
            let b = format_ident!("__b{}", k);
            let shape = plan.shapes.of(out);
            values += shape.iter().product::<usize>();
            let (f, p) = dims(shape);
            let (f, p) = (lit(f), lit(p));
            buffers.push(quote!(let mut #b = [#rt::zeros::<#f, #p>(); __CHUNK];));
            quote!(#b[..__n])
        };
        let field = &plan.layers[call.layer].field;
        let field = quote!(self.#field);
        let step = match plan.kernels[k] {
            Kernel::Layer(Run::Batched | Run::BatchedInto) => {
                let x = &ins[0];
                quote!(#rt::Layer::forward_batch(&#field, &#x, &mut #target);)
            }
            Kernel::Merge => {
                let names: Vec<_> = (0..ins.len()).map(|i| format_ident!("__x{}", i)).collect();
                let xs: Vec<TokenStream> = names.iter().map(|n| quote!(&#n[__s])).collect();
                let shapes: Vec<Vec<usize>> = call
                    .inputs
                    .iter()
                    .map(|&v| plan.shapes.of(v).to_vec())
                    .collect();
                let expr = spec.forward_merge(field, &xs, &shapes, plan.shapes.of(out));
                quote! {
                    let (#(#names,)*) = (#(&#ins,)*);
                    for (__s, __y) in (#target).iter_mut().enumerate() {
                        *__y = #expr;
                    }
                }
            }
            _ => {
                let one = plan.forward_expr(k, quote!(__x), None, None);
                let x = &ins[0];
                quote! {
                    for (__x, __y) in (#x).iter().zip((#target).iter_mut()) {
                        *__y = #one;
                    }
                }
            }
        };
        steps.push(quote!({ #step }));
        slices.insert(out, target);
    }
    // Unless a call wrote it, the output is the input passed through identities.
    let copy_out = if wrote_output {
        TokenStream::new()
    } else {
        let s = &slices[&output];
        quote!(__ys.clone_from_slice(&#s);)
    };
    // A power of two, so that a batch split across threads at whole chunks (see
    // `split_batch`) cuts into equal parts: 15 would cut 64 samples into 45 + 19.
    let fits = (BATCH_STACK_VALUES / values.max(1)).clamp(1, MAX_CHUNK);
    let chunk = lit(1 << fits.ilog2());
    let macs = lit(plan.macs_per_sample());
    Some(quote! {
        fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
            ::core::assert_eq!(inputs.len(), outputs.len(), "predict_batch: as many outputs as inputs");
            const __CHUNK: usize = #chunk;
            #rt::split_batch(inputs, outputs, #macs, __CHUNK, &|inputs: &[#input_ty], outputs: &mut [#output_ty]| {
                #(#buffers)*
                for (__xs, __ys) in inputs.chunks(__CHUNK).zip(outputs.chunks_mut(__CHUNK)) {
                    let __n = __xs.len();
                    let _ = __n;
                    #(#steps)*
                    #copy_out
                }
            });
        }
    })
}

/// A big model's `predict_batch`: `predict_in` sample by sample, in one workspace per part of the
/// batch (each `predict` zeroes a fresh one), split across threads as the others are.
fn in_workspace(plan: &Plan) -> TokenStream {
    let rt = rt();
    let input_ty = plan.input_ty();
    let output_ty = plan.output_ty();
    let macs = lit(plan.macs_per_sample());
    quote! {
        fn predict_batch(&self, inputs: &[#input_ty], outputs: &mut [#output_ty]) {
            ::core::assert_eq!(inputs.len(), outputs.len(), "predict_batch: as many outputs as inputs");
            #rt::split_batch_in(
                inputs,
                outputs,
                #macs,
                &|x: &#input_ty, w: &mut <Self as #rt::Planned>::Workspace| {
                    <Self as #rt::Planned>::predict_in(self, x, w)
                },
            );
        }
    }
}
