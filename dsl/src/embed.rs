//! Code for `keras_model! { pub struct Net from "net.keras" [with weights]; }`: the file is read at
//! compile time (relative to `CARGO_MANIFEST_DIR`), its architecture becomes the declaration,
//! and `with weights` embeds its weights so that `Net::load_embedded()` needs no file system.
//! Every error is spanned on the path literal and names the saved layer it is about.

use std::path::PathBuf;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use static_keras_file::{KerasFile, LayerKey};

use crate::codegen;
use crate::import::{translate, FileDecl};
use crate::layers::{lit, rt};
use crate::parse::ModelInput;

pub fn expand(decl: FileDecl) -> TokenStream {
    match expand_checked(&decl) {
        Ok(tokens) => tokens,
        Err(messages) => {
            let file = decl.path.value();
            let errors = messages.into_iter().map(|m| {
                syn::Error::new(decl.path.span(), format!("{file}: {m}")).to_compile_error()
            });
            // The struct still exists (with no layers), so the user sees these errors only and
            // not a cascade of missing items.
            let mut fallback = codegen::expand(fallback_input(&decl));
            if decl.embed {
                let (rt, ident) = (rt(), &decl.ident);
                fallback.extend(quote! {
                    #[allow(dead_code)]
                    impl #ident {
                        pub fn load_embedded() -> ::core::result::Result<Self, #rt::Error> {
                            ::core::unreachable!()
                        }
                    }
                });
            }
            quote!(#(#errors)* #fallback)
        }
    }
}

/// An empty stand-in declaration, emitted next to the errors.
fn fallback_input(decl: &FileDecl) -> ModelInput {
    let mut input: ModelInput =
        syn::parse_quote!(struct __Fallback { input_shape: (1,), layers: [] });
    input.attrs = decl.attrs.clone();
    input.vis = decl.vis.clone();
    input.ident = decl.ident.clone();
    input
}

