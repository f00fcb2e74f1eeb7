//! `init(seed)`, `init_boxed(seed)` and `init_weights(rng)`: the model with Keras's default
//! initial weights (`runtime::train::init`), every layer with variables drawn in Keras's
//! `model.layers` order from one seeded generator.

use proc_macro2::TokenStream;
use quote::quote;

use super::plan::Plan;
use crate::layers::rt;

pub fn items(plan: &Plan) -> TokenStream {
    let rt = rt();
    let krate = crate::layers::krate();
    let ident = &plan.model.ident;
    let mut ignored = Vec::new();
    let steps: Vec<_> = plan
        .order
        .iter()
        .filter_map(|&l| {
            let layer = &plan.layers[l];
            if layer.params + layer.non_trainable == 0 {
                return None;
            }
            let (field, ty) = (&layer.field, &layer.ty);
            let declared = &plan.model.layers[l];
            let mut overrides = Vec::new();
            for (key, value) in &declared.initializers {
                // `unit_forget_bias = False` (LSTM): the forget gate's bias is not set to one.
                let backward = static_keras_runtime::train::init::BACKWARD_LAYER;
                let (prefix, bare) = match key.strip_prefix(backward) {
                    Some(bare) => (backward, bare),
                    None => ("", key.as_str()),
                };
                if bare == "unit_forget_bias" {
                    match value.as_deref() {
                        Some("True") => {}
                        Some("False") => {
                            let flag = format!(
                                "{prefix}{}",
                                static_keras_runtime::train::init::NO_UNIT_FORGET_BIAS
                            );
                            overrides.push(
                                quote!((#flag, #rt::train::init::Initializer::Constant(0.0))),
                            );
                        }
                        _ => ignored.push(format!(
                            "`unit_forget_bias` of layer `{}` (not True or False)",
                            declared.name
                        )),
                    }
                    continue;
                }
                match supported(bare, value.as_deref()) {
                    Some((variable, name)) => {
                        let variable = format!("{prefix}{variable}");
                        overrides.push(quote! {
                            (#variable, match #rt::train::init::named(#name) {
                                ::core::option::Option::Some(i) => i,
                                ::core::option::Option::None => ::core::unreachable!(),
                            })
                        });
                    }
                    None => ignored.push(format!(
                        "`{key}` of layer `{}` ({})",
                        declared.name,
                        value
                            .as_deref()
                            .map_or("not a string".into(), |v| format!("\"{v}\""))
                    )),
                }
            }
            Some(quote! {
                <#ty as #rt::train::Init>::init_with(&mut self.#field, rng, &[#(#overrides),*]);
            })
        })
        .collect();
    // Declared initializers `init` cannot honour: Keras's default is used, and calling `init`
    // warns with the list (inference is unaffected, so this is not an error).
    let warn = (!ignored.is_empty()).then(|| {
        let note = format!(
            "init() uses Keras's default initializer instead of {}: only the named \
             initializers glorot_uniform, glorot_normal, he_normal, he_uniform, lecun_normal, \
             lecun_uniform, zeros, ones, random_normal, random_uniform, truncated_normal \
             (and orthogonal for recurrent_initializer) given as strings are supported",
            ignored.join(", ")
        );
        quote!(#[deprecated(note = #note)])
    });
    quote! {
        #[allow(clippy::all)]
        impl #ident {
            /// The model with Keras's default initial weights (glorot_uniform kernels,
            /// orthogonal recurrent kernels, zero biases, …), drawn from a generator seeded
            /// with `seed`. The distributions are Keras's; the bits cannot be (Keras draws from
            /// JAX's threefry). Built by value; [`Self::init_boxed`] builds it on the heap.
            #warn
            #[allow(deprecated)]
            pub fn init(seed: u64) -> Self {
                let mut model = Self::zeroed();
                model.init_weights(&mut #rt::train::Rng::new(seed));
                model
            }

            /// Redraws every weight from Keras's default initializers, layer after layer in
            /// Keras's `model.layers` order, from `rng`.
            #warn
            pub fn init_weights(&mut self, rng: &mut #rt::train::Rng) {
                let _ = &rng;
                #(#steps)*
            }
        }

        #krate::__with_std! {
            #[allow(clippy::all)]
            impl #ident {
                /// [`Self::init`] on the heap (built in place, never on the stack).
                #warn
                #[allow(deprecated)]
                pub fn init_boxed(seed: u64) -> #rt::Box<Self> {
                    let mut model = Self::zeroed_boxed();
                    model.init_weights(&mut #rt::train::Rng::new(seed));
                    model
                }
            }
        }
    }
}

/// The variable a `*_initializer` argument sets, and the initializer's name, when `init`
/// supports it: a named string of `runtime::train::init::named` (orthogonal only for recurrent
/// kernels, which the layers draw in their own storage).
fn supported(key: &str, value: Option<&str>) -> Option<(&'static str, String)> {
    const NAMES: &[&str] = &[
        "glorot_uniform",
        "glorot_normal",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
        "zeros",
        "ones",
        "random_normal",
        "random_uniform",
        "uniform",
        "truncated_normal",
    ];
    let variable = match key {
        "kernel_initializer" => "kernel",
        "bias_initializer" => "bias",
        "recurrent_initializer" => "recurrent_kernel",
        "embeddings_initializer" => "embeddings",
        "depthwise_initializer" => "depthwise_kernel",
        "pointwise_initializer" => "pointwise_kernel",
        "gamma_initializer" => "gamma",
        "beta_initializer" => "beta",
        "moving_mean_initializer" => "moving_mean",
        "moving_variance_initializer" => "moving_variance",
        "alpha_initializer" => "alpha",
        _ => return None,
    };
    let name = value?;
    let ok = NAMES.contains(&name) || (name == "orthogonal" && variable == "recurrent_kernel");
    ok.then(|| (variable, name.to_string()))
}
