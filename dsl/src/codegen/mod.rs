//! Stage 4: the struct, its `Model` impl and its inherent API, generated from the checked graph
//! through a per-layer [`plan::Plan`] read by separate emitters: `api` (struct, constructors,
//! visitors, summary, `Model`), `forward` (one sample), `batch` (`predict_batch`).

pub(crate) mod api;
mod batch;
mod forward;
mod init;
mod memory;
mod plan;
mod train;

use proc_macro2::TokenStream;
use quote::quote;

use crate::check;
use crate::ctxt::Ctxt;
use crate::layers::rt;
use crate::model::{self, Model};
use crate::parse::ModelInput;

pub use api::rows;
pub use plan::Plan;

pub fn expand(mut input: ModelInput) -> TokenStream {
    let cx = Ctxt::default();
    let krate = take_crate_path(&mut input.attrs, &cx);
    crate::layers::with_crate(krate, || expand_model(input, cx))
}

/// Reads and removes `#[static_keras(crate = "path")]`: the path generated code names the
/// facade crate by, for a renamed dependency (`my_keras = { package = "static-keras", … }`) or
/// a re-export (`crate = "my_lib::keras"`), as serde's `#[serde(crate = "…")]`.
fn take_crate_path(attrs: &mut Vec<syn::Attribute>, cx: &Ctxt) -> Option<TokenStream> {
    let mut path = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("static_keras") {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                let parsed: syn::Path = lit.parse()?;
                path = Some(quote!(#parsed));
                Ok(())
            } else {
                Err(meta.error("unknown static_keras attribute: expected `crate = \"path\"`"))
            }
        });
        if let Err(e) = result {
            cx.push(e);
        }
        false
    });
    path
}

fn expand_model(input: ModelInput, cx: Ctxt) -> TokenStream {
    for error in &input.errors {
        cx.push(error.clone());
    }
    let model = model::build(input, &cx);
    let shapes = check::infer(&model, &cx);
    match (cx.check(), shapes) {
        (Ok(()), Some(shapes)) => api::generate(&Plan::new(&model, &shapes)),
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
    let krate = crate::layers::krate();
    let Model {
        attrs, vis, ident, ..
    } = model;
    // A model declared stateful keeps its state type and method, so code using them does not
    // add errors of its own.
    let stateful = model
        .layers
        .iter()
        .any(|l| l.spec.as_ref().is_some_and(|s| s.state_type().is_some()));
    let state_ident = api::state_ident;
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
    let input_alias = quote::format_ident!("{}Input", ident);
    let output_alias = quote::format_ident!("{}Output", ident);
    let workspace_alias = api::workspace_ident(ident);
    quote! {
        #state
        #(#attrs)*
        #vis struct #ident {}
        #vis type #input_alias = #rt::Tensor<1, 1>;
        #vis type #output_alias = #rt::Tensor<1, 1>;
        #vis type #workspace_alias = #rt::Workspace<0>;
        #[allow(dead_code, unused_variables, clippy::all)]
        impl #ident {
            pub const INPUT_SHAPE: &'static [usize] = &[];
            pub const OUTPUT_SHAPE: &'static [usize] = &[];
            pub const INPUT_SHAPES: &'static [&'static [usize]] = &[];
            pub const OUTPUT_SHAPES: &'static [&'static [usize]] = &[];
            pub const PARAMS: usize = 0;
            pub const ACTIVATION_BYTES: usize = 0;
            pub fn summary() -> &'static str { "" }
            pub fn zeroed() -> Self { ::core::unreachable!() }
            pub fn init(seed: u64) -> Self { ::core::unreachable!() }
            pub fn init_weights(&mut self, rng: &mut #rt::train::Rng) { ::core::unreachable!() }
            pub fn predict(&self, input: &#rt::Tensor<1, 1>) -> #rt::Tensor<1, 1> { ::core::unreachable!() }
            pub fn predict_in(&self, input: &#rt::Tensor<1, 1>, workspace: &mut #rt::Workspace<0>) -> #rt::Tensor<1, 1> { ::core::unreachable!() }
            pub fn predict_batch(&self, inputs: &[#rt::Tensor<1, 1>], outputs: &mut [#rt::Tensor<1, 1>]) { ::core::unreachable!() }
            pub fn input_from_slice<E>(values: &[E]) -> ::core::result::Result<#rt::Tensor<1, 1>, #rt::Error> { ::core::unreachable!() }
            pub fn output_from_slice(values: &[f32]) -> ::core::result::Result<#rt::Tensor<1, 1>, #rt::Error> { ::core::unreachable!() }
            pub fn from_le_bytes(bytes: &[u8]) -> ::core::result::Result<Self, #rt::Error> { ::core::unreachable!() }
        }
        #krate::__with_std! {
            #[allow(dead_code, unused_variables, clippy::all)]
            impl #ident {
                pub fn zeroed_boxed() -> #rt::Box<Self> { ::core::unreachable!() }
                pub fn init_boxed(seed: u64) -> #rt::Box<Self> { ::core::unreachable!() }
                pub fn from_le_bytes_boxed(bytes: &[u8]) -> ::core::result::Result<#rt::Box<Self>, #rt::Error> { ::core::unreachable!() }
            }
        }
        #krate::__with_keras_file! {
            #[allow(dead_code)]
            impl #ident {
                pub fn from_keras_file<P>(path: P) -> ::core::result::Result<Self, #rt::keras_file::Error> { ::core::unreachable!() }
                pub fn from_keras_file_boxed<P>(path: P) -> ::core::result::Result<#rt::Box<Self>, #rt::keras_file::Error> { ::core::unreachable!() }
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
            fn zeroed() -> Self { ::core::unreachable!() }
            fn visit_layers_mut(
                &mut self,
                f: &mut dyn FnMut(#rt::LayerInfo, &mut dyn #rt::Weights) -> ::core::result::Result<(), #rt::Error>,
            ) -> ::core::result::Result<(), #rt::Error> { ::core::unreachable!() }
            fn visit_layers(&self, f: &mut dyn FnMut(#rt::LayerInfo, &dyn #rt::Weights)) { ::core::unreachable!() }
        }
    }
}