fn expand_checked(decl: &FileDecl) -> Result<TokenStream, Vec<String>> {
    let span = decl.path.span();
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let path = dir.join(decl.path.value());
    let bytes = std::fs::read(&path).map_err(|e| {
        vec![format!(
            "cannot read the file (paths are relative to the crate's CARGO_MANIFEST_DIR): {e}"
        )]
    })?;
    let file = KerasFile::from_bytes(bytes).map_err(|e| vec![e.to_string()])?;
    let Some(config) = file.config() else {
        return Err(vec![format!(
            "this {} holds weights only, no architecture: declare the layers inline and load it with `from_keras_file`",
            file.format().describe()
        )]);
    };
    let translation = translate(config)?;
    let (model, shapes) = translation.analyse(config)?;

    let mut input = translation
        .model_input(span)
        .map_err(|e| vec![e.to_string()])?;
    input.attrs = decl.attrs.clone();
    input.vis = decl.vis.clone();
    input.ident = decl.ident.clone();
    let mut tokens = codegen::expand(input);

    // Cargo rebuilds when the file changes; the constant itself is never used or emitted.
    let tracked = path.to_string_lossy().into_owned();
    tokens.extend(quote!(
        const _: &[u8] = ::core::include_bytes!(#tracked);
    ));

    if decl.embed {
        // The weights in the model's layer order (Keras's), as `from_le_bytes` reads them.
        let plan = crate::codegen::Plan::new(&model, &shapes);
        let keys: Vec<LayerKey> = plan
            .order
            .iter()
            .map(|&l| LayerKey {
                class: plan.spec(l).class(),
                weighted: plan.layers[l].params > 0,
            })
            .collect();
        let arrays = file.read_weights(&keys).map_err(|e| vec![e.to_string()])?;
        let mut bytes = Vec::new();
        let mut var_shapes = Vec::new();
        for (i, (&l, arrays)) in plan.order.iter().zip(&arrays).enumerate() {
            let params = plan.layers[l].params;
            let stored: usize = arrays.iter().map(|a| a.values.len()).sum();
            if stored != params {
                return Err(vec![format!(
                    "layer {i} `{}`: the file stores {stored} weight values for it but the layer has {params} parameters",
                    model.layers[l].name
                )]);
            }
            for array in arrays {
                bytes.extend(array.values.iter().flat_map(|v| v.to_le_bytes()));
                let dims = array.shape.iter().map(|&d| lit(d));
                var_shapes.push(quote!(&[#(#dims),*]));
            }
        }
        let rt = rt();
        let ident = &decl.ident;
        let len = lit(bytes.len());
        let data = Literal::byte_string(&bytes);
        let doc = format!(
            " The model with the weights of `{}`, embedded in the binary at compile time \
             (no file system needed), loaded into a model built at run time. Each variable's \
             shape is checked. Where every layer can be built by the compiler, prefer \
             `Self::EMBEDDED`, which checks and copies nothing.",
            decl.path.value()
        );
        if crate::codegen::api::const_constructor(&plan).is_some() {
            let doc = format!(
                " The model with the weights of `{}`, built by the compiler: the macro checked \
                 every shape when it read the file, so nothing is checked or copied at run \
                 time. In a `static` (`static NET: Net = Net::EMBEDDED;`) every weight stays in \
                 read-only memory (flash on a microcontroller).",
                decl.path.value()
            );
            tokens.extend(quote! {
                impl #ident {
                    #[doc = #doc]
                    pub const EMBEDDED: Self = Self::from_le_bytes_const(#data);
                }
            });
        }
        tokens.extend(quote! {
            #[allow(clippy::all)]
            impl #ident {
                #[doc = #doc]
                pub fn load_embedded() -> ::core::result::Result<Self, #rt::Error> {
                    static WEIGHTS: [u8; #len] = *#data;
                    const SHAPES: &[&[usize]] = &[#(#var_shapes),*];
                    let mut model = <Self as #rt::Model>::zeroed();
                    #rt::load_le_bytes_checked(&mut model, &WEIGHTS, SHAPES)?;
                    ::core::result::Result::Ok(model)
                }
            }
        });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Declaration;

    /// The errors for `struct Net from "<file>";`, the file relative to the repository root.
    fn errors(file: &str) -> Vec<String> {
        let text = format!("struct Net from \"../tests/fixtures/files/{file}\";");
        let Ok(Declaration::File(decl)) = syn::parse_str::<Declaration>(&text) else {
            panic!("not a file declaration")
        };
        match expand_checked(&decl) {
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        }
    }

    #[test]
    fn an_unsupported_layer_is_named() {
        let e = errors("unsupported_layer.keras");
        assert!(
            e.len() == 1
                && e[0].starts_with("layer 1 `lambda` (Lambda): static-keras has no Lambda layer (it supports Dense, "),
            "{e:?}"
        );
    }

    #[test]
    fn weights_only_files_and_non_keras_files_are_refused() {
        assert_eq!(
            errors("mlp.k3151.weights.h5"),
            ["this Keras 3 .weights.h5 holds weights only, no architecture: declare the layers inline and load it with `from_keras_file`"]
        );
        assert!(errors("mlp.x.bin")[0].starts_with("not a Keras file"));
    }

    /// What a graph file cannot be declared with is named: the layer, the raw operation, the
    /// input.
    #[test]
    fn graph_errors_name_the_layer_or_input() {
        assert_eq!(
            errors("../import/errors/unsupported_in_graph.keras")
                .iter()
                .map(|e| e.split(" (it supports").next().unwrap())
                .collect::<Vec<_>>(),
            ["layer 1 `unit` (UnitNormalization): static-keras has no UnitNormalization layer"]
        );
        assert_eq!(
            errors("../import/errors/variable_steps.keras"),
            ["input `seq`: dimension 1 of its shape (None, 3) is variable (None); static-keras needs every dimension fixed: save the model with a fixed `keras.Input(shape)`"]
        );
        for (file, what) in [
            (
                "graph/errors/raw_op.k3151.keras",
                "unsupported: `add` (Add from keras.src.ops.numpy) is a raw operation on tensors",
            ),
            (
                "graph/errors/tf_op.tf2.h5",
                "unsupported: `tf.__operators__.add` (TFOpLambda) wraps a raw TensorFlow operation",
            ),
        ] {
            let e = errors(file);
            assert!(e.len() == 1 && e[0].starts_with(what), "{file}: {e:?}");
        }
    }

    #[test]
    fn every_format_with_an_architecture_imports() {
        for file in [
            "mlp.k3151.keras",
            "mlp.k333.h5",
            "mlp.tf2.keras",
            "mlp.tf2.h5",
            "mlp.synth.h5",
            "deep12.k3151.h5",
            "branches.keras",
            "graph/resblock.tf2.keras",
            "graph/two_in.k333.h5",
            "graph/nested_fn.tf2.h5",
            "graph/lstm_state.k3151.keras",
        ] {
            assert_eq!(errors(file), Vec::<String>::new(), "{file}");
        }
    }
}
