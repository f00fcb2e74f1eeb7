//! Stage 4: the struct, its `Model` impl and its inherent API, generated from the checked model.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::check;
use crate::ctxt::Ctxt;
use crate::layers::{dims, lit, rt};
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
        // No error but no shapes cannot happen (a failed shape rule records an error); stay
        // quiet rather than panic inside the compiler.
        (Ok(()), None) => fallback(&model),
    }
}

/// After an error, the struct still exists with the API's names, so the user sees the real error
/// and not a cascade of "no function `predict`" in their own code.
fn fallback(model: &Model) -> TokenStream {
    let rt = rt();
    let Model {
        attrs, vis, ident, ..
    } = model;
    quote! {
        #(#attrs)*
        #vis struct #ident {}
        #[allow(dead_code, unused_variables, clippy::all)]
        impl #ident {
            pub const INPUT_SHAPE: &'static [usize] = &[];
            pub const OUTPUT_SHAPE: &'static [usize] = &[];
            pub const PARAMS: usize = 0;
            pub fn summary() -> &'static str { "" }
            pub fn predict(&self, input: &#rt::Tensor<1, 1>) -> #rt::Tensor<1, 1> { ::core::unreachable!() }
            pub fn input_from_slice(values: &[f32]) -> ::core::result::Result<#rt::Tensor<1, 1>, #rt::Error> { ::core::unreachable!() }
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

fn generate(model: &Model, shapes: &[Vec<usize>]) -> TokenStream {
    let rt = rt();
    let Model {
        attrs,
        vis,
        ident,
        layers,
        ..
    } = model;
    let input_shape = &shapes[0];
    let output_shape = shapes.last().expect("input shape present");
    let input_ty = tensor(input_shape);
    let output_ty = tensor(output_shape);
    let input_len = lit(input_shape.iter().product());
    let output_len = lit(output_shape.iter().product());

    let mut fields = Vec::new();
    let mut inits = Vec::new();
    let mut visits = Vec::new();
    let mut visits_mut = Vec::new();
    let mut steps = Vec::new();
    let mut rows = Vec::new();
    let mut params_total = 0usize;
    // The tensor the next layer reads: a reference expression.
    let mut current = quote!(input);
    for (i, layer) in layers.iter().enumerate() {
        let spec = layer.spec.as_ref().expect("checked models have every spec");
        let (input, output) = (&shapes[i], &shapes[i + 1]);
        let field = &layer.field;
        let ty = spec.field_type(input, output);
        let init = spec.init(input, output);
        let params = spec.params(input);
        params_total += params;
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
        let info = quote!(#rt::LayerInfo { name: #name, class: #class, config: &[#(#config),*] });
        visits.push(quote!(f(#info, &self.#field);));
        visits_mut.push(quote!(f(#info, &mut self.#field)?;));
        rows.push(Row {
            name: name.clone(),
            class,
            output: output.clone(),
            params,
        });
        if spec.identity() {
            continue;
        }
        let binding = format_ident!("__x{}", i + 1);
        let forward = spec.forward(quote!(self.#field), current.clone(), input, output);
        let out_ty = tensor(output);
        // Spanned on the layer: if the checker ever got a shape wrong, rustc's own type error
        // points at the user's layer rather than at the macro.
        steps.push(quote_spanned!(layer.span=> let #binding: #out_ty = #forward;));
        current = quote!(&#binding);
    }
    let summary = summary::render(&ident.to_string(), &rows);
    let params_total_lit = lit(params_total);
    let input_const = shape_const(input_shape);
    let output_const = shape_const(output_shape);

    quote! {
        #(#attrs)*
        #vis struct #ident {
            #(#fields,)*
        }

        #[allow(clippy::all)]
        impl #ident {
            /// The Keras input shape, without the batch axis.
            pub const INPUT_SHAPE: &'static [usize] = #input_const;
            /// The Keras output shape, without the batch axis.
            pub const OUTPUT_SHAPE: &'static [usize] = #output_const;
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

            /// One input sample from its values in Keras's row-major order.
            pub fn input_from_slice(values: &[f32]) -> ::core::result::Result<#input_ty, #rt::Error> {
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
            type InputElem = f32;
            type Output = #output_ty;
            const INPUT_SHAPE: &'static [usize] = #input_const;
            const OUTPUT_SHAPE: &'static [usize] = #output_const;
            const PARAMS: usize = #params_total_lit;
            const OUTPUT_LEN: usize = #output_len;

            fn input_from_slice(values: &[f32]) -> ::core::result::Result<#input_ty, #rt::Error> {
                if values.len() != #input_len {
                    return ::core::result::Result::Err(#rt::Error::InputLength {
                        expected: #input_len,
                        actual: values.len(),
                    });
                }
                ::core::result::Result::Ok(<#input_ty>::from_column_slice(values))
            }

            fn output_to_slice(output: &#output_ty, out: &mut [f32]) {
                out.copy_from_slice(output.as_slice());
            }

            fn predict(&self, input: &#input_ty) -> #output_ty {
                #(#steps)*
                ::core::clone::Clone::clone(#current)
            }

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
    }
}
