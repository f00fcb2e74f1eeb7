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
    let steps = plan.order.iter().filter_map(|&l| {
        let layer = &plan.layers[l];
        if layer.params + layer.non_trainable == 0 {
            return None;
        }
        let (field, ty) = (&layer.field, &layer.ty);
        Some(quote!(<#ty as #rt::train::Init>::init(&mut self.#field, rng);))
    });
    quote! {
        #[allow(clippy::all)]
        impl #ident {
            /// The model with Keras's default initial weights (glorot_uniform kernels,
            /// orthogonal recurrent kernels, zero biases, …), drawn from a generator seeded
            /// with `seed`. The distributions are Keras's; the bits cannot be (Keras draws from
            /// JAX's threefry). Built by value; [`Self::init_boxed`] builds it on the heap.
            pub fn init(seed: u64) -> Self {
                let mut model = Self::zeroed();
                model.init_weights(&mut #rt::train::Rng::new(seed));
                model
            }

            /// Redraws every weight from Keras's default initializers, layer after layer in
            /// Keras's `model.layers` order, from `rng`.
            pub fn init_weights(&mut self, rng: &mut #rt::train::Rng) {
                let _ = &rng;
                #(#steps)*
            }
        }

        #krate::__with_std! {
            #[allow(clippy::all)]
            impl #ident {
                /// [`Self::init`] on the heap (built in place, never on the stack).
                pub fn init_boxed(seed: u64) -> #rt::Box<Self> {
                    let mut model = Self::zeroed_boxed();
                    model.init_weights(&mut #rt::train::Rng::new(seed));
                    model
                }
            }
        }
    }
}
